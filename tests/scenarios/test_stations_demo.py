"""The flood demo's Stations page draws what a hydrologist needs: the GloFAS fan with the
labelled trigger threshold, the daily exceedance with the 50 % line inside the lead window,
and FFWC observed then forecast levels crossing danger level + 0.85 m on a fitted axis."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from store.user_repo import add_user

STATIONS = Path(__file__).resolve().parents[2] / "dashboard" / "views" / "stations.py"


def _chart(proto: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A Vega-Lite chart's spec and the rows of all its datasets."""
    rows: list[dict[str, Any]] = []
    for dataset in proto.datasets:
        rows += pa.ipc.open_stream(dataset.data.data).read_all().to_pylist()
    return json.loads(proto.spec), rows


def _labels(rows: list[dict[str, Any]]) -> set[str]:
    return {str(r["label"]) for r in rows if r.get("label")}


@pytest.fixture
def stations_page(flood_site: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("AGAM_CONFIG", str(flood_site.config))
    monkeypatch.setenv("AGAM_TEST_IDENTITY", "1")
    monkeypatch.setenv("AGAM_TEST_PASSWORD", "a long password")  # the seam signs in with it
    with flood_site.ctx.store.session() as session:
        from store.models import User

        if session.query(User).filter_by(username="dc.stations").first() is None:
            add_user(
                session,
                username="dc.stations",
                role="district_admin",
                districts=["BD5549"],
                password="a long password",
                display_name="DC",
                at=datetime(2026, 7, 1, tzinfo=UTC),
            )
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(STATIONS), default_timeout=120)
    at.session_state["test_username"] = "dc.stations"
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception, at.exception
    return at


def test_flood_demo_stations_show_fan_threshold_50_percent_and_the_crossing(
    stations_page: AppTest,
) -> None:
    charts = [_chart(c.proto) for c in stations_page.get("vega_lite_chart")]  # type: ignore[attr-defined]
    fan_spec, fan_rows = charts[0]
    bands = {tuple(sorted(k for k in r if k in ("min", "max", "q10", "q25", "q75", "q90")))
             for r in fan_rows if "q10" in r}  # fmt: skip
    assert bands == {("max", "min", "q10", "q25", "q75", "q90")}
    marks = json.dumps(fan_spec)
    assert '"q10"' in marks
    assert '"q90"' in marks
    assert '"median"' in marks
    assert "readiness threshold 1,00,000 m³/s" in _labels(fan_rows)
    assert any(label.startswith("10-year return period") for label in _labels(fan_rows))
    assert not any(str(m).startswith("m") and str(m)[1:].isdigit() for m in marks.split('"'))

    _bars_spec, bars_rows = charts[1]
    assert "50% of members" in _labels(bars_rows)
    assert "Lead window of the rule" in _labels(bars_rows)
    assert {r["day_state"] for r in bars_rows if "day_state" in r} >= {"above"}

    level_spec, level_rows = next(
        c for c in charts[2:] if "action trigger: danger level + 0.85 m = 20.35 m" in _labels(c[1])
    )
    labels = _labels(level_rows)
    assert "Danger level 19.50 m" in labels
    assert "crosses the trigger level" in labels  # the forecast reaches DL + 0.85 m
    series = {r.get("series") for r in level_rows}
    assert {"Observed", "Forecast"} <= series
    observed = [r for r in level_rows if r.get("series") == "Observed"]
    assert len(observed) > 10  # days of observed levels before the forecast
    domain = json.dumps(level_spec)
    low = min(float(r["water_level_m"]) for r in level_rows if "water_level_m" in r)
    assert low > 15  # Bahadurabad levels: the axis must not start at 0 m
    assert '"zero": false' in domain
