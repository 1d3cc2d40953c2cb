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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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

from agam.core.errors import InvalidTransition, PaymentFileError
from agam.core.private_files import OWNER_ONLY_FILE
from agam.core.timeutil import iso_utc
from allowances import payment_rows
from store import audit, line_rows, list_repo, payee_repo, payment_repo, payment_snapshot
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


def _prepare_sealed(
    list_id: int, parts: list[payment_snapshot.Part], version: int, held: dict[str, int]
) -> payment_rows.PaymentRows:
    columns = payment_snapshot.decoded_columns(list_id, parts, line_rows.HASHED_NAMES)
    return payment_rows.prepare(list_id, columns, version, held)


def _notes(held: dict[str, int], changed: pd.DataFrame) -> dict[str, Any]:
    """What the manifest says about held lines and pinned payees the registry has changed
    since (`payee_repo.changes`; a held line is reported as held only)."""
    changed = changed[~changed["line_ref"].isin(held)]
    return {
        "held_lines": [{"line_ref": r, "amended_by_list": a} for r, a in sorted(held.items())],
        "registry_changed_lines": [
            {"line_ref": r, "fields": f}
            for r, f in zip(changed["line_ref"], changed["changed"], strict=True)
        ],
    }


def _check_ready(session: Session, list_id: int) -> None:
    returned = payment_repo.results_recorded(session, list_id)
    if returned:  # a second file of a paid batch could pay the same households again
        raise InvalidTransition(
            f"list {list_id}: the provider has returned results for {returned:,} of its lines, "
            "so its payment files are not written again; failed lines are paid through a "
            "re-issue (agam payments reissue)"
        )
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
    # locked first: an amendment or a decision committed meanwhile is seen by the checks
    approved_sha = list_repo.get_list(session, list_id, for_update=True).content_sha256
    _check_ready(session, list_id)
    read: dict[str, Any] = {}

    def digest_of(version: int) -> str:  # one read: the hash checked and the rows written
        held = read["held"] = list_repo.amended_refs(session, list_id, ("approved", "exported"))
        approval = read["approval"] = list_repo.approval(session, list_id)
        recorded = approval.sealed_parts if approval is not None else None
        parts = payment_snapshot.sealed_parts(session, list_id, approved_sha, recorded)
        read["sealed"] = parts is not None
        if parts is None:  # approved before snapshots: from the lines and payees
            columns = line_rows.hashed_columns(session, list_id)
            read["rows"] = payment_rows.prepare(list_id, columns, version, held)
            read["changed"] = payee_repo.changes_since_pinning(session, list_id)
            return str(read["rows"].digest)
        with ThreadPoolExecutor(max_workers=1) as worker:  # beside the registry comparison
            if approval is not None and approval.sealed_sha256 is not None:
                # payment-ready: the approval hashed and checked these columns; its bytes
                # unchanged prove them, and each channel group is written as stored
                tables = worker.submit(payment_snapshot.decoded_ready, list_id, parts,
                                       line_rows.HASHED_NAMES)  # fmt: skip
                payment_snapshot.check_sealed_bytes(list_id, parts, approval.sealed_sha256)
                read["changed"] = payee_repo.changes_since_pinning(session, list_id)
                decoded = tables.result()
                checked = payment_snapshot.checked_under(decoded)
                groups = payment_snapshot.ready_groups(decoded)
                approved = str(approval.content_sha256)
                read["rows"] = payment_rows.prepare_ready(list_id, approved, groups, held, checked)
            else:  # in rank order: decoded, hashed and checked here
                prepared = worker.submit(_prepare_sealed, list_id, parts, version, held)
                read["changed"] = payee_repo.changes_since_pinning(session, list_id)
                read["rows"] = prepared.result()
        return str(read["rows"].digest)

    row = list_repo.decide(session, list_id, principal, "export", at, digest_of=digest_of)
    approved = read["approval"]  # the approval the seal was checked against
    if approved is None or approved.content_sha256 != row.content_sha256:
        raise InvalidTransition(f"list {list_id}: no approval of this content; not exported")
    prepared: payment_rows.PaymentRows = read["rows"]
    if prepared.refusal is not None:
        raise InvalidTransition(prepared.refusal)
    batch_id = list_repo.batch_id(row)
    notes = _notes(read["held"], read["changed"])
    approved_at = iso_utc(row.decided_at) if row.decided_at else ""
    if outdir.exists() and not outdir.is_dir():
        raise PaymentFileError(f"{outdir}: not a folder; payment files are written into one")
    outdir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=outdir, prefix=f".{batch_id}."))
    try:
        files = _written(prepared, staging, fmt, lambda pinned: _payment_table(
            pinned, row, batch_id, approved_at, at), batch_id)  # fmt: skip
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
            "written_from": "payment_snapshot" if read["sealed"] else "list_lines",
            "rows": prepared.rows,
            "total_bdt": sum(f["total_bdt"] for f in files),
            "files": files,
            **notes,
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2), "utf-8")
        for written in staging.iterdir():  # the folder is 0700; a copied file stays private
            os.chmod(written, OWNER_ONLY_FILE)
        target = _free_folder(outdir, batch_id)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ExportResult(target, manifest)


def _written(
    prepared: payment_rows.PaymentRows,
    staging: Path,
    fmt: str,
    table_of: Callable[[pa.Table], pa.Table],
    batch_id: str,
) -> list[dict[str, Any]]:
    """Each channel's file in `staging`, in channel order, with its rows, total and sha256.
    A file is hashed on a second thread while the next one is written, largest first, so
    the last hash waited for is the smallest file's."""
    written = []
    by_size = sorted(enumerate(prepared.groups), key=lambda g: -g[1][1].num_rows)
    with ThreadPoolExecutor(max_workers=1) as hasher:
        for order, (channel, pinned) in by_size:
            part = table_of(pinned)
            for path in _write(part, staging, f"{batch_id}_{channel}", fmt):
                entry = {"file": path.name, "channel": channel, "rows": part.num_rows,
                         "total_bdt": _total_bdt(part)}  # fmt: skip
                written.append((order, entry, hasher.submit(_sha256, path)))
        written.sort(key=lambda w: w[0])  # stable: an XLSX group's sheets stay in order
        return [{**entry, "sha256": digest.result()} for _, entry, digest in written]


def _free_folder(outdir: Path, batch_id: str) -> Path:
    """The batch's folder, or beside it the first free `<batch>.again-N`: an earlier export
    (files already sent, or a provider's return file put there) is never replaced."""
    target, n = outdir / batch_id, 1
    while target.exists() or target.is_symlink():
        n += 1
        target = outdir / f"{batch_id}.again-{n}"
    return target


def _payment_table(
    rows: pa.Table, row: Any, batch_id: str, approved_at: str, at: datetime
) -> pa.Table:
    """The payment file's columns (FIELDS) of the pinned rows; the amount as an integer."""
    n, activation = rows.num_rows, f"A{row.alert_id}"
    nid = rows["nid"]
    identity = pc.if_else(pc.not_equal(nid, ""), nid, rows["birth_registration"])
    columns = {
        "batch_id": pa.repeat(batch_id, n),
        "channel": rows["payment_channel"],
        "replaces_line_ref": rows["amends_line_ref"],
        "activation_id": pa.repeat(activation, n),
        "value_date": pa.repeat(at.date().isoformat(), n),
        "narration": pa.repeat(f"Anticipatory allowance {batch_id}", n),
        "approved_by": pa.repeat(row.approved_by or "", n),
        "approved_at": pa.repeat(approved_at, n),
        "dedup_key": pc.binary_join_element_wise(identity, rows["programme"], activation, "|"),
        "amount_bdt": pc.cast(rows["amount_bdt"], pa.int64()),
    }
    return pa.table([columns[f] if f in columns else rows[f] for f in FIELDS], names=FIELDS)


def _total_bdt(rows: pa.Table) -> int:
    return int(pc.sum(rows["amount_bdt"]).as_py() or 0)


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


def _write(part: pa.Table, folder: Path, stem: str, fmt: str) -> list[Path]:
    if fmt == "csv":
        # every cell text (quoted where needed), the amount a bare integer; cells were checked
        # for formulas and control characters in _refuse_unsafe, so quoting is all a CSV
        # cell needs
        path = folder / f"{stem}.csv"
        pcsv.write_csv(part, path, pcsv.WriteOptions(quoting_style="needed"))
        return [path]
    path = folder / f"{stem}.xlsx"
    workbook = xlsxwriter.Workbook(
        str(path),
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False},
    )
    columns = [part[f].to_pylist() for f in FIELDS]
    values = list(zip(*columns, strict=True))
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
