"""The officers' BMD form writes a bulletin the BMD feed parses; others cannot use it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from hazard_feeds.bmd import parse_bulletin


def test_officer_enters_a_bulletin(
    view: Callable[..., AppTest], config_path: Path, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    config_path.write_text(
        config_path.read_text()
        + (f"\n[feeds.bmd]\ninterval_minutes = 10\ndrop_folder = '{drop}'\n"),
        encoding="utf-8",
    )
    at = view("bulletin.py", "officer")
    assert not at.exception, at.exception
    at.text_input(key="b_serial").input("SL. NO. 05")
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
    assert "does not give access" in at.error[0].value
    assert not at.button
