"""FFWC: bundles of constructed API responses (real 2020 values) and the real log sheet."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agam.core.errors import FeedError
from hazard_feeds.contract import RawArtifact
from hazard_feeds.ffwc import FfwcConfig, FfwcFeed
from hazard_feeds.ffwc_logsheet import FfwcLogsheetConfig, FfwcLogsheetFeed, read_logsheet
from hazard_feeds.ffwc_records import normalise_series, normalise_stations

FOLDER = Path(__file__).resolve().parents[1] / "fixtures" / "feeds" / "ffwc"
LOGSHEET = (FOLDER / "logsheet-2020-bahadurabad.csv").read_bytes()
FEED = FfwcFeed(FfwcConfig(interval_minutes=60))


def test_bundle_with_danger_level_from_the_feed(ffwc_bundle: Callable[..., RawArtifact]) -> None:
    forecast = FEED.parse(ffwc_bundle())
    out = FEED.to_json(forecast)
    bahadurabad = out["stations"]["SW46.9L"]
    assert bahadurabad["name"] == "Bahadurabad"
    assert bahadurabad["danger_level_m"] == 19.5
    # FFWC writes Bangladesh time without an offset: 06:00 BST is 00:00 UTC.
    assert bahadurabad["observed"][0] == {"time": "2020-06-07T00:00:00Z", "water_level_m": 17.19}
    assert bahadurabad["forecast"][1] == {
        "valid_time": "2020-06-07T03:00:00Z",
        "water_level_m": 17.21,
    }
    assert len(bahadurabad["forecast"]) == 21
    assert out["issued_at"] == "2020-06-07T00:00:00Z"
    missing = {q["subject"] for q in out["quality"] if q["code"] == "missing_station"}
    assert missing == {"SW91.9R", "SW93.5L"}  # no forecast file for them in this run
    assert float(forecast.data["danger_level_m"].sel(station="SW46.9L")) == 19.5
    assert forecast.data.sizes["member"] == 1
    assert forecast.payload["danger_levels_m"] == {"SW46.9L": 19.5}


def test_stored_bundle_fixture_parses(raw_of: Callable[..., RawArtifact]) -> None:
    forecast = FEED.parse(raw_of("ffwc", (FOLDER / "bundle-20200607.json").read_bytes()))
    assert list(forecast.data["station"].values) == ["SW46.9L"]


def test_legacy_field_names(ffwc_bundle: Callable[..., RawArtifact]) -> None:
    forecast = FEED.parse(ffwc_bundle("stations-legacy.json"))
    assert forecast.payload["danger_levels_m"] == {"SW46.9L": 19.5}


@pytest.mark.parametrize(
    "record",
    [
        {"id": 46, "station": "Bahadurabad", "dl": "19.50", "lat": "25.15", "long": "89.70"},
        {"st_id": "46", "name": "Bahadurabad", "dangerlevel": 19.5, "latitude": 25.15},
        {"station_id": 46, "station_name": "Bahadurabad", "danger_level": " 19.5 "},
    ],
)
def test_station_variants(record: dict[str, Any]) -> None:
    [station] = normalise_stations([record])
    assert (station["ffwc_id"], station["name"], station["danger_level_m"]) == (
        "46",
        "Bahadurabad",
        19.5,
    )


@pytest.mark.parametrize(
    "body",
    [
        [{"fc_date": "2020-06-07T00:00:00Z", "waterlevel": "17.19"}],
        [{"date": "2020-06-07T06:00:00", "wl": 17.19}],
        [{"fc_date": "2020-06-07T06:00:00+06:00", "water_level": "17.19"}],
        {"results": [{"wl_date": "2020-06-07T06:00:00", "waterlevel": "17.19"}]},
    ],
)
def test_series_variants(body: Any) -> None:
    [(when, level)] = normalise_series(body, "forecast")
    assert when.isoformat() == "2020-06-07T00:00:00+00:00"
    assert level == 17.19


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            {"stations": '[{"id": 46, "station": "Bahadurabad", "danger": "19.5"}]'},
            "stations-2025/?format=json record 0: missing field dl "
            "(also accepted: dangerlevel, danger_level)",
        ),
        (
            {
                "forecast": '[{"fc_date": "2020-06-07T06:00:00", "waterlevel": "17.2"}, '
                '{"fc_date": "07/06/2020", "waterlevel": "17.2"}]'
            },
            "seven-days-forecast-waterlevel-by-station/46/ record 1 field fc_date: "
            "'07/06/2020' is not ISO-8601",
        ),
        (
            {"forecast": '[{"fc_date": "2020-06-07T06:00:00", "level": "17.2"}]'},
            "seven-days-forecast-waterlevel-by-station/46/ record 0: missing field waterlevel",
        ),
        (
            {"forecast": '{"unexpected": true}'},
            "seven-days-forecast-waterlevel-by-station/46/ has an unknown schema",
        ),
        ({"forecast": '["17.2"]'}, "by-station/46/ record 0 is a str, not an object"),
        (
            {"forecast": '[{"fc_date": "2020-06-07T06:00:00", "waterlevel": 1e308}]'},
            "by-station/46/ record 0 field waterlevel: 1e+308 is outside the physical range",
        ),
    ],
)
def test_rejects_everything_else(
    override: dict[str, str], message: str, ffwc_bundle: Callable[..., RawArtifact]
) -> None:
    """Bahadurabad is the only followed station with a forecast in the fixture: when its data
    is bad, nothing usable is left and the whole run is refused, naming file and field."""
    with pytest.raises(FeedError) as caught:
        FEED.parse(ffwc_bundle(**override))
    text = str(caught.value)
    assert message in text
    assert text.startswith("ffwc: https://api.ffwc.gov.bd/data_load/")  # the file, then field
    assert "no followed station is usable" in text


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"observed": "[{"}, "observed/: not valid JSON"),
        (
            {
                "observed": '[{"name": "Bahadurabad", "wl_date": "2020-06-07T06:00:00", '
                '"waterlevel": "NaN"}]'
            },
            "observed/ record 0 field waterlevel: 'NaN' is not a finite number",
        ),
    ],
)
def test_bad_observed_levels_make_the_run_partial(
    override: dict[str, str], message: str, ffwc_bundle: Callable[..., RawArtifact]
) -> None:
    forecast = FEED.parse(ffwc_bundle(**override))
    [issue] = [q for q in forecast.quality if q.subject == "observed"]
    assert issue.code == "partial"
    assert message in issue.message
    assert list(forecast.data["station"].values) == ["SW46.9L"]  # the forecast still counts
    assert not forecast.complete


def test_a_bad_record_of_another_station_does_not_sink_the_list(
    ffwc_bundle: Callable[..., RawArtifact],
) -> None:
    stations = (
        '[{"id": 46, "station": "Bahadurabad", "dl": "19.5"}, '
        '{"id": 93, "station": "Goalondo", "dangerlevel": "high"}]'
    )
    forecast = FEED.parse(ffwc_bundle(stations=stations))
    assert list(forecast.data["station"].values) == ["SW46.9L"]
    goalundo = next(q for q in forecast.quality if q.subject == "SW91.9R")
    assert goalundo.code == "missing_station"
    assert "record 1 field dangerlevel: 'high' is not a number" in goalundo.message
    with pytest.raises(FeedError, match="record 1 field dangerlevel: 'high' is not a number"):
        normalise_stations(json.loads(stations), "stations")  # the strict reader still says it


def test_not_a_bundle(raw_of: Callable[..., RawArtifact]) -> None:
    with pytest.raises(FeedError, match="ffwc_logsheet"):
        FEED.parse(raw_of("ffwc", LOGSHEET))


def test_station_found_by_numeric_id_or_alias(ffwc_bundle: Callable[..., RawArtifact]) -> None:
    feed = FfwcFeed(
        FfwcConfig(
            interval_minutes=60,
            stations=({"code": "SW46.9L", "name": "Bahadurabad Ghat", "ffwc_id": 46},),
        )
    )
    assert list(feed.parse(ffwc_bundle()).data["station"].values) == ["SW46.9L"]


# --- the real FFWC 2020 forecast log sheet (title line, multi-line quoted headers, Dhaka time)


def test_logsheet_real_file(raw_of: Callable[..., RawArtifact]) -> None:
    feed = FfwcLogsheetFeed(FfwcLogsheetConfig(enabled=False))
    forecast = feed.parse(raw_of("ffwc_logsheet", LOGSHEET))
    assert forecast.issued_at.isoformat() == "2020-06-07T00:00:00+00:00"  # 07/06 06:00 BST
    assert float(forecast.data["danger_level_m"].sel(station="SW46.9L")) == 19.5
    levels = forecast.data["water_level_m"].sel(station="SW46.9L", member=0).to_series()
    assert len(levels) == 21  # 07/06 06:00 .. 11/06 06:00, 3-hourly by day
    assert levels.iloc[-1] == 17.26
    out = feed.to_json(forecast)
    station = out["stations"]["SW46.9L"]
    assert station["fbf_danger_level_m"] == 20.35
    assert station["observed"][0] == {"time": "2020-06-01T00:00:00Z", "water_level_m": 18.09}
    assert forecast.payload["stations"]["SW46.9L"]["river"] == "Jamuna"
    assert forecast.payload["stations"]["SW46.9L"]["record_high_m"] == 21.16


def test_logsheet_headers_span_lines() -> None:
    sheet = read_logsheet(LOGSHEET)
    assert set(sheet) == {"Bahadurabad"}
    assert sheet["Bahadurabad"]["notes"][0][1] == "No Flood next 10 days"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("just,some,csv\n1,2,3\n", "no header row starting with 'Date'"),
        ("Date,Observed Water Level Today\n", "header lacks column(s): forecast water level"),
        (
            "T,,,,\nDate,Observed Water Level Today,Forecast Water Level Next 5 days,"
            '"Danger Level\n(mPWD)",Station & River Name\n2020-06-01 06:00,1,2,3,"A, B"\n',
            "row 3 column 'Date': '2020-06-01 06:00' is not dd/mm/yyyy HH:MM",
        ),
        (
            "Date,Observed Water Level Today,Forecast Water Level Next 5 days,"
            '"Danger Level\n(mPWD)",Station & River Name\n01/06/2020 06:00,high,2,3,"A, B"\n',
            "column 'observed water level': 'high' is not a number",
        ),
    ],
)
def test_logsheet_rejections(text: str, message: str) -> None:
    with pytest.raises(FeedError) as caught:
        read_logsheet(text.encode())
    assert message in str(caught.value)


def test_logsheet_fetch_from_folder(tmp_path: Path) -> None:
    (tmp_path / "2020.csv").write_bytes(LOGSHEET)
    feed = FfwcLogsheetFeed(FfwcLogsheetConfig(enabled=False, path=tmp_path))
    raw = feed.fetch(None, None)
    assert raw.content == LOGSHEET
    assert feed.fetch(None, raw).not_modified
    assert json.dumps(feed.to_json(feed.parse(raw)))  # JSON-ready


# --- a value given twice: refused, never "the last one wins" (red-team findings) --------------

STATIONS = (FOLDER / "stations-2025.json").read_text()
FORECAST = (FOLDER / "forecast-SW46.9L.json").read_text()


def test_a_key_given_twice_in_a_record_is_refused(ffwc_bundle: Callable[..., RawArtifact]) -> None:
    stations = STATIONS.replace('"dl": "19.50",', '"dl": "19.50", "dl": "5.00",', 1)
    with pytest.raises(FeedError, match=r"field 0\.dl: key given twice in one object"):
        FEED.parse(ffwc_bundle(stations=stations))


def test_a_station_id_listed_twice_with_other_values_is_unusable(
    ffwc_bundle: Callable[..., RawArtifact],
) -> None:
    listed = json.loads(STATIONS)
    stations = json.dumps([dict(listed[0], dl="5.00"), *listed])  # which danger level holds?
    with pytest.raises(FeedError) as caught:
        FEED.parse(ffwc_bundle(stations=stations))
    assert "records 0, 1 field id: station '46' is listed 2 times with different values" in str(
        caught.value
    )
    again = json.dumps([*listed, listed[0]])  # repeated as it was: harmless
    assert list(FEED.parse(ffwc_bundle(stations=again)).data["station"].values) == ["SW46.9L"]


def test_a_forecast_time_given_twice_with_two_levels_is_refused(
    ffwc_bundle: Callable[..., RawArtifact],
) -> None:
    records = json.loads(FORECAST)
    body = [*records, dict(records[3], waterlevel="25.00")]
    with pytest.raises(FeedError, match=r"record 21 field waterlevel: .* given twice, as 17\.24"):
        normalise_series(body, "forecast")
    with pytest.raises(FeedError, match=r"Bahadurabad .*: forecast unusable .*25 m here"):
        FEED.parse(ffwc_bundle(forecast=json.dumps(body)))  # the only followed station
    assert len(normalise_series([*records, records[3]], "forecast")) == len(records)


def test_a_bundle_part_given_twice_is_refused(ffwc_bundle: Callable[..., RawArtifact]) -> None:
    doc = json.loads(ffwc_bundle().content)
    doc["parts"].append(dict(doc["parts"][0], body="[]"))
    with pytest.raises(FeedError, match=r"bundle parts\[3\]\.name: 'stations' twice"):
        FEED.parse(_raw(json.dumps(doc).encode()))


def _raw(content: bytes) -> RawArtifact:
    fetched = datetime(2020, 6, 7, 4, tzinfo=UTC)
    return RawArtifact("ffwc", "file:///bundle.json", content, "0" * 64, fetched)


LAST_ROW = '"Bahadurabad, Jamuna",,\n'


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            f"12/06/2020 06:00,,,5.00,20.35,21.16,{LAST_ROW}",
            "column 'danger level': 5 for Bahadurabad, but row 3 gives 19.5",
        ),
        (
            f"07/06/2020 06:00,17.19,25.00,19.50,20.35,21.16,{LAST_ROW}",
            "column 'forecast water level': 25 for Bahadurabad at 07/06/2020 00:00 UTC, but row",
        ),
    ],
)
def test_logsheet_a_second_value_for_one_thing_is_refused(row: str, message: str) -> None:
    with pytest.raises(FeedError) as caught:
        read_logsheet(LOGSHEET + b"\n" + row.encode())
    assert message in str(caught.value)


# --- a danger level at or below the datum would make a trigger fire at every level -------------


@pytest.mark.parametrize("danger", ["-19.5", "0", "0.0"])
def test_a_danger_level_at_or_below_the_datum_makes_the_station_missing(
    danger: str, ffwc_bundle: Callable[..., RawArtifact]
) -> None:
    listed = json.loads(STATIONS)
    listed[1]["dl"] = danger  # Goalondo, a followed station
    forecast = FEED.parse(ffwc_bundle(stations=json.dumps(listed)))
    assert list(forecast.data["station"].values) == ["SW46.9L"]  # the run goes on
    goalundo = next(q for q in forecast.quality if q.subject == "SW91.9R")
    assert goalundo.code == "missing_station"
    assert f"record 1 field dl: {float(danger):g} is outside the physical range 0.5..200 " in (
        goalundo.message
    )
    assert "(danger_level_m)" in goalundo.message
    with pytest.raises(FeedError, match=r"record 1 field dl: .* \(danger_level_m\)"):
        normalise_stations(listed, "stations")


def test_the_real_danger_levels_pass_with_margin() -> None:
    levels = [s["danger_level_m"] for s in normalise_stations(json.loads(STATIONS))]
    assert min(levels) == 6.11  # Mawa: ten times the 0.5 m floor


@pytest.mark.parametrize(
    ("levels", "message"),
    [
        ("-19.50,", "column 'danger level': -19.5 is outside the physical range 0.5..200"),
        ("8.65,-1", "column 'fbf danger level': -1 is outside the physical range 0.5..200"),
    ],
    ids=["danger", "fbf_danger"],
)
def test_logsheet_a_danger_level_below_the_datum_makes_the_station_missing(
    levels: str, message: str, raw_of: Callable[..., RawArtifact]
) -> None:
    goalondo = f'07/06/2020 06:00,8.10,8.20,{levels},,"Goalondo, Padma",,\n'
    feed = FfwcLogsheetFeed(FfwcLogsheetConfig(enabled=False))
    forecast = feed.parse(raw_of("ffwc_logsheet", LOGSHEET + b"\n" + goalondo.encode()))
    assert list(forecast.data["station"].values) == ["SW46.9L"]  # Bahadurabad still counts
    [missing] = [q for q in forecast.quality if q.code == "missing_station"]
    assert missing.subject == "Goalondo"
    assert message in missing.message


def test_logsheet_with_no_usable_danger_level_is_refused(
    raw_of: Callable[..., RawArtifact],
) -> None:
    feed = FfwcLogsheetFeed(FfwcLogsheetConfig(enabled=False))
    sheet = LOGSHEET.replace(b",19.50,", b",-19.50,")
    with pytest.raises(
        FeedError, match=r"no station in the sheet is usable \(Bahadurabad .*-19\.5"
    ):
        feed.parse(raw_of("ffwc_logsheet", sheet))
