"""A first load counts union_exposure in Arrow; the SQL GROUP BYs of allowances.exposure
must give exactly the same table from the stored rows (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from allowances import exposure_arrow
from allowances.exposure import recompute_exposure
from allowances.exposure_arrow import count_exposure
from allowances.registry_import import import_registry
from allowances.synthetic import generate_registry
from boundaries.layer import UnionLayer
from store.db import Store
from tests.allowances.conftest import exposure_table

AT = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize("group_rows", [2_000_000, 700], ids=["one-group", "union-groups"])
def test_first_load_exposure_equals_the_sql_recompute(
    tmp_path: Path,
    database_url: str,
    union_layer: UnionLayer,
    group_rows: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Counted in one go or in disjoint groups of unions (as at national scale)."""
    monkeypatch.setattr(exposure_arrow, "GROUP_ROWS", group_rows)
    registry = tmp_path / "registry.csv"
    generate_registry(union_layer, 3000, 5, registry, fmt="csv")
    store = Store(database_url)
    try:
        store.upgrade()
        report = import_registry(store, registry, union_layer, at=AT)
        assert report.inserted > 3000
        counted_in_arrow = exposure_table(store)
        with store.engine.begin() as conn:
            recompute_exposure(conn, AT)  # every union, from the stored beneficiaries
        counted_in_sql = exposure_table(store)
    finally:
        store.dispose()
    assert len(counted_in_arrow) > 100
    assert set(counted_in_arrow["programme"]) > {"all"}
    pd.testing.assert_frame_equal(counted_in_arrow, counted_in_sql)


def test_a_household_counts_once_per_group_and_flags_if_any_member_has_them() -> None:
    rows = pa.table(
        {
            "adm4_pcode": ["U1", "U1", "U1", "U2"],
            "programme": ["old_age", "old_age", "widow", "old_age"],
            "household_id": ["H1", "H1", "H1", "H2"],
            "female_headed": [False, True, False, None],
            "disability": [False, False, True, False],
            "birth_year": [1950, 1990, 1980, 1961],
            "pregnant_lactating": [False, False, False, False],
            "children_under5": [0, 2, 0, 0],
            "char_resident": [False, False, False, True],
        }
    )
    counted = {(r[0], r[1]): r[2:] for r in count_exposure(rows, 2025)}
    # households, beneficiaries, female_headed, disability, elderly, pregnant, under5, char
    assert counted[("U1", "old_age")] == (1, 2, 1, 0, 1, 0, 1, 0)
    assert counted[("U1", "widow")] == (1, 1, 0, 1, 0, 0, 0, 0)
    assert counted[("U1", "all")] == (1, 3, 1, 1, 1, 0, 1, 0)
    assert counted[("U2", "all")] == (1, 1, 0, 0, 0, 0, 0, 1)  # born 1961: not 65 in 2025
