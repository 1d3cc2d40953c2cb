"""`agam grievances …`: the grievance register (add, list, update, history, correction file,
summary). Every command acts for a person (`--user`); the rules are in allowances/.

Complainant name and phone are never taken on the command line (argv lands in shell history
and process lists): `add --contact` asks for them. `list` masks them unless `--reveal`,
which only a handler of the district gets, and which is audited.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from agam.cli.common import (
    ConfigOption,
    ForceOption,
    JsonOption,
    console,
    emit_json,
    handle_errors,
    output_file,
    settings_for,
    shown,
)
from agam.cli.credentials import UserOption, sign_in
from agam.cli.time_options import parse_when
from agam.core.errors import InvalidTransition
from agam.core.timeutil import format_dhaka, iso_utc
from agam.pipeline.context import AppContext
from allowances import grievance_register as register
from allowances.grievance_correction import write_correction_file
from allowances.grievance_stats import grievance_summary
from allowances.grievances import NewGrievance

app = typer.Typer(help="Grievance register.", no_args_is_help=True)
STATUS_ACTIONS = {
    "in_progress": "start",
    "resolved": "resolve",
    "referred": "refer",
    "rejected": "reject",
}


class Category(StrEnum):
    exclusion = "exclusion"
    inclusion_error = "inclusion_error"
    non_payment = "non_payment"
    wrong_amount = "wrong_amount"
    data_correction = "data_correction"
    conduct = "conduct"
    other = "other"


class Channel(StrEnum):
    hotline = "hotline"
    union_digital_centre = "union_digital_centre"
    civil_society = "civil_society"
    office = "office"
    other = "other"


class NewStatus(StrEnum):
    in_progress = "in_progress"
    resolved = "resolved"
    referred = "referred"
    rejected = "rejected"


def _json_ready(record: dict[str, Any]) -> dict[str, Any]:
    return {k: iso_utc(v) if isinstance(v, datetime) else v for k, v in record.items()}


@app.command("add")
@handle_errors
def add(
    channel: Annotated[Channel, typer.Option("--channel")],
    category: Annotated[Category, typer.Option("--category")],
    description: Annotated[str, typer.Option("--description", help="what the complaint says")],
    union: Annotated[str | None, typer.Option("--union", help="union P-code (ADM4)")] = None,
    household: Annotated[str | None, typer.Option("--household", help="household id")] = None,
    received: Annotated[
        str | None, typer.Option("--received", help="ISO-8601 time received (default: now)")
    ] = None,
    partner: Annotated[str | None, typer.Option("--partner", help="CSO / UDC name")] = None,
    alert: Annotated[int | None, typer.Option("--alert", help="activation (alert id)")] = None,
    contact: Annotated[
        bool, typer.Option("--contact", help="ask for the complainant's name and phone")
    ] = False,
    user: UserOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a grievance (officers, district administrators of the district, admins)."""
    name = phone = None
    if contact:
        # On stderr, so --json output stays clean; typed, never echoed into shell history.
        name = typer.prompt(
            "Complainant name (blank: anonymous)", default="", show_default=False, err=True
        )
        phone = typer.prompt(
            "Complainant phone (blank: none)", default="", show_default=False, err=True
        )
    ctx = AppContext(settings_for(config))
    ctx.store.upgrade()
    try:
        new = NewGrievance(
            received_at=parse_when(received, "--received") if received else ctx.now(),
            channel=channel.value,
            category=category.value,
            adm4_pcode=union,
            household_id=household,
            alert_id=alert,
            partner=partner,
            description=description,
            complainant_name=name or None,
            complainant_phone=phone or None,
        )
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise InvalidTransition(_first_error(exc)) from None
    frame = ctx.union_layer().frame
    unions = dict(zip(frame["adm4_pcode"], frame["adm2_pcode"], strict=True))
    principal = sign_in(ctx, user)
    with ctx.store.session() as session:
        row = register.record(session, principal, new, ctx.now(), ctx.settings.grievances, unions)
        summary = {
            "grievance_id": row.id,
            "status": row.status,
            "district_pcode": row.district_pcode,
            "adm4_pcode": row.adm4_pcode,
            "due_at": iso_utc(row.due_at),
        }
    if as_json:
        emit_json(summary)
    else:
        console.print(
            f"grievance {summary['grievance_id']} recorded ({category.value}, "
            f"{summary['adm4_pcode']}); due {format_dhaka(row.due_at)}",
            markup=False,
        )


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        return f"{'.'.join(str(p) for p in first['loc']) or 'input'}: {first['msg']}"
    return str(exc)


@app.command("list")
@handle_errors
def list_cmd(
    status: Annotated[list[str] | None, typer.Option("--status")] = None,
    category: Annotated[list[Category] | None, typer.Option("--category")] = None,
    district: Annotated[list[str] | None, typer.Option("--district")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="only overdue ones")] = False,
    reveal: Annotated[
        bool, typer.Option("--reveal", help="show complainant details (handlers; audited)")
    ] = False,
    user: UserOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """The register as the user may see it, with service-level flags."""
    ctx = AppContext(settings_for(config))
    ctx.store.upgrade()
    principal = sign_in(ctx, user)
    with ctx.store.session() as session:
        rows = register.listing(
            session,
            principal,
            ctx.now(),
            ctx.settings.grievances,
            reveal=reveal,
            statuses=status or None,
            categories=[c.value for c in category] if category else None,
            districts=district or None,
        )
    if overdue:
        rows = [r for r in rows if r["overdue"]]
    if as_json:
        emit_json([_json_ready(r) for r in rows])
        return
    table = Table("id", "received (Dhaka)", "union", "category", "status", "assigned", "due")
    for r in rows:
        flag = " OVERDUE" if r["overdue"] else (" due soon" if r["due_soon"] else "")
        table.add_row(
            str(r["grievance_id"]),
            format_dhaka(r["received_at"]),
            r["adm4_pcode"],
            r["category"],
            r["status"],
            r["assigned_to"] or "—",
            format_dhaka(r["due_at"]) + flag,
        )
    console.print(table)


@app.command("update")
@handle_errors
def update_cmd(
    grievance_id: int,
    status: Annotated[NewStatus | None, typer.Option("--status")] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="needed to resolve, refer or reject")
    ] = None,
    assign: Annotated[str | None, typer.Option("--assign", help="handler's username")] = None,
    note: Annotated[str | None, typer.Option("--note")] = None,
    user: UserOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Assign, add a note, or move the status (open -> in_progress -> resolved / referred /
    rejected)."""
    ctx = AppContext(settings_for(config))
    ctx.store.upgrade()
    principal = sign_in(ctx, user)
    with ctx.store.session() as session:
        row = register.update(
            session,
            principal,
            grievance_id,
            ctx.now(),
            action=STATUS_ACTIONS[status.value] if status else None,
            reason=reason,
            assign_to=assign,
            note=note,
        )
        summary = {"grievance_id": row.id, "status": row.status, "assigned_to": row.assigned_to}
    if as_json:
        emit_json(summary)
    else:
        console.print(
            f"grievance {grievance_id}: {summary['status']}"
            + (f", assigned to {summary['assigned_to']}" if summary["assigned_to"] else ""),
            markup=False,
        )


@app.command("history")
@handle_errors
def history_cmd(
    grievance_id: int,
    user: UserOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Who did what to a grievance, and when."""
    ctx = AppContext(settings_for(config))
    principal = sign_in(ctx, user)
    with ctx.store.read() as session:
        events = register.history(session, principal, grievance_id)
    if as_json:
        emit_json([_json_ready(e) for e in events])
        return
    for e in events:
        console.print(
            f"{format_dhaka(e['at'])}  {e['actor']} ({e['role']}) {e['action']}: "
            f"{e['from_status'] or '—'} -> {e['to_status']}"
            + (f" · {shown(e['note'])}" if e["note"] else ""),
            markup=False,
        )


@app.command("correction-file")
@handle_errors
def correction_file(
    out: Annotated[Path, typer.Argument(help="CSV to write (registry schema)")],
    grievance: Annotated[list[int] | None, typer.Option("--grievance")] = None,
    force: ForceOption = False,
    user: UserOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Registry-schema rows for resolved data-correction grievances; fill in the blanks from
    the verified documents and run `agam registry import` on it. An existing OUT is replaced
    only with --force."""
    output_file(out, force)
    ctx = AppContext(settings_for(config))
    principal = sign_in(ctx, user)
    with ctx.store.session() as session:
        result = write_correction_file(session, principal, out, ctx.now(), grievance or None)
    if as_json:
        emit_json(result.to_dict())
    else:
        console.print(
            f"wrote {result.rows} row(s) for {len(result.grievances)} grievance(s) to {out}; "
            f"fill in {', '.join(result.to_fill)} before importing",
            markup=False,
        )


@app.command("summary")
@handle_errors
def summary_cmd(
    date_from: Annotated[str, typer.Option("--from", help="received from (ISO date/time)")],
    date_to: Annotated[str, typer.Option("--to", help="received before (ISO date/time)")],
    by_month: Annotated[bool, typer.Option("--by-month")] = False,
    user: UserOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Aggregates per district and category (counts and hours; no personal data)."""
    start, end = parse_when(date_from, "--from"), parse_when(date_to, "--to")
    ctx = AppContext(settings_for(config))
    principal = sign_in(ctx, user)
    with ctx.store.read() as session:
        scope = None if principal.role in ("committee", "admin") else list(principal.districts)
        rows = grievance_summary(
            session,
            start=start,
            end=end,
            as_of=ctx.now(),
            period="month" if by_month else "all",
            districts=scope or None,
        )
    if as_json:
        emit_json(rows)
        return
    table = Table("district", "period", "category", "received", "open", "overdue", "resolved")
    for r in rows:
        table.add_row(
            r["district_pcode"],
            r["period"],
            r["category"],
            *(str(r[k]) for k in ("received", "open", "overdue", "resolved")),
        )
    console.print(table)
