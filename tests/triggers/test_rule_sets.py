"""Loading rule sets (errors name the file and key), the shipped data, combinators, explain."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from agam.core.errors import RuleError
from triggers.engine import builtin_rule_set_dir, evaluate, explain, load_rule_sets
from triggers.model import AllOf, AnyOf, FootprintExposure, RuleSet
from triggers.results import EvalContext

SHIPPED = builtin_rule_set_dir()


def copy_flood(tmp_path: Path, old: str = "", new: str = "") -> Path:
    text = (SHIPPED / "ocha_cerf_flood_2025.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "flood.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_shipped_rule_sets_load_with_the_framework_geography() -> None:
    sets = {s.id: s for s in load_rule_sets()}
    assert sorted(sets) == [
        "bdrcs_cyclone_eap_2021",
        "ocha_cerf_cyclone_2025",
        "ocha_cerf_flood_2025",
    ]
    flood = sets["ocha_cerf_flood_2025"]
    assert len(flood.upazilas) == 38
    assert {u[:6] for u in flood.upazilas} == set(flood.districts)
    assert [s.id for s in flood.stages] == [
        "FLOOD_JAMUNA_READINESS",
        "FLOOD_JAMUNA_ACTION",
        "FLOOD_PADMA_READINESS",
        "FLOOD_PADMA_ACTION",
    ]
    padma = flood.stage_area(flood.stages[2])
    assert padma == (
        ("BD3054", "BD3056", "BD3086"),
        tuple(sorted(u for u in flood.upazilas if u[:4] == "BD30")),
    )
    # Thresholds come from the shared station thresholds, resolved into each rule.
    assert flood.stages[2].rule.threshold_provisional is True  # Goalundo RP5 placeholder
    assert flood.stages[0].rule.threshold_provisional is False
    assert flood.stages[0].rule.threshold_m3s == 100_000
    cyclone = sets["ocha_cerf_cyclone_2025"]
    assert cyclone.districts == ("BD4087", "BD1078", "BD1009", "BD2075", "BD1004", "BD4047")
    assert all(s.districts == cyclone.districts for s in cyclone.stages)
    assert sets["bdrcs_cyclone_eap_2021"].enabled_by_default is False


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    path = copy_flood(tmp_path, 'version = "2025.2"', 'version = "2025.2')
    with pytest.raises(RuleError, match=r"flood\.toml: not valid TOML"):
        load_rule_sets(path)


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        (
            "min_probability = 0.5",
            'min_probability = "half"',
            r"stages\[0\]\.rule\.ensemble_exceedance\.min_probability",
        ),
        (
            'comparison = "ge" ',
            'comparison = "above" ',
            r"stages\[0\]\.rule\.ensemble_exceedance\.comparison",
        ),
        (
            "offset_m = 0.85",
            "offset_m = 0.85\nthreshold = 1",
            r"stages\[1\]\.rule\.water_level_crossing\.threshold",
        ),
        (
            'threshold_ref = "bahadurabad_rp5"',
            'threshold_ref = "nowhere"',
            r"stages\[0\]\.rule\.threshold_ref: 'nowhere'",
        ),
        ('kind = "ensemble_exceedance"', 'kind = "crystal_ball"', r"stages\[0\]\.rule"),
        ('"BD5010",  # Bogura', '"BD50",  # Bogura', "P-codes not valid"),
    ],
)
def test_invalid_rule_set_names_file_and_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    path = copy_flood(tmp_path, old, new)
    with pytest.raises(RuleError, match=r"flood\.toml: .*" + key):
        load_rule_sets([path])


def test_duplicate_rule_set_version_names_both_files(tmp_path: Path) -> None:
    first = copy_flood(tmp_path)
    second = tmp_path / "again.toml"
    shutil.copy(first, second)
    with pytest.raises(
        RuleError,
        match=r"flood\.toml: rule set ocha_cerf_flood_2025 2025\.2 is also in .*again\.toml",
    ):
        load_rule_sets(tmp_path)


def test_stage_order_and_unless_fired_are_checked(tmp_path: Path) -> None:
    text = (SHIPPED / "ocha_cerf_cyclone_2025.toml").read_text(encoding="utf-8")
    path = tmp_path / "cyclone.toml"
    path.write_text(
        text.replace('stage = "readiness"', 'stage = "observational"', 1), encoding="utf-8"
    )
    with pytest.raises(RuleError, match="action listed after observational"):
        load_rule_sets(path)
    path.write_text(
        text.replace('unless_fired = ["CYCLONE_ACTION"]', 'unless_fired = ["LATER"]'),
        encoding="utf-8",
    )
    with pytest.raises(RuleError, match="not an earlier stage"):
        load_rule_sets(path)


def test_explain_describes_stages_in_english_and_data(rule_sets: dict[str, RuleSet]) -> None:
    flood = rule_sets["ocha_cerf_flood_2025"]
    text = explain(flood.stages[0])
    assert (
        "more than 50% of valid members reach or exceed 100,000 m³/s on 3 consecutive days" in text
    )
    assert "(provisional)" in explain(flood.stages[2].rule)
    full = explain(flood, "FLOOD_JAMUNA_ACTION")
    assert '"offset_m": 0.85' in full
    assert full.startswith("FLOOD_JAMUNA_ACTION [action, jamuna]")
    with pytest.raises(RuleError):
        explain(flood, "NOPE")
    assert "Does not apply if CYCLONE_ACTION fired" in explain(rule_sets["ocha_cerf_cyclone_2025"])


def signal(feed: str, min_signal: int = 4) -> dict[str, Any]:
    return {
        "kind": "bmd_signal",
        "feed": feed,
        "min_signal": min_signal,
        "comparison": "ge",
        "max_age_hours": 12,
    }


@pytest.mark.parametrize(
    ("parts", "all_state", "any_state"),
    [
        (["met", "met"], "met", "met"),
        (["met", "unknown"], "unknown", "met"),
        (["met", "not_met"], "not_met", "met"),
        (["unknown", "not_met"], "not_met", "unknown"),
        (["unknown", "unknown"], "unknown", "unknown"),
        (["not_met", "not_met"], "not_met", "not_met"),
    ],
)
def test_combinators_are_three_valued(
    fx: Any, parts: list[str], all_state: str, any_state: str
) -> None:
    # Rules read known feeds only: two bulletins stand in under two feed names, and the
    # third name has no forecast.
    feeds = {"met": "bmd", "not_met": "gdacs", "unknown": "raster"}
    forecasts = {
        "bmd": fx.bulletin({}, signals={"Mongla": 7}),
        "gdacs": fx.bulletin({}, signals={"Mongla": 2}),
    }
    rules = [signal(feeds[p]) for p in parts]
    ctx = EvalContext(forecasts, fx.FakeUnions(), fx.AS_OF)
    both = AllOf.model_validate({"kind": "all_of", "rules": rules}).evaluate(ctx)
    either = AnyOf.model_validate({"kind": "any_of", "rules": rules}).evaluate(ctx)
    assert (both.state, either.state) == (all_state, any_state)
    assert [c.rule_id for c in both.children] == ["rule.0", "rule.1"]


def test_footprint_exposure_picks_unions_by_share(fx: Any) -> None:
    from types import SimpleNamespace

    unions = fx.FakeUnions()
    unions.shares = {"BD40870001": 0.6, "BD40870002": 0.2}
    rule = FootprintExposure.model_validate(
        {
            "kind": "footprint_exposure",
            "feed": "gdacs",
            "min_wind_kmh": 118,
            "min_share": 0.5,
            "share_comparison": "ge",
            "max_age_hours": 24,
        }
    )
    footprint = SimpleNamespace(
        feed_id="gdacs", issued_at=fx.ISSUED, footprints=[object()], raw_sha256=None
    )
    ctx = EvalContext({"gdacs": footprint}, unions, fx.AS_OF, ("BD40870001", "BD40870002"))  # type: ignore[dict-item]
    got = rule.evaluate(ctx)
    assert got.state == "met"
    assert got.unions == ("BD40870001",)


def test_evaluate_reads_no_clock_and_returns_a_stable_order(
    rule_sets: dict[str, RuleSet], fx: Any
) -> None:
    sets = list(rule_sets.values())
    first = evaluate(sets, {}, fx.FakeUnions(), fx.AS_OF)
    assert [(r.rule_set_id, r.stage_id) for r in first] == [
        (r.rule_set_id, r.stage_id)
        for r in evaluate(list(reversed(sets)), {}, fx.FakeUnions(), fx.AS_OF)
    ]
    assert all(r.state == "unknown" for r in first)
    assert all(r.as_of == fx.AS_OF for r in first)


def test_the_newest_version_of_each_rule_set_wins() -> None:
    from triggers.engine import load_rule_sets, newest_versions

    shipped = load_rule_sets()
    flood = next(s for s in shipped if s.id == "ocha_cerf_flood_2025")
    later = flood.model_copy(update={"version": "2025.10"})
    earlier = flood.model_copy(update={"version": "2025.9"})
    picked = newest_versions([earlier, *shipped, later])
    assert [s.version for s in picked if s.id == flood.id] == ["2025.10"]
    assert sorted(s.id for s in picked) == sorted(s.id for s in shipped)
