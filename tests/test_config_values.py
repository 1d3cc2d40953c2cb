"""`agam config check` refuses values of the right type that could never work, one line each
naming the key: no rule set at all, a rule set listed twice, a feed that is always stale (or
never), two schedules for one feed, part minutes, feed URLs no fetch can read, map tiles that
are not a tile template, NaN or infinity for any number."""

from __future__ import annotations

import math
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel, ValidationError

from agam.core.config_sections import FEED_MODELS, FeedSettings
from agam.core.settings import Settings, strict_validate, validate_feed_table
from hazard_feeds import registry as _feed_models  # noqa: F401  (registers the feed tables)
from tests.test_config_check import ROOT, check, shipped_with


@pytest.fixture(autouse=True)
def _data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AGAM_DATA_DIR", str(tmp_path / "var"))


def refused(tmp_path: Path, old: str, new: str) -> str:
    """The one error line of the shipped config with `old` replaced by `new`."""
    code, _, err = check(shipped_with(tmp_path, old, new))
    assert code == 3, err
    lines = [line for line in err.strip().splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def accepted(tmp_path: Path, old: str, new: str) -> None:
    code, out, err = check(shipped_with(tmp_path, old, new))
    assert code == 0, err
    assert out.startswith("ok: ")


RULE_SETS = "rule_set_files = []"


# 1, 4: enabled_rule_sets


def test_no_rule_set_enabled_is_refused(tmp_path: Path) -> None:
    line = refused(tmp_path, RULE_SETS, f"{RULE_SETS}\nenabled_rule_sets = []")
    assert line.endswith(
        "[triggers.enabled_rule_sets] no rule set enabled: no alert would ever be raised "
        "(leave the key out for the shipped defaults)"
    )


def test_a_rule_set_listed_twice_is_named(tmp_path: Path) -> None:
    twice = 'enabled_rule_sets = ["ocha_cerf_flood_2025", "ocha_cerf_cyclone_2025", '
    twice += '"ocha_cerf_flood_2025"]'
    line = refused(tmp_path, RULE_SETS, f"{RULE_SETS}\n{twice}")
    assert line.endswith(
        "[triggers.enabled_rule_sets] rule set 'ocha_cerf_flood_2025' listed twice"
    )


def test_rule_sets_listed_once_pass(tmp_path: Path) -> None:
    listed = 'enabled_rule_sets = ["ocha_cerf_flood_2025", "ocha_cerf_cyclone_2025"]'
    accepted(tmp_path, RULE_SETS, f"{RULE_SETS}\n{listed}")


# 2: max_age_hours and every number


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-36", "Input should be greater than 0"),
        ("0", "Input should be greater than 0"),
        ("1e9", "Input should be less than or equal to 1000000"),
        ("inf", "not a finite number"),
        ("-inf", "not a finite number"),
        ("nan", "not a finite number"),
    ],
)
def test_max_age_hours_is_finite_and_positive(tmp_path: Path, value: str, message: str) -> None:
    line = refused(tmp_path, "max_age_hours = 36", f"max_age_hours = {value}")
    assert line.endswith(f"[feeds.glofas.max_age_hours] {message}")


@pytest.mark.parametrize("feed", sorted(FEED_MODELS))
def test_every_feed_bounds_max_age_hours(feed: str) -> None:
    """Each feed's model sets its own default max_age_hours; the bounds still hold."""
    for value in (-36.0, 0.0, 1e9):
        with pytest.raises(ValidationError) as caught:
            validate_feed_table(feed, {"enabled": False, "max_age_hours": value}, ROOT)
        assert [e["loc"] for e in caught.value.errors()] == [("max_age_hours",)]
    table = validate_feed_table(feed, {"enabled": False, "max_age_hours": 24}, ROOT)
    assert table.max_age_hours == 24


def float_fields(model: type[BaseModel]) -> list[str]:
    """The fields of `model` holding one float (or float | None)."""
    names = []
    for name, info in model.model_fields.items():
        kind = info.annotation
        if get_origin(kind) in (Union, types.UnionType):
            kind = next((a for a in get_args(kind) if a is not type(None)), None)
        if kind is float:
            names.append(name)
    return names


def sections() -> list[tuple[str, type[BaseModel]]]:
    found: list[tuple[str, type[BaseModel]]] = []
    for name, info in Settings.model_fields.items():
        kind = info.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            found.append((name, kind))
    return found + [(f"feeds.{name}", model) for name, model in sorted(FEED_MODELS.items())]


FLOAT_SETTINGS = [
    (section, model, field) for section, model in sections() for field in float_fields(model)
]


def test_the_float_settings_are_found() -> None:
    keys = {f"{section}.{field}" for section, _, field in FLOAT_SETTINGS}
    assert {
        "database.lock_timeout_s",
        "grievances.due_soon_share",
        "scheduler.heartbeat_interval_s",
        "feeds.glofas.max_age_hours",
        "feeds.gdacs.connect_timeout_s",
        "feeds.ffwc.interval_seconds",
    } <= keys


@pytest.mark.parametrize(
    ("model", "field"),
    [pytest.param(m, f, id=f"{s}.{f}") for s, m, f in FLOAT_SETTINGS],
)
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_no_float_setting_takes_nan_or_infinity(
    model: type[BaseModel], field: str, value: float
) -> None:
    data: dict[str, Any] = {field: value}
    if issubclass(model, FeedSettings):
        data["enabled"] = False
    with pytest.raises(ValidationError) as caught:
        strict_validate(model, data, ROOT)
    assert [(e["loc"], e["type"]) for e in caught.value.errors()] == [((field,), "finite_number")]


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("due_soon_share = 0.8", "due_soon_share = nan", "grievances.due_soon_share"),
        ("lock_timeout_s = 600", "lock_timeout_s = inf", "database.lock_timeout_s"),
        ("retry_backoff_s = 60", "retry_backoff_s = inf", "notifications.retry_backoff_s"),
        (
            'base_url = "https://www.gdacs.org/gdacsapi/api/"',
            'base_url = "https://www.gdacs.org/gdacsapi/api/"\nread_timeout_s = inf',
            "feeds.gdacs.read_timeout_s",
        ),
        (
            "expected_members = 51",
            "expected_members = 51\narea = [26.7, 87.9, nan, 92.7]",
            "feeds.glofas.area.2",
        ),
    ],
)
def test_nan_or_infinity_is_not_a_finite_number(
    tmp_path: Path, old: str, new: str, key: str
) -> None:
    assert refused(tmp_path, old, new).endswith(f"[{key}] not a finite number")


# 3: the schedule


@pytest.mark.parametrize("interval", ["interval_minutes = 30", "interval_seconds = 30"])
def test_cron_and_an_interval_are_refused(tmp_path: Path, interval: str) -> None:
    key = interval.split(" ")[0]
    line = refused(tmp_path, "interval_minutes = 30", f'{interval}\ncron = "5 * * * *"')
    assert line.endswith(f"[feeds.gdacs.{key}] give cron or {key}, not both")


def test_an_interval_of_part_minutes_is_refused(tmp_path: Path) -> None:
    line = refused(tmp_path, "interval_minutes = 30", "interval_minutes = 0.5")
    assert line.endswith("[feeds.gdacs.interval_minutes] Input should be a valid integer")


def test_whole_minutes_still_pass(tmp_path: Path) -> None:
    accepted(tmp_path, "interval_minutes = 30", "interval_minutes = 45")
    table = validate_feed_table("gdacs", {"interval_minutes": 45}, ROOT)
    assert table.interval_minutes == 45
    assert table.interval_s == 45 * 60


# 5: URLs


FFWC_URL = 'base_url = "https://api.ffwc.gov.bd/data_load/"'
MIRROR = 'mirror_url = ""'


@pytest.mark.parametrize(
    ("old", "new", "key", "message"),
    [
        (FFWC_URL, 'base_url = "file:///etc/"', "feeds.ffwc.base_url", "not an http(s) URL"),
        (FFWC_URL, 'base_url = "ftp://x.example/"', "feeds.ffwc.base_url", "not an http(s) URL"),
        (FFWC_URL, 'base_url = "https://"', "feeds.ffwc.base_url", "not an http(s) URL"),
        (FFWC_URL, 'base_url = "api.ffwc.gov.bd"', "feeds.ffwc.base_url", "not an http(s) URL"),
        (
            FFWC_URL,
            'base_url = "https://api.ffwc.gov.bd/data load/"',
            "feeds.ffwc.base_url",
            "not an http(s) URL",
        ),
        (
            MIRROR,
            'mirror_url = "ftp://mirror.example/g_{date:%Y%m%d}.nc"',
            "feeds.glofas.mirror_url",
            "not an http(s) or file:/// URL",
        ),
        (
            MIRROR,
            'mirror_url = "file:mirror/g.nc"',
            "feeds.glofas.mirror_url",
            "not an http(s) or file:/// URL",
        ),
        (
            MIRROR,
            'mirror_url = "https://mirror.example/g_{day}.nc"',
            "feeds.glofas.mirror_url",
            "not a URL template: only {date:…} may be filled in",
        ),
    ],
)
def test_feed_urls_a_fetch_cannot_read_are_refused(
    tmp_path: Path, old: str, new: str, key: str, message: str
) -> None:
    line = refused(tmp_path, old, new)
    assert f"[{key}] " in line
    assert message in line


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (FFWC_URL, 'base_url = "http://127.0.0.1:8000/data_load/"'),
        (FFWC_URL, 'base_url = "https://api.ffwc.gov.bd"'),
        (MIRROR, 'mirror_url = "http://127.0.0.1:8000/glofas/glofas_{date:%Y%m%d}.nc"'),
        (MIRROR, 'mirror_url = "https://bucket.example/glofas/glofas_{date:%Y%m%d}.nc"'),
        (MIRROR, 'mirror_url = "file:///mnt/share/glofas_{date:%Y%m%d}.nc"'),
    ],
)
def test_http_https_and_mirror_files_pass(tmp_path: Path, old: str, new: str) -> None:
    accepted(tmp_path, old, new)


def test_feeds_without_an_upstream_url_keep_it_empty() -> None:
    assert validate_feed_table("bmd", {"interval_minutes": 10}, ROOT).base_url == ""


TILES = 'tiles = ""'


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "http://tile.example.org/{z}/{x}/{y}.png",
        "https://tile.example.org/tile.png",
        "https://tile.example.org/{z}/{x}.png",
        "https://tile.example.org/{z}/{x}/{y}.png?key={apikey}",
        "openstreetmap",
        "//tile.example.org/{z}/{x}/{y}.png",
        "https:///{z}/{x}/{y}.png",
    ],
)
def test_tiles_other_than_documented_are_refused(tmp_path: Path, value: str) -> None:
    line = refused(tmp_path, TILES, f'tiles = "{value}"')
    assert line.endswith(
        '[dashboard.tiles] not "", "OpenStreetMap" or an https:// tile template with '
        "{z}, {x} and {y} (e.g. https://…/{z}/{x}/{y}.png)"
    )


@pytest.mark.parametrize(
    "value",
    [
        "",
        "OpenStreetMap",
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "https://{s}.tile.example.org/{z}/{x}/{y}{r}.png",
        "https://server.example/MapServer/tile/{z}/{y}/{x}",
    ],
)
def test_documented_tiles_pass(tmp_path: Path, value: str) -> None:
    accepted(tmp_path, TILES, f'tiles = "{value}"')
