"""GloFAS: the constructed EWDS-layout netCDF fixtures, other layouts, quality, fetch."""

from __future__ import annotations

import io
import sys
import tempfile
import types
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from agam.core.errors import FeedError
from hazard_feeds.contract import RawArtifact
from hazard_feeds.feed_configs import DEFAULT_POINTS
from hazard_feeds.glofas import GlofasConfig, GlofasFeed

FOLDER = Path(__file__).resolve().parents[1] / "fixtures" / "feeds" / "glofas"
FULL = (FOLDER / "glofas_fc_20200625.nc").read_bytes()
PARTIAL = (FOLDER / "glofas_fc_20200625_40members.nc").read_bytes()
JAMUNA = {
    k: v for k, v in DEFAULT_POINTS.items() if k not in ("Goalundo", "Mawa", "Hardinge Bridge")
}


def _feed(**config: Any) -> GlofasFeed:
    return GlofasFeed(GlofasConfig(interval_minutes=60, **config))


def _write(ds: xr.Dataset) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "x.nc"
        ds.to_netcdf(target, engine="netcdf4")
        return target.read_bytes()


def _open(content: bytes) -> xr.Dataset:
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "x.nc"
        target.write_bytes(content)
        with xr.open_dataset(target, engine="netcdf4", decode_timedelta=False) as ds:
            return ds.load()


def test_full_ensemble_every_member_and_day(raw_of: Callable[..., RawArtifact]) -> None:
    feed = _feed(points=JAMUNA)
    forecast = feed.parse(raw_of("glofas", FULL))
    data = forecast.data["discharge_m3s"]
    assert dict(data.sizes) == {"member": 51, "valid_time": 15, "station": 7}
    assert forecast.kind == "station_series"
    assert forecast.issued_at.isoformat() == "2020-06-25T00:00:00+00:00"
    assert forecast.complete, forecast.quality
    assert [int(h) for h in forecast.data["lead_hours"].values] == list(range(24, 361, 24))
    # The median follows the real reanalysis: 2 Jul 2020 at Bahadurabad was ~86,000 m3/s.
    median = float(data.sel(station="Bahadurabad").isel(valid_time=6).median())
    assert 80_000 < median < 92_000
    assert float(forecast.data["rp5_m3s"].sel(station="Bahadurabad")) == 100_000
    assert np.isnan(float(forecast.data["rp5_m3s"].sel(station="Aricha")))
    cell = forecast.data.sel(station="Bahadurabad")
    assert abs(float(cell["cell_lon"]) - 89.65) <= 0.025 + 1e-9  # nearest v4 cell


def test_to_json_shape(raw_of: Callable[..., RawArtifact]) -> None:
    feed = _feed(points=JAMUNA)
    out = feed.to_json(feed.parse(raw_of("glofas", FULL)))
    assert out["issued_at"] == "2020-06-25T00:00:00Z"
    station = out["stations"]["Bahadurabad"]
    assert station["valid_time"][0] == "2020-06-26T00:00:00Z"
    assert len(station["discharge_m3s"]) == 15
    assert len(station["discharge_m3s"][0]) == 51
    rp5 = next(t for t in out["thresholds"] if t["id"] == "bahadurabad_rp5")
    assert rp5["method"].startswith("OCHA GEV fit")
    assert out["quality"] == []


def test_missing_members_reported_never_zero_filled(raw_of: Callable[..., RawArtifact]) -> None:
    forecast = _feed(points=JAMUNA).parse(raw_of("glofas", PARTIAL))
    assert forecast.data.sizes["member"] == 40
    assert [q.message for q in forecast.quality if q.code == "missing_member"] == [
        "40 of 51 ensemble members present"
    ]
    assert not (forecast.data["discharge_m3s"].values == 0).any()
    assert not forecast.complete


def test_all_nan_member_counts_as_missing(raw_of: Callable[..., RawArtifact]) -> None:
    ds = _open(FULL)
    ds["dis24"].loc[{"number": [49, 50]}] = np.nan
    forecast = _feed(points=JAMUNA).parse(raw_of("glofas", _write(ds)))
    assert forecast.data.sizes["member"] == 51  # kept, as NaN
    assert np.isnan(forecast.data["discharge_m3s"].sel(member=50).values).all()
    assert any(q.message == "49 of 51 ensemble members present" for q in forecast.quality)


def test_missing_stations_and_timesteps(raw_of: Callable[..., RawArtifact]) -> None:
    ds = _open(FULL).isel(forecast_period=slice(0, 13))  # last two lead days lost
    ds["dis24"].loc[{"forecast_period": 72}] = np.nan
    forecast = _feed().parse(raw_of("glofas", _write(ds)))  # default points: 3 off this grid
    missing = {q.subject for q in forecast.quality if q.code == "missing_station"}
    assert missing == {"Goalundo", "Mawa", "Hardinge Bridge"}
    steps = [q for q in forecast.quality if q.code == "missing_timestep"]
    assert {q.subject for q in steps} >= {"2020-07-09T00:00:00Z", "2020-07-10T00:00:00Z"}
    assert any(q.message == "Bahadurabad: 1 of 13 lead times without data" for q in steps)
    assert forecast.data.sizes["valid_time"] == 13


def test_cfgrib_style_layout(raw_of: Callable[..., RawArtifact]) -> None:
    """(number, time, step, lat, lon) with timedelta steps, as cfgrib/older conversions give."""
    ds = _open(FULL).drop_vars("valid_time")
    ds = ds.rename(
        {
            "forecast_reference_time": "time",
            "forecast_period": "step",
            "latitude": "lat",
            "longitude": "lon",
        }
    )
    ds = ds.assign_coords(step=pd.to_timedelta(ds["step"].values, unit="h"))
    forecast = _feed(points=JAMUNA).parse(raw_of("glofas", _write(ds)))
    assert forecast.data.sizes["valid_time"] == 15
    assert str(forecast.data["valid_time"].values[0])[:10] == "2020-06-26"


def test_zip_with_control_and_perturbed_files(raw_of: Callable[..., RawArtifact]) -> None:
    ds = _open(FULL)
    control = ds.sel(number=0)  # no member dimension, as in a control-forecast file
    perturbed = ds.sel(number=slice(1, 50))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data_cf.nc", _write(control))
        archive.writestr("data_pf.nc", _write(perturbed))
    forecast = _feed(points=JAMUNA).parse(raw_of("glofas", buffer.getvalue()))
    assert forecast.data.sizes["member"] == 51
    assert forecast.complete


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<html>maintenance</html>", "not a readable netCDF/GRIB"),
        (b"PK\x03\x04broken", "unreadable zip"),
    ],
)
def test_garbage(raw_of: Callable[..., RawArtifact], content: bytes, message: str) -> None:
    with pytest.raises(FeedError, match=message):
        _feed().parse(raw_of("glofas", content))


def test_wrong_variable(raw_of: Callable[..., RawArtifact]) -> None:
    ds = _open(FULL).rename({"dis24": "dis"})
    with pytest.raises(FeedError, match=r"no `dis24` variable \(found dis\)"):
        _feed().parse(raw_of("glofas", _write(ds)))


def test_grib_without_cfgrib(
    raw_of: Callable[..., RawArtifact], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "cfgrib", None)
    with pytest.raises(FeedError, match=r"needs the `grib` extra"):
        _feed().parse(raw_of("glofas", b"GRIB\x00\x00\x00\x02rest"))


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="not near Bangladesh"):
        GlofasConfig(interval_minutes=60, points={"Paris": (2.35, 48.85)})
    with pytest.raises(ValueError, match="extra"):
        GlofasConfig(interval_minutes=60, unknown_key=1)
    cfg = GlofasConfig(interval_minutes=60)
    assert cfg.points["Bahadurabad"] == (89.65, 25.15)
    # Thresholds are not feed configuration: one shared source (agam/core/data).
    with pytest.raises(ValueError, match="extra"):
        GlofasConfig(interval_minutes=60, thresholds=[])


def test_request_body() -> None:
    from datetime import UTC, datetime

    body = _feed().request(datetime(2025, 7, 1, tzinfo=UTC))
    assert body["product_type"] == ["control_forecast", "ensemble_perturbed_forecasts"]
    assert body["leadtime_hour"][0] == "24"
    assert body["leadtime_hour"][-1] == "360"
    assert body["area"] == [26.725, 87.975, 20.475, 92.725]
    assert (body["year"], body["month"], body["day"]) == (["2025"], ["07"], ["01"])
    assert body["data_format"] == "netcdf"


def _fake_cdsapi(monkeypatch: pytest.MonkeyPatch, behaviour: Callable[[str], None]) -> list[Any]:
    calls: list[Any] = []

    class Client:
        def __init__(self, **kwargs: Any) -> None:
            calls.append(kwargs)

        def retrieve(self, dataset: str, request: dict[str, Any], target: str) -> None:
            calls.append((dataset, request))
            behaviour(target)

    monkeypatch.setitem(sys.modules, "cdsapi", types.SimpleNamespace(Client=Client))
    return calls


def test_fetch_with_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDSAPI_KEY", "abcd-1234")
    monkeypatch.setenv("CDSAPI_URL", "https://ewds.example/api")
    calls = _fake_cdsapi(monkeypatch, lambda target: Path(target).write_bytes(FULL))
    raw = _feed().fetch(None, None)
    assert calls[0]["key"] == "abcd-1234"
    assert calls[0]["url"] == "https://ewds.example/api"
    assert calls[1][0] == "cems-glofas-forecast"
    assert raw.content == FULL
    assert raw.source_uri.startswith("https://ewds.example/api#cems-glofas-forecast/")
    assert "abcd" not in raw.source_uri


def test_fetch_failure_hides_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDSAPI_KEY", "abcd-1234")

    def fail(_target: str) -> None:
        raise RuntimeError("401 Unauthorized for key abcd-1234")

    _fake_cdsapi(monkeypatch, fail)
    with pytest.raises(FeedError, match="EWDS request failed") as caught:
        _feed().fetch(None, None)
    assert "abcd-1234" not in str(caught.value)


def test_fetch_without_cdsapi(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cdsapi", None)
    with pytest.raises(FeedError, match="`glofas` extra"):
        _feed().fetch(None, None)


# --- red-team findings ------------------------------------------------------------------------


def test_a_member_number_given_twice_is_refused(raw_of: Callable[..., RawArtifact]) -> None:
    ds = _open(FULL)
    numbers = ds["number"].values.copy()
    numbers[5] = 4  # member 4 would weigh twice in every exceedance probability
    with pytest.raises(FeedError, match="number: ensemble member 4 is given twice"):
        _feed(points=JAMUNA).parse(raw_of("glofas", _write(ds.assign_coords(number=numbers))))


def test_zip_parts_on_different_grids_are_refused(raw_of: Callable[..., RawArtifact]) -> None:
    ds = _open(FULL)
    shifted = ds.sel(number=slice(1, 50))
    shifted = shifted.assign_coords(latitude=shifted["latitude"].values + 1e-6)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:  # an outer join would double the grid
        archive.writestr("data_cf.nc", _write(ds.sel(number=0)))
        archive.writestr("data_pf.nc", _write(shifted))
    with pytest.raises(FeedError, match="parts: their grids or lead times differ"):
        _feed(points=JAMUNA).parse(raw_of("glofas", buffer.getvalue()))


@pytest.mark.parametrize(("units", "first"), [("minutes", None), ("fortnights", "refused")])
def test_lead_time_units_are_read_or_refused(
    raw_of: Callable[..., RawArtifact], units: str, first: str | None
) -> None:
    ds = _open(FULL)
    ds["forecast_period"].attrs["units"] = units
    content = _write(ds)
    if first == "refused":
        with pytest.raises(FeedError, match="forecast_period: lead time units 'fortnights'"):
            _feed(points=JAMUNA).parse(raw_of("glofas", content))
        return
    forecast = _feed(points=JAMUNA).parse(raw_of("glofas", content))
    assert str(forecast.data["valid_time"].values[0])[:16] == "2020-06-25T00:24"  # not 26 June


@pytest.mark.parametrize(
    "units", ["m**3 s**-1", "m3 s-1", "m^3/s", "m3/s", "cumecs", " M3  S-1 ", None]
)
def test_discharge_units_spelt_as_glofas_does_are_read(
    raw_of: Callable[..., RawArtifact], units: str | None
) -> None:
    ds = _open(FULL)
    assert ds["dis24"].attrs["units"] == "m**3 s**-1"  # what the EWDS layout says
    if units is None:
        del ds["dis24"].attrs["units"]  # older files carry none
    else:
        ds["dis24"].attrs["units"] = units
    forecast = _feed(points=JAMUNA).parse(raw_of("glofas", _write(ds)))
    assert forecast.data.sizes["member"] == 51


@pytest.mark.parametrize("units", ["mm", "m3 day-1", "m"])
def test_discharge_in_other_units_is_refused(
    raw_of: Callable[..., RawArtifact], units: str
) -> None:
    ds = _open(FULL)
    ds["dis24"].attrs["units"] = units  # read as m3/s, mm of runoff would be a drought
    with pytest.raises(FeedError, match=rf"dis24 units: '{units}' is not m³/s"):
        _feed(points=JAMUNA).parse(raw_of("glofas", _write(ds)))


def test_a_zip_part_in_other_units_is_refused(raw_of: Callable[..., RawArtifact]) -> None:
    ds = _open(FULL)
    perturbed = ds.sel(number=slice(1, 50))
    perturbed["dis24"].attrs["units"] = "mm"  # the control part, listed first, says m3/s
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data_cf.nc", _write(ds.sel(number=0)))
        archive.writestr("data_pf.nc", _write(perturbed))
    with pytest.raises(FeedError, match="dis24 units: 'mm' is not m³/s"):
        _feed(points=JAMUNA).parse(raw_of("glofas", buffer.getvalue()))
