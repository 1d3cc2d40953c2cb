"""A row read again, locked, before a decision is taken on it.

PostgreSQL runs transactions side by side (READ COMMITTED): a row read earlier may have been
decided on since. `reread_locked` reads it again `FOR NO KEY UPDATE` (what an UPDATE of its
non-key columns takes, so new rows may still refer to it) and refreshes what the session
holds, so the later of two deciders sees what the earlier committed. SQLite has one writer
at a time and no row locks: there it is a plain read.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.orm import Session

Row = TypeVar("Row")


def reread_locked(session: Session, model: type[Row], key: Any) -> Row | None:
    """`model`'s row `key`, read again with its row locked to the end of the transaction."""
    return session.get(model, key, with_for_update={"key_share": True}, populate_existing=True)
