"""`agam alerts list|close|cap`: alerts per district; a signed-in person closes one with a
reason; an alert change as a Common Alerting Protocol 1.2 message."""

from __future__ import annotations

import sys
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
    err_console,
    handle_errors,
    output_file,
    settings_for,
)
from agam.cli.credentials import UserOption, sign_in
from agam.core.errors import NotFound
from agam.core.files import atomic_write_bytes
from agam.core.timeutil import format_dhaka, iso_utc
from agam.pipeline.cap_publish import alert_messages, publish_after_change
from agam.pipeline.context import AppContext
from store import alert_repo, audit

app = typer.Typer(help="Alerts raised by the trigger engine.", no_args_is_help=True)


@app.command("list")
@handle_errors
def list_alerts(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Every alert with its stage, status, district and latest explanation."""
    ctx = AppContext(settings_for(config))
    ctx.store.upgrade()
    with ctx.store.read() as session:
        rows: list[dict[str, Any]] = [
            {
                "alert_id": a.id,
                "rule_set": a.rule_set_id,
                "district": a.district_pcode,
                "stage": a.stage,
                "status": a.status,
                "opened_at": iso_utc(a.opened_at),
                "unions": len(a.affected_unions),
                "explanation": alert_repo.get_evaluation(session, a.last_evaluation_id).explanation,
            }
            for a in alert_repo.all_alerts(session)
        ]
        opened = {a.id: a.opened_at for a in alert_repo.all_alerts(session)}
    if as_json:
        emit_json(rows)
        return
    table = Table("id", "rule set", "district", "stage", "status", "since (Dhaka)", "unions")
    for r in rows:
        table.add_row(
            str(r["alert_id"]),
            str(r["rule_set"]),
            str(r["district"]),
            str(r["stage"]),
            str(r["status"]),
            format_dhaka(opened[int(r["alert_id"])]),
            str(r["unions"]),
        )
    console.print(table)


@app.command("close")
@handle_errors
def close(
    alert_id: int,
    reason: Annotated[str, typer.Option("--reason", help="why it is closed")],
    user: UserOption = None,
    config: ConfigOption = None,
) -> None:
    """Close an open alert with a reason (stand-down by a person, who signs in)."""
    ctx = AppContext(settings_for(config))
    principal = sign_in(ctx, user)
    with (
        audit.refusals_recorded(
            ctx.store,
            at=ctx.now(),
            actor=principal.username,
            action="alert.close",
            entity="alert",
            entity_id=alert_id,
        ),
        ctx.store.session() as session,
    ):
        alert = alert_repo.close_alert(session, alert_id, principal, reason, ctx.now())
        audit.append(
            session,
            at=ctx.now(),
            actor=principal.username,
            action="alert.closed",
            entity="alert",
            entity_id=alert_id,
            payload={"reason": reason, "via": principal.via},
        )
        district = alert.district_pcode
    publish_after_change(ctx)  # after the commit: the cancel message and the feed
    console.print(f"alert {alert_id} ({district}) closed", markup=False)


@app.command("cap")
@handle_errors
def cap(
    alert_id: int,
    out: Annotated[Path | None, typer.Option("--out", help="write here (default: stdout)")] = None,
    event: Annotated[
        int | None, typer.Option("--event", help="an earlier change's event id (default: newest)")
    ] = None,
    force: ForceOption = False,
    config: ConfigOption = None,
) -> None:
    """The alert's newest change (or --event) as a CAP 1.2 message (XML); an existing --out
    file is replaced only with --force."""
    if out is not None:
        output_file(out, force, "--out")
    ctx = AppContext(settings_for(config))
    ctx.store.upgrade()
    messages = alert_messages(ctx, alert_id)
    if not messages:
        raise NotFound(f"alert {alert_id} has no changes to publish")
    chosen = messages[-1]
    if event is not None:
        suffix = f".{event}"
        matches = [m for m in messages if m[0].identifier.endswith(suffix)]
        if not matches:
            raise NotFound(f"alert {alert_id} has no event {event}")
        chosen = matches[0]
    if out is None:
        sys.stdout.buffer.write(chosen[1])
        return
    atomic_write_bytes(out, chosen[1])
    err_console.print(f"wrote {chosen[0].identifier} ({chosen[0].status}) to {out}", markup=False)
