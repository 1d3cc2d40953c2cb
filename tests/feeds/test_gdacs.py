"""GDACS on the real captured payloads (event list + getgeometry of GENEVIEVE-26)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import shapely

from agam.core.errors import FeedError
from hazard_feeds.bundle import Part, make_bundle
from hazard_feeds.contract import RawArtifact
from hazard_feeds.gdacs import GdacsConfig, GdacsFeed, relevant_events

FEED = GdacsFeed(GdacsConfig(interval_minutes=30))


def test_real_geometry(gdacs_geometry: bytes, raw_of: Callable[..., RawArtifact]) -> None:
    forecast = FEED.parse(raw_of("gdacs", gdacs_geometry))
    out = FEED.to_json(forecast)
    assert (out["event_id"], out["name"]) == (1001296, "GENEVIEVE-26")
    # The advisory time (polygondate on the track), not the record's edit (03:23:23).
    assert out["issued_at"] == "2026-07-28T03:00:00Z"
    assert (out["alert_level"], out["alert_score"]) == ("Green", 1.0)
    assert len(out["track"]) == 23
    first, last = out["track"][0], out["track"][-1]
    assert first == {
        "valid_time": "2026-07-24T15:00:00Z",
        "lat": 9.0,
        "lon": -100.5,
        "max_wind_kmh": None,  # GDACS has no per-point wind here: unknown, never invented
        "category": None,  # no segment ends at the first point
        "forecast": False,
    }
    # A segment's flag and category belong to its END point.
    assert last == last | {"valid_time": "2026-08-02T00:00:00Z", "category": "TS"}
    assert last["forecast"] is True
    advisory = next(p for p in out["track"] if p["valid_time"] == "2026-07-28T03:00:00Z")
    assert (advisory["forecast"], advisory["category"]) == (False, "HU")
    assert [p["forecast"] for p in out["track"]] == [False] * 15 + [True] * 8
    assert {b["wind_kmh"] for b in out["wind_bands"]} == {60.0, 90.0, 120.0}
    assert all(b["geometry"]["type"] in ("Polygon", "MultiPolygon") for b in out["wind_bands"])
    assert out["wind_bands"][0]["valid_time"].endswith("Z")
    assert len(out["cone"]) == 1
    assert any(q["code"] == "partial" for q in out["quality"])
    assert json.dumps(out)  # JSON-ready as is


def test_zero_area_bands_dropped(gdacs_geometry: bytes, raw_of: Callable[..., RawArtifact]) -> None:
    forecast = FEED.parse(raw_of("gdacs", gdacs_geometry))
    bands = forecast.footprints
    assert forecast.payload["dropped_zero_area"] == 5  # 30 band polygons, 5 of zero area
    assert (bands["kind"] == "wind_band").sum() == 22  # one per colour and timestep
    assert (bands["kind"] == "wind_swath").sum() == 3  # one per colour for the whole track
    assert all(g.area > 0 for g in bands.geometry)
    assert str(bands.crs) == "EPSG:4326"
    assert set(bands["kind"]) == {"wind_band", "wind_swath", "cone"}
    timestep = bands[bands["kind"] == "wind_band"]
    assert (timestep["valid_time"] == timestep["valid_to"]).all()
    swaths = bands[bands["kind"] != "wind_band"]
    assert {str(t) for t in swaths["valid_time"]} == {"2026-07-28 03:00:00+00:00"}
    assert {str(t) for t in swaths["valid_to"]} == {"2026-08-02 00:00:00+00:00"}


def test_track_dataset(gdacs_geometry: bytes, raw_of: Callable[..., RawArtifact]) -> None:
    data = FEED.parse(raw_of("gdacs", gdacs_geometry)).data
    assert dict(data.sizes) == {"model": 1, "valid_time": 23}
    assert set(data.data_vars) == {"lat", "lon", "max_wind_kmh"}


def test_filters_bangladesh_and_bay_of_bengal(gdacs_eventlist: dict[str, Any]) -> None:
    names = [e["eventname"] for e in relevant_events(gdacs_eventlist, FEED.config)]
    assert "DITWAH-25" in names
    assert "MONTHA-25" in names
    assert "GENEVIEVE-26" not in names  # eastern Pacific


def test_bangladesh_by_country_even_outside_the_box(gdacs_eventlist: dict[str, Any]) -> None:
    feature = next(
        f for f in gdacs_eventlist["features"] if f["properties"]["eventname"] == "GENEVIEVE-26"
    )
    feature["properties"]["affectedcountries"] = [{"iso3": "BGD", "countryname": "Bangladesh"}]
    feature["properties"]["iscurrent"] = "true"
    hits = relevant_events(gdacs_eventlist, FEED.config)
    assert hits[0]["eventname"] == "GENEVIEVE-26"


def test_bundle_without_relevant_event(
    gdacs_eventlist: dict[str, Any], raw_of: Callable[..., RawArtifact]
) -> None:
    from datetime import UTC, datetime

    raw = make_bundle(
        "gdacs",
        [Part("eventlist", "https://gdacs/list", json.dumps(gdacs_eventlist))],
        datetime(2026, 7, 28, tzinfo=UTC),
    )
    forecast = FEED.parse(raw)
    assert len(forecast.footprints) == 0
    assert FEED.to_json(forecast)["track"] == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"type": "Feature"}', r"features: missing or not a list \(unknown schema\)"),
        (b'{"type": "FeatureCollection", "features": [}', "not valid JSON"),
        (
            b'{"type": "FeatureCollection", "features": [42]}',
            r"features\[0\]: an int, not a feature",
        ),
    ],
)
def test_unknown_schema(raw_of: Callable[..., RawArtifact], content: bytes, message: str) -> None:
    with pytest.raises(FeedError, match=message):
        FEED.parse(raw_of("gdacs", content))


def test_event_list_rejects_bad_ids(gdacs_eventlist: dict[str, Any]) -> None:
    gdacs_eventlist["features"][0]["properties"]["eventid"] = "1; DROP"
    with pytest.raises(FeedError, match="feature 0 field eventid is not a number"):
        relevant_events(gdacs_eventlist, FEED.config)


# --- red-team findings: each was a traceback, or a value silently taken -----------------------


def _bay_list(gdacs_eventlist: dict[str, Any]) -> dict[str, Any]:
    """The real event list with its first event moved into the Bay of Bengal."""
    first = gdacs_eventlist["features"][0]
    first["geometry"], first["bbox"] = {"type": "Point", "coordinates": [89.5, 21.5]}, None
    return gdacs_eventlist


def test_an_event_placed_by_a_multipoint_is_no_index_error(
    gdacs_eventlist: dict[str, Any],
) -> None:
    listing = _bay_list(gdacs_eventlist)
    listing["features"][0]["geometry"] = {"type": "MultiPoint", "coordinates": [[89.5, 21.5]]}
    hits = [p["eventid"] for p in relevant_events(listing, FEED.config)]  # was an IndexError
    assert 1001296 not in hits  # placed by no point: judged by its countries and box only


@pytest.mark.parametrize("eventid", ["\u00b2\u00b3", "9" * 5000])
def test_an_event_id_int_cannot_read_is_refused(
    gdacs_eventlist: dict[str, Any], eventid: str
) -> None:
    listing = _bay_list(gdacs_eventlist)
    listing["features"][0]["properties"]["eventid"] = eventid
    with pytest.raises(FeedError, match="feature 0 field eventid is not a number"):
        relevant_events(listing, FEED.config)


def test_a_country_code_that_is_a_list_is_refused(gdacs_eventlist: dict[str, Any]) -> None:
    gdacs_eventlist["features"][3]["properties"]["affectedcountries"] = [{"iso3": ["BGD"]}]
    with pytest.raises(FeedError, match=r"features\[3\]\.properties\.affectedcountries\[0\]"):
        relevant_events(gdacs_eventlist, FEED.config)


def _geometry(gdacs_geometry: bytes) -> dict[str, Any]:
    return json.loads(gdacs_geometry)  # type: ignore[no-any-return]


def _first(doc: dict[str, Any], prefix: str) -> int:
    return next(
        i for i, f in enumerate(doc["features"]) if f["properties"]["Class"].startswith(prefix)
    )


def test_a_key_given_twice_is_refused(
    gdacs_geometry: bytes, raw_of: Callable[..., RawArtifact]
) -> None:
    text = gdacs_geometry.replace(
        b'"polygondate":', b'"polygondate":"2026-07-20T00:00:00","polygondate":', 1
    )
    with pytest.raises(FeedError, match=r"properties\.polygondate: key given twice"):
        FEED.parse(raw_of("gdacs", text))


def test_an_event_id_that_is_a_list_is_refused(
    gdacs_geometry: bytes, raw_of: Callable[..., RawArtifact]
) -> None:
    doc = _geometry(gdacs_geometry)
    doc["features"][0]["properties"]["eventid"] = ["1001296"]
    with pytest.raises(FeedError, match=r"features\[0\]\.properties\.eventid: \['1001296'\]"):
        FEED.parse(raw_of("gdacs", json.dumps(doc).encode()))


def test_a_self_intersecting_band_is_repaired_and_said(
    gdacs_geometry: bytes, raw_of: Callable[..., RawArtifact]
) -> None:
    """A band whose ring crosses itself (a bowtie: signed area 0, so it was dropped as not
    reaching anywhere) is kept as the two areas it draws, and the forecast says so. Refusing
    it would drop a cyclone's whole advisory for a drawing fault."""
    doc = _geometry(gdacs_geometry)
    index = _first(doc, "Poly_Red")
    bowtie = [[88, 21], [92, 25], [92, 21], [88, 25], [88, 21]]
    doc["features"][index]["geometry"] = {"type": "Polygon", "coordinates": [bowtie]}
    forecast = FEED.parse(raw_of("gdacs", json.dumps(doc).encode()))
    bands = forecast.footprints
    assert all(g.is_valid and g.area > 0 for g in bands.geometry)
    assert bands.geometry.intersects(shapely.Point(89, 23)).any()  # inside the left triangle
    notes = [q for q in forecast.quality if q.code == "repaired"]
    [note] = notes
    assert f"features[{index}] (Poly_Red: Self-intersection" in note.message
    assert len(forecast.payload["repaired_bands"]) == 1


def test_two_positions_for_one_track_time_are_refused(
    gdacs_geometry: bytes, raw_of: Callable[..., RawArtifact]
) -> None:
    doc = _geometry(gdacs_geometry)
    points = [f for f in doc["features"] if f["properties"]["Class"].startswith("Point_Polygon")]
    points[1]["properties"]["key"] = points[0]["properties"]["key"]
    with pytest.raises(FeedError, match=r"properties\.key: a second track position for 2026-"):
        FEED.parse(raw_of("gdacs", json.dumps(doc).encode()))


@pytest.mark.parametrize("cls", ["Poly_Red", "Poly_Cones"])
def test_a_band_drawn_the_wrong_way_round_the_antimeridian_is_refused(
    gdacs_geometry: bytes, raw_of: Callable[..., RawArtifact], cls: str
) -> None:
    """-179..179 is valid to shapely and covers Bangladesh: a cyclone's band drawn across the
    antimeridian the long way round, which would put every union under the cyclone."""
    doc = _geometry(gdacs_geometry)
    index = _first(doc, cls)
    wrong_way = [[-179, 20], [179, 20], [179, 26], [-179, 26], [-179, 20]]
    doc["features"][index]["geometry"] = {"type": "Polygon", "coordinates": [wrong_way]}
    assert shapely.Polygon(wrong_way).is_valid
    assert shapely.Polygon(wrong_way).covers(shapely.Point(90, 23))
    with pytest.raises(FeedError) as caught:
        FEED.parse(raw_of("gdacs", json.dumps(doc).encode()))
    assert f"features[{index}].geometry ({cls}): a polygon spans 358° of longitude" in str(
        caught.value
    )


def test_a_band_split_at_the_antimeridian_is_kept(
    gdacs_geometry: bytes, raw_of: Callable[..., RawArtifact]
) -> None:
    """Split as GeoJSON asks (one part each side of 180°): each polygon is narrow, kept."""
    doc = _geometry(gdacs_geometry)
    index = _first(doc, "Poly_Red")
    east = [[178, 20], [180, 20], [180, 22], [178, 22], [178, 20]]
    west = [[-180, 20], [-178, 20], [-178, 22], [-180, 22], [-180, 20]]
    doc["features"][index]["geometry"] = {"type": "MultiPolygon", "coordinates": [[east], [west]]}
    bands = FEED.parse(raw_of("gdacs", json.dumps(doc).encode())).footprints
    assert bands.geometry.intersects(shapely.Point(179, 21)).any()
    assert not bands.geometry.intersects(shapely.Point(90, 21)).any()
