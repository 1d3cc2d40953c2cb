"""The alert state machine: legal moves only; unknown never lowers or closes an alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agam.core.errors import InvalidTransition
from triggers.lifecycle import AlertState, close, reconcile, transition

T0 = datetime(2024, 7, 1, tzinfo=UTC)


def test_raise_then_escalate() -> None:
    d = reconcile(AlertState(None, None), "readiness", False, T0)
    assert (d.change, d.stage, d.status) == ("raised", "readiness", "open")
    d = reconcile(AlertState("readiness", "open"), "action", False, T0)
    assert (d.change, d.stage) == ("escalated", "action")


def test_action_never_drops_back_and_observational_never_follows_action() -> None:
    assert reconcile(AlertState("action", "open"), "readiness", False, T0).change == "unchanged"
    d = reconcile(AlertState("action", "open"), "observational", False, T0)
    assert (d.change, d.stage) == ("unchanged", "action")


def test_stand_down_only_after_window_and_never_on_unknown() -> None:
    open_alert = AlertState("readiness", "open", window_end=T0)
    assert reconcile(open_alert, None, False, T0).change == "unchanged"
    assert reconcile(open_alert, None, True, T0 + timedelta(days=3)).change == "unchanged"
    d = reconcile(open_alert, None, False, T0 + timedelta(hours=1))
    assert (d.change, d.status) == ("stood_down", "stood_down")


def test_a_rule_set_may_stand_down_past_its_hazard_even_when_unknown() -> None:
    """Cyclones: bulletins stop after landfall; stale (unknown) must not hold an alert open
    once the stand-down time has passed, if the rule set says so."""
    open_alert = AlertState("action", "open", T0)
    late = T0 + timedelta(hours=1)
    assert reconcile(open_alert, None, True, late).change == "unchanged"
    assert reconcile(open_alert, None, True, late, stand_down_when_unknown=True).change == (
        "stood_down"
    )
    assert reconcile(open_alert, None, True, T0, stand_down_when_unknown=True).change == (
        "unchanged"  # not before the stand-down time
    )
    assert reconcile(open_alert, "action", True, late, stand_down_when_unknown=True).change == (
        "unchanged"  # a qualifying forecast keeps it
    )


def test_new_activation_after_stand_down() -> None:
    d = reconcile(AlertState("action", "stood_down"), "readiness", False, T0)
    assert (d.change, d.stage, d.status) == ("raised", "readiness", "open")


def test_close_needs_reason_and_an_open_alert() -> None:
    with pytest.raises(InvalidTransition, match="needs a reason"):
        close(AlertState("action", "open"), "  ")
    assert close(AlertState("action", "open"), "false alarm confirmed by FFWC").status == "closed"
    with pytest.raises(InvalidTransition):
        close(AlertState("action", "closed"), "again")


def test_unknown_stage_is_refused() -> None:
    with pytest.raises(InvalidTransition):
        transition(AlertState(None, None), "panic")
