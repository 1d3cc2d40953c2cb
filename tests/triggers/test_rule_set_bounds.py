"""Rule sets refuse impossible numbers, strings for numbers, unknown feeds and deep nesting,
each with a RuleError naming the file and the key (never a RecursionError or a rule that can
never fire)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agam.core.errors import RuleError
from triggers.engine import load_rule_sets

SHIPPED = Path(__file__).resolve().parents[2] / "triggers" / "rulesets"


def flood_with(tmp_path: Path, old: str, new: str) -> Path:
    text = (SHIPPED / "ocha_cerf_flood_2025.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "flood.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("offset_m = 0.85", "offset_m = 1e400", r"water_level_crossing\.offset_m"),
        ("offset_m = 0.85", "offset_m = nan", r"water_level_crossing\.offset_m"),
        ("offset_m = 0.85", "offset_m = 50", r"water_level_crossing\.offset_m"),
        ("consecutive_days = 3", "consecutive_days = 9999999999999", r"consecutive_days"),
        ("consecutive_days = 3", 'consecutive_days = "3"', r"consecutive_days"),
        ("min_probability = 0.5", "min_probability = 1.5", r"min_probability"),
        ("max_age_hours = 30", "max_age_hours = 1e9", r"max_age_hours"),
        ("min_members = 46", "min_members = 100000", r"min_members"),
        ("max_lead_days = 5 ", "max_lead_days = 400 ", r"max_lead_days"),
        ('feed = "ffwc"', 'feed = "nosuchfeed"', r"feed.*unknown feed 'nosuchfeed'"),
        (
            'feed = "glofas"\nstation = "Bahadurabad"',
            'feed = "glofos"\nstation = "Bahadurabad"',
            "glofos",
        ),
        ("enabled_by_default = true", 'enabled_by_default = "yes"', r"enabled_by_default"),
    ],
)
def test_out_of_bounds_values_are_refused(tmp_path: Path, old: str, new: str, key: str) -> None:
    path = flood_with(tmp_path, old, new)
    with pytest.raises(RuleError, match=r"flood\.toml: .*" + key):
        load_rule_sets([path])


def test_cyclone_winds_are_bounded(tmp_path: Path) -> None:
    text = (SHIPPED / "ocha_cerf_cyclone_2025.toml").read_text(encoding="utf-8")
    path = tmp_path / "cyclone.toml"
    path.write_text(text.replace("threshold_kmh = 118", "threshold_kmh = 11800", 1), "utf-8")
    with pytest.raises(RuleError, match=r"cyclone\.toml: .*threshold_kmh"):
        load_rule_sets([path])


def nested_rule(depth: int) -> str:
    leaf = (
        '{kind = "bmd_signal", feed = "bmd", min_signal = 4, comparison = "ge", max_age_hours = 12}'
    )
    rule = leaf
    for _ in range(depth):
        rule = f'{{kind = "all_of", rules = [{rule}]}}'
    return rule


@pytest.mark.parametrize("depth", [30, 400, 5000])
def test_deep_nesting_is_a_rule_error(tmp_path: Path, depth: int) -> None:
    text = (SHIPPED / "ocha_cerf_cyclone_2025.toml").read_text(encoding="utf-8")
    start = text.index("[stages.rule]")
    end = text.index("\n[", start + 1)
    path = tmp_path / "deep.toml"
    path.write_text(text[:start] + f"rule = {nested_rule(depth)}\n" + text[end:], "utf-8")
    with pytest.raises(RuleError, match=r"deep\.toml: .*nested deeper than \d+ levels"):
        load_rule_sets([path])


def test_moderate_nesting_still_loads(tmp_path: Path) -> None:
    text = (SHIPPED / "ocha_cerf_cyclone_2025.toml").read_text(encoding="utf-8")
    start = text.index("[stages.rule]")
    end = text.index("\n[", start + 1)
    path = tmp_path / "nested.toml"
    path.write_text(text[:start] + f"rule = {nested_rule(3)}\n" + text[end:], "utf-8")
    (rule_set,) = load_rule_sets([path])
    assert rule_set.stages[0].rule.kind == "all_of"


def test_a_rule_sets_own_threshold_is_bounded(tmp_path: Path) -> None:
    """A site's own station threshold (a new id in its rule-set file) is checked like a rule."""
    path = flood_with(tmp_path, "enabled_by_default = true", "enabled_by_default = true")
    path.write_text(
        path.read_text(encoding="utf-8")
        + '\n[thresholds.bahadurabad_site]\nstation = "Bahadurabad"\n'
        + 'variable = "discharge_m3s"\nvalue = 1e12\nmethod = "a typo"\nsource = "site"\n'
        + "provisional = true\n",
        encoding="utf-8",
    )
    with pytest.raises(RuleError, match=r"flood\.toml: .*thresholds.*value"):
        load_rule_sets([path])
