"""Entry point of the `agam` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agam import __version__
from agam.cli.common import (
    ConfigOption,
    JsonOption,
    console,
    emit_json,
    err_console,
    handle_errors,
    settings_for,
)
from agam.cli.lazy import LazyGroup
from agam.core.errors import ConfigError, SchedulerDown

# Sub-commands (agam.cli.lazy.LAZY_COMMANDS) are imported when used, not at start-up; the
# commands below import the store and pipeline inside their bodies for the same reason.
app = typer.Typer(
    cls=LazyGroup,
    help="Agam (আগাম): early warning and anticipatory action for Bangladesh's ASP.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Configuration.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")


@app.command("version")
def version() -> None:
    """Print the version."""
    console.print(f"agam {__version__}")


@config_app.command("check")
@handle_errors
def config_check(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Validate config.toml and the environment: every problem, one line each naming the
    key; also resolves cron expressions, rule-set files, the database driver and paths."""
    try:
        settings = settings_for(config)
    except ConfigError as exc:
        if not as_json:
            raise
        emit_json({"ok": False, "errors": str(exc).splitlines(), "warnings": []})
        raise typer.Exit(ConfigError.exit_code) from None
    from agam.pipeline.config_check import check_config

    report = check_config(settings)
    data = {
        "config": str(settings.config_path),
        "data_dir": str(settings.data_dir),
        "database": settings.database_url.split("@")[-1],
        "boundaries": settings.boundaries.source,
        "ok": report.ok,
        "errors": report.errors,
        "warnings": report.warnings,
    }
    if as_json:
        emit_json(data)
    else:
        for line in report.warnings:
            err_console.print(f"warning: {line}", markup=False, highlight=False, soft_wrap=True)
        if report.ok:
            console.print(f"ok: {data['config']} (data dir {data['data_dir']})", markup=False)
    if not report.ok:
        if not as_json:
            raise ConfigError("\n".join(report.errors))
        raise typer.Exit(ConfigError.exit_code)


@db_app.command("upgrade")
@handle_errors
def db_upgrade(config: ConfigOption = None) -> None:
    """Apply migrations up to the newest schema."""
    from agam.pipeline.context import AppContext
    from store.db import schema_revision

    ctx = AppContext(settings_for(config))
    ctx.settings.data_dir.mkdir(parents=True, exist_ok=True)
    ctx.store.upgrade()
    console.print(f"schema at {schema_revision(ctx.store.engine)}", markup=False)


@db_app.command("status")
@handle_errors
def db_status(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Schema revision and tables."""
    from agam.pipeline.context import AppContext
    from store.db import head_revision, schema_revision, table_names

    ctx = AppContext(settings_for(config))
    data = {
        "url": ctx.settings.database_url.split("@")[-1],
        "revision": schema_revision(ctx.store.engine),
        "head": head_revision(),
        "tables": table_names(ctx.store.engine),
    }
    if as_json:
        emit_json(data)
    else:
        console.print(f"{data['url']}: revision {data['revision']} (head {data['head']})")


@db_app.command("backup")
@handle_errors
def db_backup(
    target: Annotated[Path, typer.Argument(help="a new, empty folder")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """A consistent copy of the store (while it runs) and its raw artifacts, with a
    manifest (schema revision, audit head, counts)."""
    from agam.pipeline.context import AppContext
    from store.backup import backup

    ctx = AppContext(settings_for(config))
    manifest = backup(ctx.store, target, ctx.now(), ctx.settings.raw_dir)
    if as_json:
        emit_json(manifest.__dict__)
    else:
        console.print(
            f"backed up to {target}: {manifest.audit_entries} audit entries, head "
            f"{manifest.audit_head[:16]}, schema {manifest.schema_revision}",
            markup=False,
        )


@db_app.command("restore")
@handle_errors
def db_restore(
    source: Annotated[Path, typer.Argument(help="a folder written by `agam db backup`")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Restore a backup into this config's new, empty store; checks the audit chain."""
    from agam.pipeline.context import AppContext
    from store.backup import restore

    ctx = AppContext(settings_for(config))
    manifest = restore(ctx.store, source, ctx.settings.raw_dir)
    if as_json:
        emit_json(manifest.__dict__ | {"restored": True})
    else:
        console.print(
            f"restored {source}: audit chain verified ({manifest.audit_entries} entries, head "
            f"{manifest.audit_head[:16]})",
            markup=False,
        )


@app.command("scheduler")
@handle_errors
def scheduler(
    config: ConfigOption = None,
    for_seconds: Annotated[
        float | None, typer.Option("--for-seconds", help="stop after this long (tests, demos)")
    ] = None,
) -> None:
    """Run the feed scheduler (its own process): one job per enabled feed, UTC."""
    from agam.pipeline.context import AppContext
    from agam.scheduler import run_scheduler

    runs = run_scheduler(AppContext(settings_for(config)), duration_s=for_seconds)
    console.print(f"scheduler stopped after {runs} feed runs", markup=False)


@app.command("watchdog")
@handle_errors
def watchdog(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Check the scheduler's heartbeat; if it is not running, tell the administrators (once
    per outage, via the outbox) and exit 10. For a systemd timer or any monitoring."""
    from agam.pipeline.context import AppContext
    from agam.pipeline.health import check_scheduler

    ctx = AppContext(settings_for(config))
    health = check_scheduler(ctx)
    if as_json:
        emit_json(health.as_json())
    elif health.state != "not_running":
        console.print(health.sentence(), markup=False)
    if health.state == "not_running":
        raise SchedulerDown(health.sentence())


if __name__ == "__main__":
    app()
