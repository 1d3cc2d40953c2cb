"""`agam audit verify`: recompute the audit hash chain."""

from __future__ import annotations

import typer

from agam.cli.common import (
    ConfigOption,
    JsonOption,
    console,
    emit_json,
    handle_errors,
    settings_for,
)
from agam.core.errors import StoreError
from agam.pipeline.context import AppContext
from store import audit

app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


class AuditBroken(StoreError):
    """The audit chain does not verify."""


@app.command("verify")
@handle_errors
def verify(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Recompute every entry's hash; fail and name the first row that does not match."""
    ctx = AppContext(settings_for(config))
    ctx.store.upgrade()
    with ctx.store.read() as session:
        report = audit.verify(session)
    if as_json:
        emit_json(report.__dict__)
    if not report.ok:
        raise AuditBroken(f"audit log row {report.bad_id}: {report.reason}")
    if not as_json:
        console.print(f"ok: {report.entries} entries, head {report.head[:16]}", markup=False)
