"""The [feeds.<name>] configuration models, apart from the parsers.

Loading the configuration validates every feed's table; keeping the models here means that
does not import xarray, rasterio, geopandas or requests (a CLI command that only reads the
configuration starts fast). Each feed module re-exports its model.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlparse

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agam.core.config_sections import ConfigPath, config_path_field
from agam.core.timeutil import ensure_utc
from hazard_feeds.config import FeedConfig


class StationRef(BaseModel):
    """A station we follow: BWDB code, FFWC's spelling, optional FFWC numeric id."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    code: str = Field(min_length=2)  # BWDB station code, e.g. SW46.9L
    name: str = Field(min_length=2)  # as FFWC spells it in the station list
    ffwc_id: int | None = None  # FFWC's numeric `id`; None = look it up by name
    aliases: tuple[str, ...] = ()  # other spellings (Goalundo / Goalondo / Goalanda)

    def matches(self, name: str) -> bool:
        wanted = {self.name.lower(), *(a.lower() for a in self.aliases)}
        return name.strip().lower() in wanted


DEFAULT_STATIONS = (
    StationRef(code="SW46.9L", name="Bahadurabad"),
    StationRef(code="SW91.9R", name="Goalundo", aliases=("Goalondo", "Goalanda")),
    StationRef(code="SW93.5L", name="Mawa"),
)


class FfwcConfig(FeedConfig):
    base_url: str = "https://api.ffwc.gov.bd/data_load/"
    stations_path: str = "stations-2025/?format=json"
    observed_path: str = "observed/"
    forecast_path: str = "seven-days-forecast-waterlevel-by-station/{station_id}/"
    max_age_hours: float = 30.0
    stations: tuple[StationRef, ...] = DEFAULT_STATIONS


class BmdConfig(FeedConfig):
    # A folder (relative to config.toml) or file:///… to one.
    drop_folder: ConfigPath = config_path_field("bulletins")
    max_age_hours: float = 12.0

    @field_validator("drop_folder", mode="before")
    @classmethod
    def _file_url(cls, value: Any) -> Any:
        if isinstance(value, str) and value.startswith("file://"):
            return Path(unquote(urlparse(value).path))
        return value


class FfwcLogsheetConfig(FeedConfig):
    path: Path = Path("ffwc_logsheets")  # a log-sheet CSV, or a folder: the newest *.csv
    station_codes: dict[str, str] = Field(default_factory=lambda: {"Bahadurabad": "SW46.9L"})
    max_age_hours: float = 30.0


class GdacsConfig(FeedConfig):
    base_url: str = "https://www.gdacs.org/gdacsapi/api/"
    event_list_path: str = "events/geteventlist/EVENTS4APP"
    max_age_hours: float = 6.0
    countries_iso3: tuple[str, ...] = ("BGD",)
    # Bay of Bengal and its approaches: lon_min, lat_min, lon_max, lat_max.
    bay_of_bengal_box: tuple[float, float, float, float] = (78.0, 5.0, 100.0, 25.0)
    max_events: int = Field(default=3, ge=1)


# Reporting points, name -> (lon, lat). Bahadurabad is the GloFAS control point OCHA uses
# (ocha-anticipy bgd.yaml); the other Jamuna stations are OCHA's 2021 points moved onto the
# river (pa-anticipatory-action src/bangladesh/get_glofas_data.py, the same points as the real
# reanalysis in tests/fixtures/feeds/glofas); Goalundo (Baruria transit), Mawa and Hardinge
# Bridge from OCHA-DAP/pa-aa-bgd-flooding src/bgd.yaml. Chosen on the v3 0.1° grid: re-check on
# the v4 0.05° grid (parse reports the cell actually used).
DEFAULT_POINTS: dict[str, tuple[float, float]] = {
    "Bahadurabad": (89.65, 25.15),
    "Goalundo": (89.77873, 23.76775),
    "Mawa": (90.25666, 23.47216),
    "Noonkhawa": (89.9509, 25.9496),
    "Chilmari": (89.7476, 25.5451),
    "Sariakandi": (89.6518, 24.8901),
    "Kazipur": (89.7498, 24.6637),
    "Serajganj": (89.7479, 24.4676),
    "Aricha": (89.6550, 23.9032),
    "Hardinge Bridge": (89.05, 24.05),
}


class GlofasConfig(FeedConfig):
    base_url: str = "https://ewds.climate.copernicus.eu/api"
    dataset: str = "cems-glofas-forecast"
    system_version: str = "operational"
    hydrological_model: str = "lisflood"
    data_format: Literal["netcdf", "grib"] = "netcdf"
    # N, W, S, E: Bangladesh (88.0-92.7 E, 20.5-26.7 N) snapped outwards to the v4 0.05° grid
    # cell centres (x.x25 / x.x75).
    area: tuple[float, float, float, float] = (26.725, 87.975, 20.475, 92.725)
    leadtime_hours: tuple[int, ...] = tuple(24 * d for d in range(1, 16))
    lag_days: int = Field(default=0, ge=0, le=30)  # request the run of today minus lag_days
    # A mirror of the daily netCDF (HTTP(S) or file URL) instead of EWDS, e.g. an agency's
    # bucket filled by its own downloader: "{date:%Y%m%d}" names the run. Conditional GET.
    mirror_url: str = ""
    expected_members: int = Field(default=51, ge=1)
    max_age_hours: float = 36.0
    # Nearest-cell sampling: a point further than this from any cell centre is "missing".
    max_snap_distance_deg: float = Field(default=0.05, gt=0)
    points: dict[str, tuple[float, float]] = Field(default_factory=lambda: dict(DEFAULT_POINTS))
    # Thresholds are not configured here: they come from agam/core/data/station_thresholds.toml,
    # the one source the rule sets and the dashboard read too.

    @field_validator("points")
    @classmethod
    def _inside_region(
        cls, value: dict[str, tuple[float, float]]
    ) -> dict[str, tuple[float, float]]:
        for name, (lon, lat) in value.items():
            if not (80 <= lon <= 100 and 15 <= lat <= 32):
                raise ValueError(f"{name}: (lon, lat) = ({lon}, {lat}) is not near Bangladesh")
        return value


class RasterConfig(FeedConfig):
    url: str = ""  # http(s)://… or a local path (file://… accepted)
    variable: str = Field(default="flood_depth_m", pattern=r"^[a-z][a-z0-9_]*$")
    band: int = Field(default=1, ge=1)
    valid_time: datetime | None = None  # else the file's TIFFTAG_DATETIME, else fetch time
    max_age_hours: float = 48.0

    @field_validator("valid_time")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return ensure_utc(value) if value is not None else None


def ffwc_station_name(table: object, code: str) -> str | None:
    """The name FFWC gives the BWDB station `code`, among the stations of a [feeds.ffwc]
    table (`table`), or of the feed's defaults when FFWC is not configured."""
    for station in getattr(table, "stations", DEFAULT_STATIONS):
        if station.code == code:
            return str(station.name)
    return None
