"""`agam lists …`: propose, review, decide and export anticipatory allowance lists.

`--user` names the acting account; the store checks its role and district on every decision.
Output carries pseudonymous ids only; personal data leaves only in an approved payment file.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from agam.cli.common import (
    ConfigOption,
    JsonOption,
    console,
    emit_json,
    handle_errors,
    settings_for,
)
from agam.core.timeutil import format_dhaka, iso_utc
from agam.pipeline.context import AppContext
from agam.pipeline.propose import propose_for_alert
from agam.pipeline.writer import pipeline_writer
from allowances.payment_files import export_list
from store import list_repo
from store.user_repo import get_user, to_principal

app = typer.Typer(help="Anticipatory allowance lists.", no_args_is_help=True)
UserOption = Annotated[str, typer.Option("--user", help="the acting account")]
ReasonOption = Annotated[str | None, typer.Option("--reason")]


class PaymentFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


def _summary(row: Any) -> dict[str, Any]:
    return {
        "list_id": row.id,
        "alert_id": row.alert_id,
        "district_pcode": row.district_pcode,
        "revision": row.revision,
        "status": row.status,
        "households": row.households,
        "total_bdt": row.total_bdt,
        "amount_per_household_bdt": row.amount_per_household_bdt,
        "content_sha256": row.content_sha256,
        "prepared_by": row.prepared_by,
        "submitted_by": row.submitted_by,
        "approved_by": row.approved_by,
        "created_at": iso_utc(row.created_at),
        "synthetic": row.synthetic,
    }


@app.command("propose")
@handle_errors
def propose_cmd(alert_id: int, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Propose (or show the pending) list for an alert's district."""
    ctx = AppContext(settings_for(config))
    ctx.store.upgrade()
    with pipeline_writer(ctx):  # one writer: never alongside an evaluation's proposals
        row = propose_for_alert(ctx, alert_id)
    if as_json:
        emit_json(_summary(row))
    else:
        console.print(
            f"list {row.id} (revision {row.revision}, {row.status}): "
            f"{row.households:,} households, BDT {row.total_bdt:,}",
            markup=False,
        )


@app.command("show")
@handle_errors
def show(
    list_id: int,
    limit: Annotated[int, typer.Option("--limit", help="lines to print (0 = all)")] = 20,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """A list with its lines in priority order and the reasons for each."""
    ctx = AppContext(settings_for(config))
    with ctx.store.read() as session:
        row = list_repo.get_list(session, list_id)
        lines = list_repo.lines_frame(session, list_id)
        summary = _summary(row)
    shown = lines if limit == 0 else lines.head(limit)
    records = shown.drop(columns=["id", "list_id"]).to_dict("records")
    if as_json:
        emit_json(summary | {"lines": records, "lines_total": len(lines)})
        return
    synthetic = " [SYNTHETIC registry]" if summary["synthetic"] else ""
    console.print(
        f"list {list_id} · {summary['district_pcode']} · rev {summary['revision']} · "
        f"{summary['status']} · {summary['households']:,} households · "
        f"BDT {summary['total_bdt']:,} · created {format_dhaka(row.created_at)}"
        f"{synthetic}",
        markup=False,
    )
    table = Table("rank", "household", "union", "score", "BDT", "reasons / exclusion")
    for r in records:
        why = "; ".join(r["reasons"]) if r["included"] else f"excluded: {r['exclusion_reason']}"
        table.add_row(
            str(r["rank"]),
            r["household_id"],
            r["adm4_pcode"],
            f"{r['priority_score']:.1f}",
            f"{r['amount_bdt']:,}",
            why,
        )
    console.print(table)


def _decide(
    action: str, list_id: int, user: str, reason: str | None, config: Any, as_json: bool
) -> None:
    ctx = AppContext(settings_for(config))
    with ctx.store.session() as session:
        principal = to_principal(get_user(session, user))
        row = list_repo.decide(
            session,
            list_id,
            principal,
            action,
            ctx.now(),
            reason,
            second_approval=ctx.settings.allowances.second_approval,
        )
        summary = _summary(row)
    if as_json:
        emit_json(summary)
    else:
        console.print(f"list {list_id}: {summary['status']} by {user}", markup=False)


@app.command("submit")
@handle_errors
def submit(
    list_id: int,
    user: UserOption,
    reason: ReasonOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Submit a draft for approval (officer)."""
    _decide("submit", list_id, user, reason, config, as_json)


@app.command("approve")
@handle_errors
def approve(
    list_id: int,
    user: UserOption,
    reason: ReasonOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Approve a submitted list (district administrator of its district, not the submitter)."""
    _decide("approve", list_id, user, reason, config, as_json)


@app.command("reject")
@handle_errors
def reject(
    list_id: int,
    user: UserOption,
    reason: ReasonOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reject a submitted list with a reason."""
    _decide("reject", list_id, user, reason, config, as_json)


@app.command("export")
@handle_errors
def export(
    list_id: int,
    outdir: Annotated[Path, typer.Argument(help="folder for the payment files")],
    user: UserOption,
    fmt: Annotated[PaymentFormat, typer.Option("--format")] = PaymentFormat.csv,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write the payment files of an approved list, per channel, with a manifest."""
    ctx = AppContext(settings_for(config))
    with ctx.store.session() as session:
        principal = to_principal(get_user(session, user))
        result = export_list(session, list_id, principal, fmt.value, outdir, ctx.now())
    if as_json:
        emit_json(result.manifest | {"folder": str(result.folder)})
    else:
        m = result.manifest
        console.print(
            f"wrote {len(m['files'])} file(s) to {result.folder}: {m['rows']:,} rows, "
            f"BDT {m['total_bdt']:,}",
            markup=False,
        )
