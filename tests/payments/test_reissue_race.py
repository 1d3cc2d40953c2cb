"""Two officers re-issue the failed lines of one list at once (PostgreSQL). The second waits
for the first and then finds nothing left to re-issue: the failed households are proposed
once, not on two lists that could both be approved and paid."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from agam.core.errors import InvalidTransition
from allowances.payment_results import import_results, reissue
from store.db import Store
from store.models import AllowanceList

from .test_payment_results import T0, approved_and_exported, result, write_return


def test_a_second_reissue_waits_and_finds_nothing_left(
    store: Store, draft_id: int, who: Callable[[str], Any], outdir: Path, tmp_path: Path
) -> None:
    if not store.url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: the second cannot start meanwhile")
    exported = approved_and_exported(store, draft_id, who, outdir)
    failed = write_return(tmp_path / "r.csv", [result(r, "failed") for r in exported[:3]])
    import_results(store, draft_id, who("officer.kurigram"), failed, T0)
    outcome: dict[str, Any] = {}

    def second() -> None:
        try:
            with store.session() as session:
                reissue(session, list_id=draft_id, principal=who("admin.a"), at=T0)
            outcome["proposed"] = True
        except InvalidTransition as exc:
            outcome["refused"] = str(exc)

    with store.session() as session:
        reissue(session, list_id=draft_id, principal=who("officer.kurigram"), at=T0)
        other = threading.Thread(target=second)
        other.start()
        other.join(timeout=3)
        assert other.is_alive()  # waiting for the first re-issue's transaction
    other.join(timeout=60)
    assert "no failed line" in outcome.get("refused", ""), outcome
    with store.read() as session:
        count = select(func.count()).where(AllowanceList.kind == "reissue")
        assert session.scalar(count) == 1
