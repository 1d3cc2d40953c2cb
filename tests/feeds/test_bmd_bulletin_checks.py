"""What a BMD bulletin is refused for beyond each field's range (an outside tester's findings):
a second wind for one model and valid time, a JSON key given twice, JSON values of the wrong
type (`true` for a signal, `"149"` for a wind), a landfall before the issue time with nothing
observed; and a UTF-8 byte-order mark, which is read past instead of failing as "CSV"."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agam.cli.main import app
from agam.core.errors import FeedError
from hazard_feeds.bmd import BmdConfig, BmdFeed, parse_bulletin
from hazard_feeds.contract import RawArtifact

BMD_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "feeds" / "bmd"
BMD = BmdFeed(BmdConfig(interval_minutes=10))


def _doc() -> dict[str, Any]:
    return json.loads((BMD_DIR / "bulletin_remal_like.json").read_text())


def _bytes(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def _refused(content: bytes, *parts: str) -> str:
    with pytest.raises(FeedError) as caught:
        parse_bulletin(content)
    message = str(caught.value)
    assert len(message.splitlines()) == 1
    for part in parts:
        assert part in message
    return message


# --- one wind per model and valid time --------------------------------------------------------


def test_a_second_wind_for_one_model_and_time_is_refused() -> None:
    doc = _doc()
    doc["model_winds"].append(dict(doc["model_winds"][0], max_wind_kmh=300))
    _refused(
        _bytes(doc),
        "field model_winds.5.valid_time",
        "a second BMD wind for 2024-05-26T12:00:00Z",
        "model_winds.0",
    )


def test_the_same_instant_written_in_another_zone_is_the_same_time() -> None:
    doc = _doc()
    doc["model_winds"].append(dict(doc["model_winds"][0], valid_time="2024-05-26T12:00:00Z"))
    _refused(_bytes(doc), "field model_winds.5.valid_time")


def test_one_model_at_several_times_is_kept() -> None:
    doc = _doc()
    doc["model_winds"].append(dict(doc["model_winds"][0], valid_time="2024-05-27T00:00:00Z"))
    bulletin = parse_bulletin(_bytes(doc))
    assert len(bulletin.model_winds) == 6


def test_a_csv_with_the_wind_twice_is_refused() -> None:
    extra = (
        "model_winds.2.model,BMD\nmodel_winds.2.max_wind_kmh,300\n"
        "model_winds.2.averaging_minutes,3\nmodel_winds.2.valid_time,2024-05-26T18:00:00+06:00\n"
    )
    content = (BMD_DIR / "bulletin_remal_like.csv").read_bytes() + extra.encode()
    _refused(content, "field model_winds.2.valid_time", "model_winds.0")


def test_the_feed_and_the_cli_name_the_file(
    raw_of: Callable[..., RawArtifact], config_path: Path, tmp_path: Path
) -> None:
    doc = _doc()
    doc["model_winds"].append(dict(doc["model_winds"][0], max_wind_kmh=300))
    with pytest.raises(FeedError, match=r"^bmd: file:///x/dup\.json: .*model_winds\.5\."):
        BMD.parse(raw_of("bmd", _bytes(doc), "file:///x/dup.json"))
    path = tmp_path / "dup_model.json"
    path.write_bytes(_bytes(doc))
    result = CliRunner().invoke(app, ["feeds", "parse", "bmd", str(path)])
    assert result.exit_code == 5
    assert "dup_model.json" in result.stderr
    assert "model_winds.5.valid_time" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# --- JSON keys once per object ------------------------------------------------------------------


def test_a_top_level_key_given_twice_is_refused() -> None:
    text = _bytes(_doc())[:-1] + b', "issued_at": "2024-05-26T15:00:00+06:00"}'
    _refused(text, "field issued_at: key given twice")


def test_a_nested_key_given_twice_is_refused() -> None:
    text = _bytes(_doc()).replace(b'"model": "IMD"', b'"model": "IMD", "model": "BMD"', 1)
    _refused(text, "field model_winds.1.model: key given twice")


def test_a_port_given_twice_is_refused() -> None:
    text = _bytes(_doc()).replace(b'"Mongla": 10', b'"Mongla": 1, "Mongla": 10', 1)
    _refused(text, "field port_signals.Mongla: key given twice")


def test_an_unprintable_key_given_twice_stays_on_one_line() -> None:
    text = _bytes(_doc())[:-1] + b', "a\\nb": 1, "a\\nb": 2}'
    _refused(text, 'field "a\\nb": key given twice')


# --- JSON types ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "shown"),
    [
        (lambda d: d["port_signals"].update(Mongla=True), "port_signals.Mongla", "true"),
        (lambda d: d["port_signals"].update(Mongla="10"), "port_signals.Mongla", '"10"'),
        (
            lambda d: d["model_winds"][0].update(max_wind_kmh="149"),
            "model_winds.0.max_wind_kmh",
            '"149"',
        ),
        (
            lambda d: d["model_winds"][0].update(max_wind_kmh=True),
            "model_winds.0.max_wind_kmh",
            "true",
        ),
        (
            lambda d: d["model_winds"][0].update(averaging_minutes=True),
            "model_winds.0.averaging_minutes",
            "true",
        ),
        (lambda d: d["landfall"].update(lat=True), "landfall.lat", "true"),
        (lambda d: d["system"].update(lon="89.4"), "system.lon", '"89.4"'),
        (
            lambda d: d["system"].update(in_bay_of_bengal="true"),
            "system.in_bay_of_bengal",
            '"true"',
        ),
        (lambda d: d.update(issued_at=1716627600), "issued_at", "1716627600"),
    ],
    ids=[
        "signal-true",
        "signal-text",
        "wind-text",
        "wind-true",
        "averaging-true",
        "lat-true",
        "lon-text",
        "in-bay-text",
        "issued-number",
    ],
)
def test_a_json_value_of_the_wrong_type_is_refused(
    change: Callable[[dict[str, Any]], Any], field: str, shown: str
) -> None:
    doc = _doc()
    change(doc)
    _refused(_bytes(doc), f"field {field}: ", f", not {shown}")


def test_csv_cells_are_text_and_still_read_as_numbers() -> None:
    bulletin = parse_bulletin((BMD_DIR / "bulletin_remal_like.csv").read_bytes())
    assert bulletin.port_signals["Mongla"] == 10
    assert bulletin.model_winds[0].max_wind_kmh == 120


def test_a_csv_signal_of_true_is_refused() -> None:
    text = (BMD_DIR / "bulletin_remal_like.csv").read_text()
    _refused(text.replace("port_signals.Mongla,10", "port_signals.Mongla,true").encode(), "Mongla")


# --- landfall and issue time ------------------------------------------------------------------


def test_a_forecast_landfall_before_the_issue_time_is_refused() -> None:
    doc = _doc()
    doc["landfall"]["time"] = "2024-05-01T21:00:00+06:00"
    _refused(
        _bytes(doc),
        "field landfall.time",
        "2024-05-01T15:00:00Z is before issued_at 2024-05-25T09:00:00Z",
    )


def test_a_report_after_landfall_keeps_its_landfall() -> None:
    """After landfall BMD reports the crossing and the observed winds (the observational
    stage reads both): a past landfall with observed_landfall is a report, not a typo."""
    doc = _doc()
    doc["landfall"]["time"] = "2024-05-25T12:00:00+06:00"
    doc["observed_landfall"] = [{"source": "BMD", "max_wind_kmh": 111}]
    bulletin = parse_bulletin(_bytes(doc))
    assert bulletin.landfall is not None
    assert bulletin.landfall.time < bulletin.issued_at


def test_a_landfall_at_the_issue_time_is_accepted() -> None:
    doc = _doc()
    doc["landfall"]["time"] = doc["issued_at"]
    assert parse_bulletin(_bytes(doc)).landfall is not None


# --- byte-order mark ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bulletin_remal_like.json", "bulletin_remal_like.csv"])
def test_a_utf8_byte_order_mark_is_read_past(name: str) -> None:
    plain = parse_bulletin((BMD_DIR / name).read_bytes())
    marked = parse_bulletin(b"\xef\xbb\xbf" + (BMD_DIR / name).read_bytes())
    assert marked == plain


# --- ports -------------------------------------------------------------------------------------


def test_a_port_bmd_does_not_have_is_refused() -> None:
    """A rule without a `ports` filter takes the highest signal in the bulletin: an invented
    port with signal 10 would meet any signal stage."""
    doc = _doc()
    doc["port_signals"] = {"Atlantis": 10}
    _refused(_bytes(doc), "field port_signals", "unknown BMD maritime port 'Atlantis'")


def test_a_port_in_another_letter_case_is_read_as_named() -> None:
    doc = _doc()
    doc["port_signals"] = {"mongla": 7, "COX'S BAZAR": 4}
    assert parse_bulletin(_bytes(doc)).port_signals == {"Mongla": 7, "Cox's Bazar": 4}


def test_a_rule_that_names_an_unknown_port_is_refused() -> None:
    from pydantic import ValidationError

    from triggers.rules_cyclone import BmdSignal

    fields = {"id": "s", "kind": "bmd_signal", "feed": "bmd", "min_signal": 7,
              "comparison": "ge", "max_age_hours": 24}  # fmt: skip
    assert BmdSignal.model_validate(fields | {"ports": ["payra"]}).ports == ("Payra",)
    with pytest.raises(ValidationError, match="unknown BMD maritime port"):
        BmdSignal.model_validate(fields | {"ports": ["Mongla port"]})


@pytest.mark.parametrize("serial", ["", "x" * 257, "SL 12\u202e", "SL\x1b]0;x\x07"])
def test_a_serial_is_short_plain_text(serial: str) -> None:
    doc = _doc()
    doc["serial"] = serial
    _refused(_bytes(doc), "field serial")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["system"].update(name="REMAL\x00"), "system.name"),
        (lambda d: d["system"].update(name="RE\u202eLAM"), "system.name"),
        (lambda d: d["system"].update(name="REMAL\n"), "system.name"),
        (lambda d: d.update(port_signals={"Mongla\x1f": 10}), "port_signals"),
        (lambda d: d.update(port_signals={"\tPayra": 10}), "port_signals"),
    ],
    ids=["name-nul", "name-rtl-override", "name-newline", "port-unit-separator", "port-tab"],
)
def test_free_text_holds_no_control_character(
    change: Callable[[dict[str, Any]], Any], field: str
) -> None:
    """As the serial: a name shown on the dashboard and in messages must show as it is."""
    doc = _doc()
    change(doc)
    _refused(_bytes(doc), f"field {field}: ", "holds a control or text-direction character")


def test_a_csv_system_name_with_a_control_character_is_refused() -> None:
    text = (BMD_DIR / "bulletin_remal_like.csv").read_text()
    assert "system.name,REMAL" in text
    _refused(text.replace("system.name,REMAL", "system.name,RE\x00MAL").encode(), "system.name")


# --- model winds long before the issue time ----------------------------------------------------


@pytest.mark.parametrize(
    ("valid_time", "hours"),
    [("1994-05-26T18:00:00+06:00", "262,965"), ("2024-05-22T14:00:00+06:00", "73")],
)
def test_a_wind_long_before_the_issue_time_is_refused(valid_time: str, hours: str) -> None:
    doc = _doc()
    doc["model_winds"][2]["valid_time"] = valid_time
    _refused(
        _bytes(doc),
        "field model_winds.2.valid_time",
        f"is {hours} h before issued_at 2024-05-25T09:00:00Z, more than the 72 h",
    )


def test_a_recent_observed_wind_is_kept() -> None:
    doc = _doc()
    doc["model_winds"][2]["valid_time"] = "2024-05-22T15:00:00+06:00"  # 72 h before issue
    assert parse_bulletin(_bytes(doc)).model_winds[2].valid_time.isoformat()[:13] == "2024-05-22T09"
