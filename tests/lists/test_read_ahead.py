"""On PostgreSQL a tick reads and scores the next district's households while it writes this
one's list (agam.pipeline.propose.propose_all; SQLite proposes one after the other). The lists
are exactly those of proposing one after the other, and lines read ahead are never written
once what they were computed from changed."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from agam.core.settings import load_settings
from agam.pipeline import propose as pipeline_propose
from agam.pipeline.context import AppContext
from allowances import lists
from allowances.policy import load_policy
from store import list_repo
from store.db import Store
from store.models import Alert, AllowanceLine, AllowanceList, Evaluation, RegistryImport

from .conftest import KURIGRAM, T0, UNIONS, _beneficiary, seed

NOW = T0 + timedelta(hours=1)


@pytest.fixture
def made() -> Iterator[list[AppContext]]:
    """The contexts a test made, their stores closed afterwards even when it fails."""
    contexts: list[AppContext] = []
    yield contexts
    for ctx in contexts:
        ctx.store.dispose()


def _context(
    url: str, config_path: Path, monkeypatch: pytest.MonkeyPatch, made: list[AppContext]
) -> AppContext:
    """A seeded store with two open Kurigram alerts (flood on two unions, cyclone on one)."""
    monkeypatch.setenv("AGAM_DATABASE_URL", url)
    store = seed(Store(url))
    with store.session() as session:
        session.execute(select(Alert)).scalar_one().affected_unions = UNIONS[:2]
        evaluation = Evaluation(input_key="c", rule_set_id="ocha_cerf_cyclone_2025",
                                rule_set_version="1", stage="action", as_of=T0, state="met",
                                explanation="test", created_at=T0)  # fmt: skip
        session.add(evaluation)
        session.flush()
        cyclone = Alert(rule_set_id="ocha_cerf_cyclone_2025", rule_set_version="1",
                        district_pcode=KURIGRAM, stage="action", status="open", opened_at=T0,
                        updated_at=T0, first_evaluation_id=evaluation.id,
                        last_evaluation_id=evaluation.id, affected_unions=UNIONS[2:])  # fmt: skip
        session.add(cyclone)
    store.dispose()
    made.append(AppContext(load_settings(config_path), clock=lambda: NOW))
    return made[-1]


def _lists(ctx: AppContext) -> list[tuple[Any, ...]]:
    with ctx.store.read() as session:
        rows = session.scalars(select(AllowanceList).order_by(AllowanceList.id)).all()
        return [(r.alert_id, r.households, r.total_bdt, list_repo.list_hash(session, r.id))
                for r in rows]  # fmt: skip


@pytest.fixture
def ctx(
    database_url: str, config_path: Path, monkeypatch: pytest.MonkeyPatch, made: list[AppContext]
) -> AppContext:
    return _context(database_url, config_path, monkeypatch, made)


def _on_list(ctx: AppContext, list_id: int, column: Any) -> set[Any]:
    with ctx.store.read() as session:
        return set(session.scalars(select(column).where(AllowanceLine.list_id == list_id)))


def _registry_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the threads that read a district's households."""
    threads: list[str] = []
    real = lists.frames.beneficiaries_for_unions

    def spy(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(lists.frames, "beneficiaries_for_unions", spy)
    return threads


def test_lists_read_ahead_are_the_lists_proposed_one_by_one(
    database_url: str,
    another_postgres_database: Callable[[], str],
    config_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    made: list[AppContext],
) -> None:
    twin_url = (
        f"sqlite:///{tmp_path / 'twin.sqlite3'}"
        if database_url.startswith("sqlite")
        else another_postgres_database()
    )
    one_by_one = _context(twin_url, config_path, monkeypatch, made)
    for alert_id in (1, 2):
        pipeline_propose.propose_for_alert(one_by_one, alert_id, load_policy())
    expected = _lists(one_by_one)

    ctx = _context(database_url, config_path, monkeypatch, made)
    threads = _registry_reads(monkeypatch)
    pipeline_propose.propose_all(ctx, [1, 2, 1], load_policy())
    assert _lists(ctx) == expected
    assert [a for a, households, *_ in expected] == [1, 2]
    assert all(h for _, h, *_ in expected)
    # each district read once: on PostgreSQL by the second thread only (the writes used
    # what it read), on SQLite by the writing thread
    ahead = "MainThread" if database_url.startswith("sqlite") else "agam-read-ahead"
    assert len(threads) == 2
    assert all(t.startswith(ahead) for t in threads)


def test_a_registry_import_after_the_read_ahead_is_read_again(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = load_policy()
    ahead = pipeline_propose.prepare_for_alert(ctx, 1, policy)
    assert "SYN-H77777" not in set(ahead.lines["household_id"])
    with ctx.store.session() as session:  # a newer registry, committed meanwhile
        session.add(RegistryImport(file_name="more.csv", sha256="m" * 64, rows_total=1,
                                   rows_imported=1, imported_at=NOW, imported_by="test",
                                   synthetic=True))  # fmt: skip
        session.flush()
        session.add(_beneficiary(777, household_id="SYN-H77777", adm4_pcode=UNIONS[0]))
    threads = _registry_reads(monkeypatch)
    row = pipeline_propose.propose_for_alert(ctx, 1, policy, ahead=ahead)
    assert "SYN-H77777" in _on_list(ctx, row.id, AllowanceLine.household_id)
    assert threads == ["MainThread"]


def test_lines_read_ahead_for_other_unions_are_not_written(ctx: AppContext) -> None:
    policy = load_policy()
    ahead = pipeline_propose.prepare_for_alert(ctx, 1, policy)
    assert set(ahead.lines["adm4_pcode"]) == set(UNIONS[:2])
    with ctx.store.session() as session:  # the alert now targets one union only
        session.execute(select(Alert).where(Alert.id == 1)).scalar_one().affected_unions = [
            UNIONS[0]
        ]
    row = pipeline_propose.propose_for_alert(ctx, 1, policy, ahead=ahead)
    assert _on_list(ctx, row.id, AllowanceLine.adm4_pcode) == {UNIONS[0]}


def test_a_failed_read_ahead_is_read_while_writing(
    ctx: AppContext,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the read-ahead connection went away")

    monkeypatch.setattr(pipeline_propose, "prepare_for_alert", broken)
    with caplog.at_level(logging.WARNING, logger="agam.pipeline.propose"):
        pipeline_propose.propose_all(ctx, [1, 2], load_policy())
    assert [a for a, households, *_ in _lists(ctx) if households] == [1, 2]
    warned = [r.getMessage() for r in caplog.records if r.name == "agam.pipeline.propose"]
    assert len(warned) == (0 if database_url.startswith("sqlite") else 2)
    assert all("RuntimeError" in w for w in warned)
