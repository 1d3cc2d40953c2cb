"""Exposure kept by difference: a refresh that changes flags, moves members between
households and unions, and adds members to households already stored gives the counts a
one-shot import of the same file gives (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import text

from allowances import exposure_delta
from allowances.synthetic import generate_registry
from boundaries.layer import UnionLayer
from store.db import Store
from tests.allowances.test_import_incremental import T1, T2, _fresh, _run, _store_tables


@pytest.fixture
def refresh(tmp_path: Path, union_layer: UnionLayer) -> tuple[Path, Path]:
    """v1, and v2: flags flipped on 40 records, 10 records moved into another stored
    household (and its union), 15 new members of stored households, 5 records unchanged
    but listed last."""
    generate_registry(union_layer, 300, 3, tmp_path / "v1.csv", fmt="csv")
    v1 = pd.read_csv(tmp_path / "v1.csv", dtype=str, keep_default_na=False)
    v2 = v1.copy()
    flipped = v2.index[:40]
    for flag in ("disability", "female_headed", "char_resident"):
        v2.loc[flipped, flag] = v2.loc[flipped, flag].map({"true": "false", "false": "true"})
    v2.loc[flipped, "children_under5"] = "0"
    donors = v2.iloc[200:210]
    moved = v2.index[40:50]
    v2.loc[moved, "household_id"] = donors["household_id"].to_numpy()
    v2.loc[moved, "adm4_pcode"] = donors["adm4_pcode"].to_numpy()
    members = v2.iloc[100:115].copy()
    members["beneficiary_id"] = [f"SYN-NEW-{i:04d}" for i in range(len(members))]
    tail = v2.iloc[:5]
    v2 = pd.concat([v2.iloc[5:], members, tail])
    v2.to_csv(tmp_path / "v2.csv", index=False)
    return tmp_path / "v1.csv", tmp_path / "v2.csv"


@pytest.mark.parametrize("tampered", [False, True])
def test_a_refresh_counts_what_a_one_shot_import_counts(
    tampered: bool,
    database_url: str,
    another_postgres_database: Callable[[], str],
    tmp_path: Path,
    union_layer: UnionLayer,
    refresh: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tampered: union_exposure emptied behind the imports' back between them; a difference
    that would make a count negative recounts the table instead of keeping it wrong."""
    v1, v2 = refresh
    recounted: list[object] = []
    recount = exposure_delta.recompute_exposure

    def recording(*args: Any) -> int:
        recounted.append(args)
        return recount(*args)

    monkeypatch.setattr(exposure_delta, "recompute_exposure", recording)
    _run(_fresh(database_url), (v1, T1, 37), layer=union_layer)
    if tampered:
        store = Store(database_url)
        with store.engine.begin() as conn:
            conn.execute(text("UPDATE union_exposure SET households = 0, beneficiaries = 0"))
        store.dispose()
    (second,) = _run(Store(database_url), (v2, T2, 37), layer=union_layer)
    assert (second.status, second.inserted, second.updated) == ("imported", 15, 50)
    assert len(recounted) == (1 if tampered else 0)  # by difference unless it cannot be
    store = Store(database_url)
    incremental = _store_tables(store)[1]
    store.dispose()
    sqlite = database_url.startswith("sqlite")
    reference = _fresh(
        f"sqlite:///{tmp_path / 'one.sqlite3'}" if sqlite else another_postgres_database()
    )
    url = reference.engine.url.render_as_string(hide_password=False)
    (only,) = _run(reference, (v2, T2, 1_000_000), layer=union_layer)
    assert only.status == "imported"
    one_shot = Store(url)
    expected = _store_tables(one_shot)[1]
    one_shot.dispose()
    pd.testing.assert_frame_equal(incremental, expected)


def test_a_new_year_recounts_every_union(
    database_url: str, union_layer: UnionLayer, refresh: tuple[Path, Path]
) -> None:
    """The elderly flag moves with the year: a refresh in a later year recounts everything."""
    v1, v2 = refresh
    later = datetime(2026, 1, 15, tzinfo=UTC)
    _run(_fresh(database_url), (v1, T1, 37), (v2, later, 37), layer=union_layer)
    store = Store(database_url)
    with store.engine.connect() as conn:
        years = set(conn.execute(text("SELECT as_of_year FROM union_exposure")).scalars())
    store.dispose()
    assert years == {2026}
