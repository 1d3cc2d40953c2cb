"""`agam lists …`: propose, review, decide, amend and export anticipatory allowance lists.

Decisions sign in first (agam/cli/credentials.py); the store then checks the account's role,
district and four-eyes on every decision, and refusals are audited. Output carries
pseudonymous ids and masked payees only; personal data leaves only in an approved payment
file, written from the payees pinned when the list was proposed.
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
from agam.cli.credentials import UserOption, sign_in
from agam.core.timeutil import format_dhaka, iso_utc
from agam.pipeline.context import AppContext
from agam.pipeline.propose import propose_for_alert
from agam.pipeline.writer import pipeline_writer
from allowances import reasons
from allowances.lists import amend, decide_list
from allowances.payment_files import export_payment_files
from store import approval_policy, audit, list_repo, payee_repo

app = typer.Typer(help="Anticipatory allowance lists.", no_args_is_help=True)
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
        "kind": row.kind,
        "amends_list_id": row.amends_id,
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
    """A list with its lines in priority order, the reasons for each, the masked payee pinned
    at proposal, and a flag where the registry changed that payee since."""
    ctx = AppContext(settings_for(config))
    with ctx.store.read() as session:  # only the lines printed are read
        row = list_repo.get_list(session, list_id)
        # over the whole list, read once (not at all if the registry has not moved)
        changed = payee_repo.changes_since_pinning(session, list_id)
        shown = list_repo.lines_frame(session, list_id, limit=limit or None, changed=changed)
        summary = _summary(row)
        total = list_repo.line_count(session, list_id)
    summary["payees_changed"] = len(changed)
    records = shown.drop(columns=["id", "list_id"]).to_dict("records")
    for r in records:  # the stored codes, and the same in words
        r["reasons_text"] = [reasons.english(code) for code in r["reasons"]]
    if as_json:
        emit_json(summary | {"lines": records, "lines_total": total})
        return
    synthetic = " [SYNTHETIC registry]" if summary["synthetic"] else ""
    kind = f" · amends list {row.amends_id}" if row.amends_id else ""
    console.print(
        f"list {list_id} · {summary['district_pcode']} · rev {summary['revision']} · "
        f"{summary['status']} · {summary['households']:,} households · "
        f"BDT {summary['total_bdt']:,} · created {format_dhaka(row.created_at)}"
        f"{kind}{synthetic}",
        markup=False,
    )
    table = Table("rank", "line", "household", "union", "score", "BDT", "payee", "reasons")
    for r in records:
        why = (
            "; ".join(r["reasons_text"]) if r["included"] else f"excluded: {r['exclusion_reason']}"
        )
        payee = r["payee"] + (
            f" [REGISTRY CHANGED: {r['payee_changed']}]" if r["payee_changed"] else ""
        )
        table.add_row(
            str(r["rank"]),
            str(r["line_ref"]),
            r["household_id"],
            r["adm4_pcode"],
            f"{r['priority_score']:.1f}",
            f"{r['amount_bdt']:,}",
            payee,
            why,
        )
    console.print(table)
    if len(changed):
        refs = ", ".join(changed["line_ref"].astype(str).head(10))
        console.print(
            f"warning: the registry changed the payee of {len(changed):,} line(s) since they "
            f"were pinned ({refs}); they are paid as approved unless an amendment "
            f"(`agam lists amend {list_id}`) is approved",
            markup=False,
        )


def _decide(
    action: str, list_id: int, user: str | None, reason: str | None, config: Any, as_json: bool
) -> None:
    ctx = AppContext(settings_for(config))
    principal = sign_in(ctx, user)
    row = decide_list(
        ctx.store,
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
    elif action == "approve" and summary["status"] == "submitted":
        console.print(
            f"list {list_id}: first approval recorded by {principal.username}; a second "
            "district administrator approves it",
            markup=False,
        )
    else:
        console.print(f"list {list_id}: {summary['status']} by {principal.username}", markup=False)


class Approvals(StrEnum):
    one = "one"
    two = "two"


@app.command("approvals")
@handle_errors
def approvals(
    number: Annotated[Approvals | None, typer.Argument(help="one|two; omit to show")] = None,
    user: UserOption = None,
    config: ConfigOption = None,
) -> None:
    """How many district administrators approve a list, as the store holds it. Setting it
    needs an admin's password; a config with second_approval = true raises it by itself."""
    ctx = AppContext(settings_for(config))
    if number is not None:
        actor = sign_in(ctx, user, password_only=True)
        with ctx.store.session() as session:
            approval_policy.set_approvals(
                session, actor, 2 if number is Approvals.two else 1, ctx.now()
            )
    with ctx.store.read() as session:
        required = approval_policy.approvals_required(session)
    console.print(f"lists are approved by {required} district administrator(s)", markup=False)


@app.command("submit")
@handle_errors
def submit(
    list_id: int,
    user: UserOption = None,
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
    user: UserOption = None,
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
    user: UserOption = None,
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
    user: UserOption = None,
    fmt: Annotated[PaymentFormat, typer.Option("--format")] = PaymentFormat.csv,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write the payment files of an approved list from its pinned payees, per channel, with
    a manifest carrying the approved hash (re-verified first)."""
    ctx = AppContext(settings_for(config))
    principal = sign_in(ctx, user)
    result = export_payment_files(ctx.store, list_id, principal, fmt.value, outdir, ctx.now())
    if as_json:
        emit_json(result.manifest | {"folder": str(result.folder)})
        return
    m = result.manifest
    console.print(
        f"wrote {len(m['files'])} file(s) to {result.folder}: {m['rows']:,} rows, "
        f"BDT {m['total_bdt']:,}",
        markup=False,
    )
    if m["held_lines"]:
        console.print(f"{len(m['held_lines']):,} line(s) held: paid by their amendment list")
    if m["registry_changed_lines"]:
        console.print(
            f"warning: {len(m['registry_changed_lines']):,} line(s) paid to the approved payee "
            "although the registry changed it since (see the manifest)",
            markup=False,
        )


@app.command("amend")
@handle_errors
def amend_cmd(
    list_id: int,
    user: UserOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Propose an amendment of an approved list: the lines whose payee the registry changed,
    with the new payee, to be submitted and approved like a list (officer)."""
    ctx = AppContext(settings_for(config))
    principal = sign_in(ctx, user)
    with (
        audit.refusals_recorded(
            ctx.store,
            at=ctx.now(),
            actor=principal.username,
            action="list.amend",
            entity="allowance_list",
            entity_id=list_id,
        ),
        ctx.store.session() as session,
    ):
        row = amend(session, list_id=list_id, principal=principal, at=ctx.now())
        summary = _summary(row)
    if as_json:
        emit_json(summary)
    else:
        console.print(
            f"amendment list {row.id} of list {list_id} (draft): {row.households:,} line(s), "
            f"BDT {row.total_bdt:,}",
            markup=False,
        )
