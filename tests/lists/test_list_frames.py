"""A list's lines read with the driver's cursor (store.frames) are exactly what pandas reads
through SQLAlchemy's types: the same columns, dtypes and values, NULLs and JSON included."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from sqlalchemy import select

from allowances.lists import edit
from store import list_repo
from store.db import Store
from store.models import AllowanceLine
from tests.lists.test_payee_pinning import T0, sign_in


def _reference(store: Store, list_id: int) -> pd.DataFrame:
    """pandas.read_sql through SQLAlchemy's types, its text columns as object with None for
    NULL (as the driver read gives them; read_sql makes a column with a NULL `str` with NaN)."""
    stmt = select(AllowanceLine).where(AllowanceLine.list_id == list_id)
    with store.read() as session:
        frame = pd.read_sql(stmt.order_by(AllowanceLine.rank), session.connection())
    for name in frame.columns[frame.dtypes == "str"]:
        frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return frame


def _draft_and_edit(store: Store, draft: Callable[[Store], int], excluded: int) -> tuple[int, int]:
    """A proposed draft and the revision an officer made of it, excluding one household."""
    first = draft(store)
    officer = sign_in(store, "officer.kurigram")
    with store.session() as session:
        household = list_repo.raw_lines(session, first)["household_id"].iloc[excluded]
        second = edit(session, list_id=first, principal=officer, exclude={household: "moved"},
                      reason="moved away", at=T0).id  # fmt: skip
    return first, second


def test_the_lines_read_as_pandas_reads_them(store: Store, draft: Callable[[Store], int]) -> None:
    for list_id in _draft_and_edit(store, draft, excluded=0):
        with store.read() as session:
            lines = list_repo.raw_lines(session, list_id)
        reference = _reference(store, list_id)
        pd.testing.assert_frame_equal(lines, reference)
        assert lines["reasons"].map(type).eq(list).all()
    excluded = lines.loc[~lines["included"]]
    assert excluded["exclusion_reason"].map(type).eq(str).all()
    assert lines.loc[lines["included"], "exclusion_reason"].map(lambda v: v is None).all()


def test_a_review_reads_only_the_lines_it_shows(
    store: Store, draft: Callable[[Store], int]
) -> None:
    _, list_id = _draft_and_edit(store, draft, excluded=1)
    with store.read() as session:
        whole = list_repo.lines_frame(session, list_id)
        for included_only in (False, True):
            expected = whole[whole["included"]] if included_only else whole
            for limit in (1, 3, len(whole) + 5):
                part = list_repo.lines_frame(
                    session, list_id, included_only=included_only, limit=limit
                )
                head = expected.head(limit).reset_index(drop=True)
                pd.testing.assert_frame_equal(part, head)
        assert list_repo.line_count(session, list_id) == len(whole)
    assert (whole["payee"] != "").sum() == whole["included"].sum()
