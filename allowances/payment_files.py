"""Payment files from an approved list only: CSV or XLSX per channel, plus a manifest.

This is the one place personal data leaves Agam. What is approved is what is paid: rows come
from the payees pinned when the list was proposed (covered by the approved content hash,
which is re-computed here), never from the registry as it is now. Lines whose registry record
changed since are paid as approved and named in the manifest; a change reaches payment only
through an approved amendment list, whose lines this list's file then leaves out. Files are
written into a temporary folder and renamed into place, so a reader never sees a half-written
batch.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import xlsxwriter
from sqlalchemy.orm import Session

from agam.core.errors import InvalidTransition
from agam.core.timeutil import iso_utc
from allowances.registry_validate import unsafe_cells
from store import audit, list_repo, payee_repo
from store.db import Store
from store.identity import Principal

XLSX_MAX_DATA_ROWS = 1_048_575  # 1,048,576 rows per sheet including the header
FIELDS = [
    "batch_id",
    "line_rank",
    "line_ref",
    "replaces_line_ref",
    "beneficiary_id",
    "household_id",
    "programme",
    "name_en",
    "name_bn",
    "nid",
    "birth_registration",
    "sex",
    "birth_year",
    "adm4_pcode",
    "ward",
    "village",
    "channel",
    "mfs_provider",
    "wallet_number",
    "bank_account",
    "routing_number",
    "post_office_code",
    "amount_bdt",
    "activation_id",
    "dedup_key",
    "value_date",
    "narration",
    "approved_by",
    "approved_at",
]

AMOUNT_COL = FIELDS.index("amount_bdt")


@dataclass(frozen=True)
class ExportResult:
    folder: Path
    manifest: dict[str, Any]


def _channel_groups(rows: pd.DataFrame) -> Iterator[tuple[str, pd.DataFrame]]:
    key = rows["channel"].where(rows["channel"] != "mfs", "mfs_" + rows["mfs_provider"])
    for name, part in rows.groupby(key, sort=True):
        yield str(name), part


def _refuse_unsafe(rows: pd.DataFrame, list_id: int) -> None:
    """Registry imports refuse formula-like cells and control characters; a payee that has
    one anyway was written behind the import's back, and nothing is exported."""
    for name in ("name_en", "name_bn", "ward", "village", "beneficiary_id", "household_id",
                 "mfs_provider", "post_office_code"):  # fmt: skip
        cells = pa.array(rows[name], pa.string())
        control, formula = unsafe_cells(cells)
        bad = control | formula
        if bad.any():
            refs = ", ".join(rows.loc[bad, "line_ref"].head(5))
            raise InvalidTransition(
                f"list {list_id}: {name} of line(s) {refs} holds a formula-like or control "
                "character; not exported"
            )


def _pinned_rows(
    session: Session, list_id: int, rows: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The included lines with their pinned payees, less the lines an approved amendment
    replaces; and what the manifest says about held and changed lines."""
    missing = rows.loc[
        (rows["beneficiary_id"] == "") | (rows["beneficiary_id"] != rows["line_beneficiary_id"]),
        "line_ref",
    ]
    if len(missing):
        raise InvalidTransition(
            f"list {list_id}: line(s) {', '.join(missing.head(5))} have no pinned payee; "
            "not exported"
        )
    held = list_repo.amended_refs(session, list_id, ("approved", "exported"))
    changed = payee_repo.changes(session, list_id)
    changed = changed[~changed["line_ref"].isin(held)]
    notes = {
        "held_lines": [{"line_ref": r, "amended_by_list": a} for r, a in sorted(held.items())],
        "registry_changed_lines": [
            {"line_ref": r, "fields": f}
            for r, f in zip(changed["line_ref"], changed["changed"], strict=True)
        ],
    }
    return rows[~rows["line_ref"].isin(held)], notes


def _check_ready(session: Session, list_id: int) -> None:
    pending = [
        a.id
        for a in list_repo.amendments_of(session, list_id)
        if a.status in ("draft", "submitted")
    ]
    if pending:
        raise InvalidTransition(
            f"amendment list(s) {', '.join(map(str, pending))} of list {list_id} are pending; "
            "approve or reject them first"
        )


def export_list(
    session: Session,
    list_id: int,
    principal: Principal,
    fmt: Literal["csv", "xlsx"],
    outdir: Path,
    at: datetime,
) -> ExportResult:
    """Check the approval (account, role, district, hash), then write the pinned payees of
    the approved list, files + manifest, atomically."""
    _check_ready(session, list_id)
    read: dict[str, pd.DataFrame] = {}

    def digest_of(version: int) -> str:  # one read: the hash checked and the rows written
        digest, read["rows"] = payee_repo.hashed_payment_rows(session, list_id, version)
        return digest

    row = list_repo.decide(session, list_id, principal, "export", at, digest_of=digest_of)
    approved = list_repo.approval(session, list_id)
    if approved is None or approved.content_sha256 != row.content_sha256:
        raise InvalidTransition(f"list {list_id}: no approval of this content; not exported")
    batch_id = f"AGAM-{row.district_pcode}-A{row.alert_id}-L{row.id}R{row.revision}"
    rows, notes = _pinned_rows(session, list_id, read["rows"])
    _refuse_unsafe(rows, list_id)
    approved_at = iso_utc(row.decided_at) if row.decided_at else ""
    rows = rows.assign(
        batch_id=batch_id,
        channel=rows["payment_channel"],
        replaces_line_ref=rows["amends_line_ref"],
        activation_id=f"A{row.alert_id}",
        value_date=at.date().isoformat(),
        narration=f"Anticipatory allowance {batch_id}",
        approved_by=row.approved_by or "",
        approved_at=approved_at,
        dedup_key=(
            rows["nid"].where(rows["nid"] != "", rows["birth_registration"])
            + "|"
            + rows["programme"]
            + f"|A{row.alert_id}"
        ),
    )[FIELDS]
    outdir.mkdir(parents=True, exist_ok=True)
    target = outdir / batch_id
    staging = Path(tempfile.mkdtemp(dir=outdir, prefix=f".{batch_id}."))
    files = []
    try:
        for channel, part in _channel_groups(rows):
            for path in _write(part, staging, f"{batch_id}_{channel}", fmt):
                files.append(
                    {
                        "file": path.name,
                        "channel": channel,
                        "rows": len(part),
                        "total_bdt": int(part["amount_bdt"].astype(int).sum()),
                        "sha256": _sha256(path),
                    }
                )
        manifest = {
            "batch_id": batch_id,
            "list_id": row.id,
            "kind": row.kind,
            "amends_list_id": row.amends_id,
            "revision": row.revision,
            "district_pcode": row.district_pcode,
            "activation_id": f"A{row.alert_id}",
            "list_content_sha256": row.content_sha256,
            "hash_version": row.hash_version,
            "approved_content_sha256": approved.content_sha256,
            "approval_decision_id": approved.id,
            "approved_by": row.approved_by,
            "second_approved_by": row.second_approved_by,
            "approved_at": approved_at,
            "generated_at": iso_utc(at),
            "generated_by": principal.username,
            "format": fmt,
            "rows": len(rows),
            "total_bdt": int(rows["amount_bdt"].astype(int).sum()),
            "files": files,
            **notes,
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2), "utf-8")
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ExportResult(target, manifest)


def export_payment_files(
    store: Store,
    list_id: int,
    principal: Principal,
    fmt: Literal["csv", "xlsx"],
    outdir: Path,
    at: datetime,
) -> ExportResult:
    """`export_list` in its own transaction; a refusal is audited, then raised."""
    with (
        audit.refusals_recorded(
            store,
            at=at,
            actor=principal.username,
            action="list.export",
            entity="allowance_list",
            entity_id=list_id,
        ),
        store.session() as session,
    ):
        return export_list(session, list_id, principal, fmt, outdir, at)


def _write(part: pd.DataFrame, folder: Path, stem: str, fmt: str) -> list[Path]:
    if fmt == "csv":
        # every cell text (quoted), the amount a bare integer; cells were checked for formulas
        # and control characters in _refuse_unsafe, so quoting is all a CSV cell needs
        path = folder / f"{stem}.csv"
        table = pa.Table.from_pandas(part, preserve_index=False)
        table = table.set_column(
            AMOUNT_COL, FIELDS[AMOUNT_COL], pc.cast(table[AMOUNT_COL], pa.int64())
        )
        pcsv.write_csv(table, path, pcsv.WriteOptions(quoting_style="needed"))
        return [path]
    path = folder / f"{stem}.xlsx"
    workbook = xlsxwriter.Workbook(
        str(path),
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False},
    )
    values = part.to_numpy()
    for sheet_no, start in enumerate(range(0, max(len(values), 1), XLSX_MAX_DATA_ROWS), 1):
        sheet = workbook.add_worksheet(f"payments_{sheet_no}")
        sheet.write_row(0, 0, FIELDS)
        for offset, record in enumerate(values[start : start + XLSX_MAX_DATA_ROWS], 1):
            for col, value in enumerate(record):
                if col == AMOUNT_COL:
                    sheet.write_number(offset, col, int(value))
                else:  # always text: identifiers keep leading zeros, nothing becomes a formula
                    sheet.write_string(offset, col, str(value))
    workbook.close()
    return [path]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
