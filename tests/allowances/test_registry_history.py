"""A refresh keeps each changed record's old version in beneficiary_history exactly as it was
stored (every written column; `updated_at` as ISO UTC), on SQLite (read out and inserted
again) and on PostgreSQL (copied by the server), so the two back ends keep the same history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from agam.core.timeutil import iso_utc
from allowances.registry_write import WRITTEN
from boundaries.layer import UnionLayer
from store.db import Store
from store.models import Beneficiary, BeneficiaryHistory
from tests.allowances.test_exposure_delta import refresh  # noqa: F401  (the fixture)
from tests.allowances.test_import_incremental import T1, T2, _fresh, _run


def _stored(store: Store) -> dict[str, dict[str, Any]]:
    columns = [getattr(Beneficiary, c) for c in WRITTEN]
    with store.session() as session:
        rows = session.execute(select(*columns)).mappings().all()
    out = {}
    for row in rows:
        record = dict(row)
        record["updated_at"] = iso_utc(record["updated_at"])
        out[record["beneficiary_id"]] = record
    return out


def test_a_refresh_keeps_the_old_versions_exactly(
    database_url: str,
    union_layer: UnionLayer,
    refresh: tuple[Path, Path],  # noqa: F811
) -> None:
    v1, v2 = refresh
    _run(_fresh(database_url), (v1, T1, 37), layer=union_layer)
    store = Store(database_url)
    before = _stored(store)
    store.dispose()
    (second,) = _run(Store(database_url), (v2, T2, 37), layer=union_layer)
    assert second.updated == 50
    store = Store(database_url)
    after = _stored(store)
    with store.session() as session:
        history = session.scalars(select(BeneficiaryHistory)).all()
    store.dispose()
    changed = {b for b in before if before[b] != after[b]}
    assert len(changed) == 50
    assert sorted(h.beneficiary_id for h in history) == sorted(changed)
    for kept in history:
        assert kept.import_id == second.import_id
        assert kept.superseded_at == T2
        assert kept.record == before[kept.beneficiary_id]
        assert set(kept.record) == set(WRITTEN)
