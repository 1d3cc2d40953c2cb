"""The import's own row and audit entry, shared by both ways pass 2 writes.

`registry_import` writes a checked file; `registry_early_copy` writes a first load into an
empty store while the file is still being checked. Both open the import's row first (the rows
name it), and close it the same way once the check is done: the counts, the report, the audit
entry, and a dry run rolled back.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from agam.core.errors import RegistryError
from agam.core.timeutil import iso_utc
from allowances import registry_write as rw
from allowances.import_steps import step
from allowances.registry_check import Pass1
from store import audit
from store.db import Store
from store.identity import Principal, require_active
from store.models import Beneficiary, RegistryImport

log = logging.getLogger("allowances.registry_import")

IMPORT_ROLES = ("admin",)


@dataclass(frozen=True)
class Writing:
    """Who imports, when, and how: what pass 2 needs besides the rows."""

    at: datetime
    user: str
    principal: Principal | None
    dry_run: bool
    quarantine: bool
    sha: str


def has_beneficiaries(session: Session) -> bool:
    return session.scalar(select(Beneficiary.beneficiary_id).limit(1)) is not None


def store_is_empty(store: Store) -> bool:
    """No beneficiary yet (checked again in the import's transaction): a first load counts
    exposure and duplicates from its own rows, and may be written while it is checked."""
    with store.read() as session:
        return not has_beneficiaries(session)


def refused_by_store(file_name: str, exc: IntegrityError) -> RegistryError:
    return RegistryError(
        f"{file_name}: the store refused the import ({type(exc.orig).__name__}); "
        "was the same file imported concurrently?"
    )


def open_import(session: Session, writing: Writing, file_name: str) -> RegistryImport:
    """In the writing transaction: the importer is still an active admin, and the import's
    row is added (its totals are set by `close_import`)."""
    if writing.principal is not None:
        require_active(session, writing.principal, IMPORT_ROLES, doing="import registries")
    row = RegistryImport(
        file_name=file_name,
        sha256=writing.sha,
        rows_total=0,
        rows_imported=0,
        rows_quarantined=0,
        imported_at=writing.at,
        imported_by=writing.user,
        synthetic=False,
        report={},
    )
    session.add(row)
    session.flush()
    return row


def refuse_mixing(session: Session, row: RegistryImport, synthetic: bool) -> None:
    """Synthetic and real registry data never share a store (the other imports decide)."""
    others = select(RegistryImport.synthetic).where(RegistryImport.id != row.id).distinct()
    flags = set(session.scalars(others))
    if flags and flags != {synthetic}:
        held = "synthetic" if True in flags else "real"
        given = "synthetic" if synthetic else "real"
        raise RegistryError(
            f"{row.file_name}: the store holds {held} registry data and this file is {given}; "
            "use a separate database for synthetic data"
        )


def close_import(
    session: Session,
    row: RegistryImport,
    first: Pass1,
    counts: dict[str, int],
    dups: rw.Duplicates,
    writing: Writing,
) -> int:
    """The import's totals, report and audit entry; a dry run is rolled back here. Returns
    the import's id."""
    row.rows_total = first.total
    row.synthetic = first.synthetic
    row.rows_quarantined = first.bad_rows if writing.quarantine else 0
    row.rows_imported = counts["inserted"] + counts["updated"] + counts["unchanged"]
    row.report = stored_report(counts, first, dups, writing.at, row.rows_quarantined)
    audit.append(
        session,
        at=writing.at,
        actor=writing.user,
        action="registry.import",
        entity="registry_import",
        entity_id=row.id,
        payload={"file_name": row.file_name, "sha256": writing.sha, **row.report},
    )
    session.flush()
    import_id = row.id
    if writing.dry_run:
        session.rollback()
    return import_id


def committed(started: float) -> None:
    log.info("registry import: commit took %.1f s", time.perf_counter() - started)


def statistics_after(conn: Connection, counts: dict[str, int], writing: Writing) -> None:
    """After a large import has committed, the planner's statistics refreshed (ANALYZE as
    the owner); a failure there is a warning, not a failed import."""
    if writing.dry_run or counts["inserted"] + counts["updated"] < rw.BULK_LOAD_ROWS:
        return
    try:
        with step("statistics"):
            rw.refresh_statistics(conn)
    except SQLAlchemyError as exc:
        log.warning("registry import: statistics not refreshed (%s)", type(exc).__name__)


def stored_report(
    counts: dict[str, int], first: Pass1, dups: rw.Duplicates, at: datetime, quarantined: int
) -> dict[str, Any]:
    return {
        "counts": {
            "total": first.total,
            **counts,
            "quarantined": quarantined,
            "errors": first.errors_total,
        },
        "duplicates": dict(dups.counts),
        "ignored_columns": list(first.ignored),
        "synthetic": first.synthetic,
        "at": iso_utc(at),
    }
