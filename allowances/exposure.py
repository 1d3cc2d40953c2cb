"""Exposure: households and beneficiaries per union, by programme and vulnerability flag.

`recompute_exposure` rebuilds the `union_exposure` table from `beneficiaries` with two SQL
GROUP BYs (one per programme, one over all programmes as ``programme = "all"``) inside the
caller's transaction; the registry import calls it once, for the unions it touched.
`exposure_by_union` reads it back for the trigger engine and the map's density layer:
aggregates only, no personal data.

Flag columns count households with at least one beneficiary having the flag:
``households_elderly`` uses age >= 65 in ``as_of_year`` (birth_year <= as_of_year - 65),
``households_children_under5`` means children_under5 > 0.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Select, Table, case, delete, func, insert, literal, select, true
from sqlalchemy.sql.elements import ColumnElement

from allowances.registry_schema import ELDERLY_AGE_YEARS
from store.db import Store
from store.models import Beneficiary, UnionExposure
from store.types import UTCDateTime

EXPOSURE: Table = UnionExposure.__table__  # type: ignore[assignment]
B: Table = Beneficiary.__table__  # type: ignore[assignment]
ALL_PROGRAMMES = "all"
UNION_BATCH = 500  # unions per incremental rebuild statement
COUNT_COLUMNS = (
    "households",
    "beneficiaries",
    "households_female_headed",
    "households_disability",
    "households_elderly",
    "households_pregnant_lactating",
    "households_children_under5",
    "households_char_resident",
)


def flag_conditions(as_of_year: int) -> dict[str, ColumnElement[bool]]:
    c = B.c
    return {
        "households_female_headed": c.female_headed == true(),
        "households_disability": c.disability == true(),
        "households_elderly": c.birth_year <= as_of_year - ELDERLY_AGE_YEARS,
        "households_pregnant_lactating": c.pregnant_lactating == true(),
        "households_children_under5": c.children_under5 > 0,
        "households_char_resident": c.char_resident == true(),
    }


def _households_where(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.count(case((condition, B.c.household_id)).distinct())


def grouped_counts(as_of_year: int, by_programme: bool) -> Select[Any]:
    """adm4_pcode, programme and COUNT_COLUMNS per union and programme, or per union over
    every programme (programme ``"all"``)."""
    programme = B.c.programme if by_programme else literal(ALL_PROGRAMMES)
    return select(
        B.c.adm4_pcode,
        programme,
        func.count(B.c.household_id.distinct()),
        func.count(),
        *[_households_where(cond) for cond in flag_conditions(as_of_year).values()],
    ).group_by(B.c.adm4_pcode, *([B.c.programme] if by_programme else []))


def recompute_exposure(
    conn: Connection, at: datetime, unions: Collection[str] | None = None
) -> int:
    """Rebuild union_exposure from the current beneficiaries; returns the rows written.

    With `unions` (the unions whose beneficiaries an import inserted or changed, old and new
    union of a moved record), only their rows are rebuilt; the others cannot have changed.
    A different `as_of_year` (the elderly flag moves with it) rebuilds everything. Two
    GROUP BYs (union x programme, union); households are COUNT(DISTINCT household_id).
    """
    import_ids = sorted(conn.scalars(select(B.c.import_id).distinct()))
    years = set(conn.scalars(select(EXPOSURE.c.as_of_year).distinct()))
    if unions is None or not years <= {at.year}:
        conn.execute(delete(EXPOSURE))
        written = _insert_exposure(conn, at, None)
    else:
        written = 0
        codes = sorted(unions)
        for start in range(0, len(codes), UNION_BATCH):
            part = codes[start : start + UNION_BATCH]
            conn.execute(delete(EXPOSURE).where(EXPOSURE.c.adm4_pcode.in_(part)))
            written += _insert_exposure(conn, at, part)
    conn.execute(EXPOSURE.update().values(source_import_ids=import_ids))
    return written


def _insert_exposure(conn: Connection, at: datetime, unions: list[str] | None) -> int:
    columns = ["adm4_pcode", "programme", *COUNT_COLUMNS, "as_of_year", "computed_at"]
    written = 0
    for by_programme in (True, False):
        query = grouped_counts(at.year, by_programme).add_columns(
            literal(at.year), literal(at, UTCDateTime())
        )
        if unions is not None:
            query = query.where(B.c.adm4_pcode.in_(unions))
        written += conn.execute(insert(EXPOSURE).from_select(columns, query)).rowcount or 0
    return written


def exposure_by_union(store: Store, programme: str | None = ALL_PROGRAMMES) -> pd.DataFrame:
    """union_exposure as a frame: one row per (adm4_pcode, programme), counts as int64.

    ``programme="all"`` (default) gives one row per union over every programme, ready to join to
    the union layer; a programme code restricts to it; ``None`` returns every row.
    """
    cols = [EXPOSURE.c[name] for name in ("adm4_pcode", "programme", *COUNT_COLUMNS)]
    stmt = select(*cols, EXPOSURE.c.as_of_year, EXPOSURE.c.computed_at)
    if programme is not None:
        stmt = stmt.where(EXPOSURE.c.programme == programme)
    with store.engine.connect() as conn:
        rows = conn.execute(stmt.order_by(EXPOSURE.c.adm4_pcode, EXPOSURE.c.programme)).all()
    frame = pd.DataFrame(
        [tuple(r) for r in rows],
        columns=["adm4_pcode", "programme", *COUNT_COLUMNS, "as_of_year", "computed_at"],
    )
    for name in (*COUNT_COLUMNS, "as_of_year"):
        frame[name] = frame[name].astype("int64")
    return frame
