"""`agam payments …`: payment results from the providers' return files, and re-issues.

Importing signs in first (an officer or admin of the list's district); the store re-checks
the account in the transaction that writes. Output holds line references, counts and
reasons only, never a payee's personal data.
"""

from __future__ import annotations

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
    shown,
)
from agam.cli.credentials import UserOption, sign_in
from agam.pipeline.context import AppContext
from allowances.payment_results import import_results, payment_status, reissue
from store import audit

ROWS_REFUSED_EXIT = 11  # the rows that fitted were applied; some were refused

app = typer.Typer(help="Payment results and re-issues.", no_args_is_help=True)


def _print_counts(status: dict[str, Any]) -> None:
    console.print(
        f"paid {status['paid']:,} (BDT {status['paid_bdt']:,}) · failed {status['failed']:,} · "
        f"reversed {status['reversed']:,} · pending {status['pending']:,} of "
        f"{status['payable']:,} payable line(s)",
        markup=False,
    )
    for kind in ("failed", "reversed"):
        for reason, n in sorted(status[f"{kind}_by_reason"].items()):
            console.print(f"  {kind}: {reason}: {n:,}", markup=False)


@app.command("import-results")
@handle_errors
def import_results_cmd(
    list_id: int,
    file: Annotated[Path, typer.Argument(help="the provider's return file (.csv or .xlsx)")],
    user: UserOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Apply a provider's return file to an approved list: rows that do not fit are reported
    with their row numbers and not applied (officer or admin of the list's district)."""
    ctx = AppContext(settings_for(config))
    principal = sign_in(ctx, user)
    report = import_results(ctx.store, list_id, principal, file, ctx.now())
    if as_json:
        emit_json(report.as_json())
        if report.judgement.rejected:
            raise typer.Exit(ROWS_REFUSED_EXIT)
        return
    console.print(
        f"list {list_id} · {file.name}: {report.applied:,} applied, {report.unchanged:,} "
        f"unchanged, {len(report.judgement.rejected):,} rejected "
        f"({report.judgement.unmatched:,} unmatched)",
        markup=False,
    )
    _print_counts(report.status)
    if report.judgement.rejected:
        table = Table("row", "line", "why not applied")
        for r in report.judgement.rejected[:50]:
            where = f"{r['sheet']}:{r['row']}" if r["sheet"] else str(r["row"])
            table.add_row(where, shown(r["line_ref"]), shown(r["reason"]))
        console.print(table)
    if report.judgement.rejected:  # applied what fitted; a script must see the rest
        raise typer.Exit(ROWS_REFUSED_EXIT)


@app.command("status")
@handle_errors
def status_cmd(list_id: int, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """A list's payment results: paid, failed, reversed, pending, and the files imported."""
    ctx = AppContext(settings_for(config))
    status = payment_status(ctx.store, list_id)
    if as_json:
        emit_json(status)
        return
    synthetic = " [SYNTHETIC]" if status["synthetic"] else ""
    console.print(f"list {list_id} ({status['list_status']}){synthetic}", markup=False)
    _print_counts(status)
    for i in status["imports"]:
        console.print(
            f"  import {i['import_id']}: {i['file']} by {i['imported_by']} at "
            f"{i['imported_at']} ({i.get('applied', 0):,} applied)",
            markup=False,
        )


@app.command("reissue")
@handle_errors
def reissue_cmd(
    list_id: int, user: UserOption = None, config: ConfigOption = None, as_json: JsonOption = False
) -> None:
    """Propose the failed lines of a list again, with the registry's payee as it is now (e.g.
    on another channel), as a draft to submit and approve like any list (officer)."""
    ctx = AppContext(settings_for(config))
    principal = sign_in(ctx, user)
    with (
        audit.refusals_recorded(
            ctx.store,
            at=ctx.now(),
            actor=principal.username,
            action="list.reissue",
            entity="allowance_list",
            entity_id=list_id,
        ),
        ctx.store.session() as session,
    ):
        row = reissue(session, list_id=list_id, principal=principal, at=ctx.now())
        summary = {
            "list_id": row.id,
            "kind": row.kind,
            "reissues_list_id": row.amends_id,
            "status": row.status,
            "households": row.households,
            "total_bdt": row.total_bdt,
        }
    if as_json:
        emit_json(summary)
    else:
        console.print(
            f"re-issue list {row.id} of list {list_id} (draft): {summary['households']:,} "
            f"line(s), BDT {summary['total_bdt']:,}",
            markup=False,
        )
