"""An officer's amendment and the district administrator's export of the same approved list
at once (PostgreSQL). The amendment holds the list until it commits, so the export waits and
then refuses because an amendment is pending. Otherwise the export would pay the old payees
while the amendment, approved later, paid the new ones: the same households twice."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agam.core.errors import InvalidTransition
from allowances.lists import amend
from allowances.payment_files import export_list
from boundaries.layer import UnionLayer
from store import list_repo
from store.db import Store

from .test_payee_pinning import T1, _approved, _reimport_with_new_wallets, sign_in


def test_an_export_waits_for_an_amendment_being_drafted_and_refuses(
    store: Store, draft: Callable[[Store], int], tmp_path: Path, union_layer: UnionLayer
) -> None:
    if not store.url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: the export cannot start meanwhile")
    list_id = _approved(store, draft)
    _reimport_with_new_wallets(store, tmp_path, union_layer)
    officer, dc = sign_in(store, "officer.kurigram"), sign_in(store, "dc.kurigram")
    outcome: dict[str, Any] = {}

    def export() -> None:
        try:
            with store.session() as session:
                export_list(session, list_id, dc, "csv", tmp_path / "pay", T1)
            outcome["exported"] = True
        except InvalidTransition as exc:
            outcome["refused"] = str(exc)

    with store.session() as session:
        amendment = amend(session, list_id=list_id, principal=officer, at=T1).id
        exporter = threading.Thread(target=export)
        exporter.start()
        exporter.join(timeout=3)
        assert exporter.is_alive()  # waiting for the amendment's transaction
    exporter.join(timeout=60)
    assert "pending" in outcome.get("refused", ""), outcome
    with store.read() as session:
        assert list_repo.get_list(session, list_id).status == "approved"
        assert list_repo.get_list(session, amendment).status == "draft"
    assert not (tmp_path / "pay").exists() or not any((tmp_path / "pay").iterdir())
