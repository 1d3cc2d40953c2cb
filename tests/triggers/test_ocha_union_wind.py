"""Union wind as OCHA's cyclone monitoring tool computes it (ds-aa-bgd-cyclone-monitoring,
app.R): wind_union = landfall wind x 0.9807 x exp(-0.003 x d_km), d_km =
st_distance(st_boundary(unions), landfall) in EPSG:32646, so the union that CONTAINS the
landfall gets the distance to its own edge, not 0."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agam.cli.main import app
from agam.core.errors import RuleError
from boundaries.context import LayerUnionContext
from boundaries.layer import UnionLayer
from triggers.engine import evaluate, load_rule_sets
from triggers.model import RuleSet

KHULNA_RANGE = "BD40471797"  # Dacope upazila, Khulna district (Sundarbans)
LANDFALL = (89.5701, 22.3883)  # inside Khulna Range, 5.73 km from its edge


def _action_targeting(rule_sets: list[RuleSet], fx, union_layer: UnionLayer, **change):
    rule_set = next(s for s in rule_sets if s.id == "ocha_cerf_cyclone_2025")
    if change:
        stages = list(rule_set.stages)
        action = stages[1]
        stages[1] = action.model_copy(
            update={"targeting": action.targeting.model_copy(update=change)}
        )
        rule_set = rule_set.model_copy(update={"stages": tuple(stages)})
    issued = datetime(2026, 5, 25, 0, tzinfo=UTC)
    bulletin = fx.bulletin(
        {"BMD": 121.0, "IMD": 119.0}, lead_hours=36, issued=issued, landfall=LANDFALL
    )
    results = evaluate(
        [rule_set],
        {"bmd": bulletin},
        LayerUnionContext(union_layer),
        issued + timedelta(hours=1),
    )
    action = next(r for r in results if r.stage_id == "CYCLONE_ACTION")
    return action, action.rule_results[-1]  # the targeting result


def test_the_containing_union_gets_the_distance_to_its_own_edge(fx, union_layer) -> None:
    action, targeting = _action_targeting(load_rule_sets(), fx, union_layer)
    assert targeting.observed["distance_to"] == "boundary_line"
    assert targeting.observed["distance_km"][KHULNA_RANGE] == pytest.approx(5.73, abs=0.01)
    # OCHA's tool: 121 x 0.9807 x exp(-0.003 x 5.73) = 116.6 km/h, below 118.
    assert targeting.observed["union_wind_kmh"][KHULNA_RANGE] == 116.6
    assert action.state == "met"  # 2 of 5 models forecast >= 118 km/h
    assert KHULNA_RANGE not in targeting.unions


def test_the_zero_inside_reading_stays_available(fx, union_layer) -> None:
    _, targeting = _action_targeting(load_rule_sets(), fx, union_layer, distance_to="polygon")
    assert targeting.observed["distance_km"][KHULNA_RANGE] == 0.0
    assert targeting.observed["union_wind_kmh"][KHULNA_RANGE] == 118.7  # 121 x 0.9807
    assert KHULNA_RANGE in targeting.unions


def test_the_ambiguous_word_boundary_is_refused(tmp_path: Path) -> None:
    from triggers.engine import builtin_rule_set_dir

    text = (builtin_rule_set_dir() / "ocha_cerf_cyclone_2025.toml").read_text(encoding="utf-8")
    draft = tmp_path / "cyclone.toml"
    draft.write_text(text.replace('distance_to = "boundary_line"', 'distance_to = "boundary"'))
    with pytest.raises(RuleError, match='"boundary" is ambiguous'):
        load_rule_sets(draft)


def test_cli_reproduces_the_tool(config_path: Path) -> None:
    args = ["cyclone", "landfall", "--lon", "89.5701", "--lat", "22.3883", "--wind-kmh", "121"]
    runner = CliRunner()
    out = runner.invoke(app, [*args, "--district", "Khulna", "--json"])
    assert out.exit_code == 0, out.stderr
    import json

    rows = {r["adm4_pcode"]: r for r in json.loads(out.stdout)["unions"]}
    assert rows[KHULNA_RANGE]["wind_kmh"] == 116.6
    assert rows[KHULNA_RANGE]["above_threshold"] is False
    inside = runner.invoke(
        app, [*args, "--district", "Khulna", "--distance-to", "polygon", "--json"]
    )
    rows = {r["adm4_pcode"]: r for r in json.loads(inside.stdout)["unions"]}
    assert rows[KHULNA_RANGE]["wind_kmh"] == 118.7
    assert rows[KHULNA_RANGE]["above_threshold"] is True
    bad = runner.invoke(app, [*args, "--distance-to", "centroid"])
    assert bad.exit_code != 0
    assert "boundary_line or polygon" in bad.stderr
