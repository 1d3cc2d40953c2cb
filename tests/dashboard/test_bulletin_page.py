"""The officers' BMD form writes a bulletin the BMD feed parses; others cannot use it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from streamlit.testing.v1 import AppTest

from agam.core.timeutil import utc_now
from hazard_feeds.bmd import parse_bulletin
from store import feed_repo
from store.db import Store


def test_officer_enters_a_bulletin(
    view: Callable[..., AppTest], config_path: Path, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    _with_drop(config_path, drop)
    at = view("bulletin.py", "officer")
    assert not at.exception, at.exception
    at.text_input(key="b_serial").input("SL. NO. 05")
    at.date_input(key="b_day").set_value(utc_now().date() - timedelta(days=1))
    at.selectbox(key="b_system").select("depression")
    at.number_input(key="b_mongla").set_value(7)
    at.number_input(key="b_w_BMD").set_value(130)
    at.number_input(key="b_w_JTWC").set_value(125)
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert "Saved as" in at.success[0].value
    files = list(drop.glob("*.json"))
    assert len(files) == 1
    bulletin = parse_bulletin(files[0].read_bytes())
    assert bulletin.port_signals == {"Mongla": 7}
    assert {w.model: w.max_wind_kmh for w in bulletin.model_winds} == {"BMD": 130, "JTWC": 125}


def test_committee_cannot_enter_bulletins(view: Callable[..., AppTest]) -> None:
    at = view("bulletin.py", "committee")
    assert "does not give access" in at.error[0].value.replace("\\", "")
    assert not at.button


def _with_drop(config_path: Path, drop: Path) -> None:
    config_path.write_text(
        config_path.read_text()
        + (f"\n[feeds.bmd]\ninterval_minutes = 10\ndrop_folder = '{drop}'\n"),
        encoding="utf-8",
    )


def _enter(at: AppTest, day: date, past_ok: bool = False) -> AppTest:
    at.text_input(key="b_serial").input("SL. NO. 05")
    at.date_input(key="b_day").set_value(day)
    at.number_input(key="b_w_BMD").set_value(130)
    if past_ok:
        at.checkbox(key="b_past").check()
    return at.button[0].click().run()


def test_a_bulletin_dated_ahead_of_now_is_not_saved(
    view: Callable[..., AppTest], config_path: Path, tmp_path: Path
) -> None:
    """The feed run would refuse it; the officer is told now, not after "Saved"."""
    _with_drop(config_path, tmp_path / "drop")
    at = _enter(view("bulletin.py", "officer", lang="bn"), utc_now().date() + timedelta(days=2))
    assert not at.exception, at.exception
    assert not at.success
    assert "এখনকার" in at.error[0].value  # "later than now", in Bangla
    assert not list((tmp_path / "drop").glob("*.json"))


def test_a_bulletin_older_than_the_one_in_force_needs_past_ticked(
    view: Callable[..., AppTest], accounts: Store, config_path: Path, tmp_path: Path
) -> None:
    """A tired officer leaves yesterday's date: it would be stored and never used."""
    drop = tmp_path / "drop"
    _with_drop(config_path, drop)
    in_force = datetime(2026, 5, 21, 3, 0, tzinfo=UTC)  # 09:00 Bangladesh time
    with accounts.session() as session:
        feed_repo.add_forecast(session, feed_repo.NewForecast(
            feed_id="bmd", kind="bulletin", issued_at=in_force, fetched_at=in_force,
            source_uri="file:///drop/sl-04.json", raw_sha256="b" * 64, raw_path="raw/b",
            processed_path=None, complete=True, quality=[], summary={}))  # fmt: skip
    at = _enter(view("bulletin.py", "officer"), date(2026, 5, 20))
    assert not at.success
    assert "before the bulletin in force (issued 21 May 2026, 09:00" in at.error[0].value.replace(
        "\\", ""
    )
    assert not list(drop.glob("*.json"))

    at = _enter(at, date(2026, 5, 20), past_ok=True)
    assert "Saved as" in at.success[0].value
    assert len(list(drop.glob("*.json"))) == 1
