"""Alert explanations in Bangla, rebuilt from the evidence the engine stores, for every rule
kind the shipped rule sets use, in every state the engine reaches."""

from __future__ import annotations

import importlib.util
import re
from datetime import timedelta
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np
import pytest

from dashboard.explain import evaluation_text, event_text, find_stage, rule_paths
from triggers.engine import evaluate, load_rule_sets

# Latin words a Bangla explanation may keep: model and agency names.
ALLOWED_LATIN = {"BMD", "IMD", "ECMWF", "GFS", "JTWC"}


def _builders() -> ModuleType:
    """The trigger tests' forecast builders (exact members, levels and winds)."""
    path = Path(__file__).resolve().parents[1] / "triggers" / "conftest.py"
    spec = importlib.util.spec_from_file_location("trigger_builders", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fx = _builders()


def _forecasts(case: str) -> dict[str, Any]:
    if case == "flood_met":
        high = fx.members_matrix([40] * 15)
        return {
            "glofas": fx.glofas({"Bahadurabad": high + fx.sustained() - fx.THRESHOLD}),
            "ffwc": fx.ffwc([19.9, 20.2, 20.4, 20.5, 20.5]),
        }
    if case == "flood_not_met":
        return {
            "glofas": fx.glofas(fx.members_matrix([10] * 15)),
            "ffwc": fx.ffwc([18.0, 18.1, 18.2, 18.3, 18.4]),
        }
    if case == "flood_quorum":
        values = fx.members_matrix([30] * 15)
        values[:10, :] = np.nan  # 41 valid members: below the quorum of 46
        return {"glofas": fx.glofas(values)}
    if case == "cyclone_met":
        return {
            "bmd": fx.bulletin(
                {"BMD": 150, "IMD": 140, "ECMWF": 130, "GFS": 90, "JTWC": 160},
                lead_hours=48,
                observed={"BMD": 125},
                signals={"Mongla": 8},
            )
        }
    return {}  # no forecast at all: every rule unknown


CASES = ["flood_met", "flood_not_met", "flood_quorum", "cyclone_met", "nothing"]


def _stored(result: Any) -> SimpleNamespace:
    """What the pipeline keeps of an evaluation (agam.pipeline.evaluate._store)."""
    observed = dict(result.observed) | {"trigger_id": result.trigger_id}
    return SimpleNamespace(observed=observed, state=result.state)


def _latin_words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z]{2,}", text)) - ALLOWED_LATIN


@pytest.mark.parametrize("case", CASES)
def test_every_evaluation_reads_in_bangla(case: str) -> None:
    rule_sets = load_rule_sets()
    unions = fx.FakeUnions(distances={"BD40870001": 5.0, "BD40470001": 8.0})
    results = evaluate(rule_sets, _forecasts(case), unions, fx.AS_OF + timedelta(hours=1))
    assert results
    for result in results:
        stage = find_stage(rule_sets, result.rule_set_id, result.rule_set_version, result.stage_id)
        assert stage is not None
        text = evaluation_text(_stored(result), stage, "bn")
        assert text is not None, (case, result.stage_id, result.explanation)
        assert not _latin_words(text), (case, result.stage_id, text)
        assert text.endswith("।"), text
        english = evaluation_text(_stored(result), stage, "en")
        assert english is not None
        assert not re.search(r"[\u0980-\u09ff]", english)


def test_the_flood_action_explanation_says_what_the_engine_saw() -> None:
    rule_sets = load_rule_sets()
    results = evaluate(rule_sets, _forecasts("flood_met"), fx.FakeUnions(), fx.AS_OF)
    action = next(r for r in results if r.stage_id == "FLOOD_JAMUNA_ACTION")
    assert action.state == "met"
    stage = find_stage(rule_sets, action.rule_set_id, action.rule_set_version, action.stage_id)
    text = evaluation_text(_stored(action), stage, "bn")
    assert text is not None
    assert "বাহাদুরাবাদ" in text
    assert "২০.৩৫ মিটার" in text  # DL 19.50 + 0.85
    assert "বিপদসীমা ১৯.৫০ মিটার" in text
    assert "পদক্ষেপ পূরণ হয়েছে" in text
    readiness = next(r for r in results if r.stage_id == "FLOOD_JAMUNA_READINESS")
    text = evaluation_text(_stored(readiness), find_stage(rule_sets, *_key(readiness)), "bn")
    assert text is not None
    assert "১,০০,০০০ ঘনমিটার/সেকেন্ড" in text
    assert "৫১টির মধ্যে" in text


def _key(result: Any) -> tuple[str, str, str]:
    return result.rule_set_id, result.rule_set_version, result.stage_id


def test_rule_paths_follow_the_engine() -> None:
    """Every rule id the engine reports is found in the stage's rule tree."""
    rule_sets = load_rule_sets()
    results = evaluate(rule_sets, _forecasts("cyclone_met"), fx.FakeUnions(), fx.AS_OF)
    for result in results:
        stage = find_stage(rule_sets, *_key(result))
        # "intensity" is the stage's hazard-intensity evidence (ADR 0009), not a rule
        assert set(result.observed) - {"intensity"} <= set(rule_paths(stage)), result.stage_id


def test_unknown_versions_and_events_keep_the_english() -> None:
    event = {"to": "action", "explanation": "Stored English.", "actor": "system"}
    evaluation = SimpleNamespace(observed={"trigger_id": "GONE"}, state="met")
    assert event_text(event, evaluation, None, "bn") == ("Stored English.", False)
    assert event_text(event, evaluation, None, "en") == ("Stored English.", True)
    stood = event_text(
        {"to": "stood_down", "explanation": "x", "actor": "system"}, None, None, "bn"
    )
    assert stood[1]
    assert "প্রত্যাহার" in stood[0]
    closed = event_text(
        {"to": "closed", "explanation": "x", "actor": "dc.kurigram", "reason": "water receded"},
        None,
        None,
        "bn",
    )
    assert closed == ("dc.kurigram বন্ধ করেছেন: water receded", True)
