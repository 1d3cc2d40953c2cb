"""A rule set or allowance policy version is judged with one content only.

The first evaluation that uses a rule set version, and the first list that uses a policy
version, store the loaded content and its hash; a threshold edited without a new version is
refused by the evaluation (nothing stored), by the scheduler's start and by the database's
guards on the rows."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from agam.core.errors import ConfigError
from agam.pipeline import evaluate
from agam.pipeline.context import AppContext
from agam.pipeline.versions_in_use import (
    check_configured,
    configured_fingerprints,
    recorded_rule_sets,
)
from agam.scheduler import run_feed_job, run_scheduler
from allowances.policy import load_policy, policy_fingerprint
from store import config_versions
from store.models import ConfigVersion, Evaluation
from triggers.engine import builtin_rule_set_dir, load_rule_set
from triggers.model import RuleSet

JUDGED_AT = datetime(2025, 5, 25, 12, 0, tzinfo=UTC)  # the bulletin calls for action alerts
CYCLONE = "ocha_cerf_cyclone_2025"


@pytest.fixture
def site(remal_site: Callable[..., AppContext]) -> AppContext:
    ctx: AppContext = remal_site(lambda: JUDGED_AT)
    return ctx


def edited_cyclone(folder: Path, version: str | None = None) -> RuleSet:
    """The shipped cyclone rule set with its action stage at 100 km/h instead of 118, under
    the same version unless `version` is given: what an edit without a new version loads."""
    text_ = (builtin_rule_set_dir() / f"{CYCLONE}.toml").read_text(encoding="utf-8")
    text_ = text_.replace("threshold_kmh = 118", "threshold_kmh = 100")
    if version is not None:
        text_ = text_.replace('version = "2025.2"', f'version = "{version}"', 1)
    path = folder / "edited.toml"
    path.write_text(text_, encoding="utf-8")
    return load_rule_set(path)


def with_rule_set(ctx: AppContext, monkeypatch: pytest.MonkeyPatch, edited: RuleSet) -> None:
    loaded = [edited if s.id == edited.id else s for s in ctx.rule_sets()]
    monkeypatch.setattr(ctx, "rule_sets", lambda: loaded)


def recorded(ctx: AppContext) -> dict[tuple[str, str, str], ConfigVersion]:
    with ctx.store.read() as session:
        rows = session.scalars(select(ConfigVersion)).all()
        return {(r.kind, r.config_id, r.version): r for r in rows}


def evaluations(ctx: AppContext) -> int:
    with ctx.store.read() as session:
        return int(session.scalar(select(func.count()).select_from(Evaluation)) or 0)


def test_the_first_use_records_what_each_version_says(site: AppContext) -> None:
    outcome, changes = run_feed_job(site, "bmd")
    assert outcome.outcome == "success"
    assert changes
    stored = recorded(site)
    cyclone = stored[("rule_set", CYCLONE, "2025.2")]
    assert json.loads(cyclone.content)["stages"][1]["rule"]["threshold_kmh"] == 118
    policy = load_policy()
    assert ("allowance_policy", policy.id, policy.version) in stored  # a list was proposed
    for found in configured_fingerprints(site):
        if (found.kind, found.config_id, found.version) in stored:
            assert stored[(found.kind, found.config_id, found.version)].content_sha256 == (
                found.sha256
            )
    check_configured(site)  # the same files: nothing to refuse
    run_feed_job(site, "bmd")  # judged again: one row per version still
    assert recorded(site).keys() == stored.keys()


def test_a_threshold_edited_without_a_new_version_is_refused(
    site: AppContext, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    run_feed_job(site, "bmd")
    before = (evaluations(site), recorded(site))
    with_rule_set(site, monkeypatch, edited_cyclone(tmp_path))
    refused = rf"rule set {CYCLONE} version 2025\.2 was first used on 2025-05-25 18:00 UTC\+6"
    with pytest.raises(ConfigError, match=refused + r" with other content .*new version"):
        evaluate.judge_and_reconcile(site, JUDGED_AT)
    assert (evaluations(site), recorded(site).keys()) == (before[0], before[1].keys())
    with pytest.raises(ConfigError, match=refused):
        check_configured(site)
    with pytest.raises(ConfigError, match=refused):  # before it takes the scheduler lock
        run_scheduler(site, duration_s=5)


def test_a_new_version_is_recorded_beside_the_old(
    site: AppContext, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    run_feed_job(site, "bmd")
    with_rule_set(site, monkeypatch, edited_cyclone(tmp_path, version="2025.3"))
    evaluate.judge_and_reconcile(site, JUDGED_AT)
    stored = recorded(site)
    assert {("rule_set", CYCLONE, "2025.2"), ("rule_set", CYCLONE, "2025.3")} <= stored.keys()
    new = json.loads(stored[("rule_set", CYCLONE, "2025.3")].content)
    assert new["stages"][1]["rule"]["threshold_kmh"] == 100


def test_a_policy_amount_edited_without_a_new_version_is_refused(site: AppContext) -> None:
    run_feed_job(site, "bmd")
    policy = load_policy()
    edited = policy.model_copy(update={"amount_per_household_bdt": 9_000})
    with site.store.session() as session:
        config_versions.record(session, [policy_fingerprint(policy)], JUDGED_AT)  # the same
        with pytest.raises(ConfigError, match=rf"allowance policy {policy.id} version"):
            config_versions.record(session, [policy_fingerprint(edited)], JUDGED_AT)
    with site.store.read() as session:
        problems = config_versions.conflicts(session, configured_fingerprints(site, edited))
    assert len(problems) == 1
    assert problems[0].startswith(f"allowance policy {policy.id} version {policy.version} ")
    bumped = replace(policy_fingerprint(edited), version=f"{policy.version}-b")
    with site.store.session() as session:
        config_versions.record(session, [bumped], JUDGED_AT)


def test_the_database_keeps_every_recorded_version(site: AppContext) -> None:
    run_feed_job(site, "bmd")
    for statement in (
        "UPDATE config_versions SET content_sha256 = 'x' WHERE config_id = :c",
        "DELETE FROM config_versions WHERE config_id = :c",
    ):
        with (
            pytest.raises(DBAPIError, match="never changed or deleted"),
            site.store.engine.begin() as conn,
        ):
            conn.execute(text(statement), {"c": CYCLONE})
    assert ("rule_set", CYCLONE, "2025.2") in recorded(site)


def test_an_evaluation_is_explained_by_the_version_it_used_after_its_file_is_replaced(
    site: AppContext, tmp_path: Path
) -> None:
    """The dashboard words a stored evaluation from its rule set version's parameters. Once a
    new version replaced the file, only the store still holds the old one: the Bangla
    sentence comes from it, with the thresholds that evaluation was judged with."""
    from dashboard.explain import evaluation_text, find_stage

    run_feed_job(site, "bmd")
    with site.store.read() as session:
        recorded = recorded_rule_sets(session)
        met = (Evaluation.rule_set_id == CYCLONE, Evaluation.state == "met")
        picked = select(Evaluation).where(*met, Evaluation.stage == "action")
        action = session.scalars(picked).first()
        assert action is not None
        session.expunge(action)
    loaded = {(s.id, s.version): s for s in site.rule_sets()}
    assert {(s.id, s.version): s for s in recorded} == {
        k: v for k, v in loaded.items() if k in {(s.id, s.version) for s in recorded}
    }
    replaced = [edited_cyclone(tmp_path, version="2025.3")]  # the old file gone
    key = (action.rule_set_id, action.rule_set_version, action.observed["trigger_id"])
    assert find_stage(replaced, *key) is None  # before: the stored English sentence only
    stage = find_stage([*recorded, *replaced], *key)
    text = evaluation_text(action, stage, "bn")
    assert text is not None
    assert "১১৮" in text  # 118 km/h as judged, not the new file's 100
    assert "১০০ কিমি" not in text
