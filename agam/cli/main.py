"""Entry point of the `agam` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agam import __version__
from agam.cli import (
    alerts_cmd,
    audit_cmd,
    boundaries_cmd,
    feeds_cmd,
    grievances_cmd,
    lists_cmd,
    payments_cmd,
    registry_cmd,
    report_cmd,
    season_cmd,
    serve_cmd,
    triggers_cmd,
    users_cmd,
)
from agam.cli.common import (
    ConfigOption,
    JsonOption,
    console,
    emit_json,
    err_console,
    handle_errors,
    settings_for,
)
from agam.cli.demo_cmd import ScenarioOption, run_demo
from agam.core.errors import ConfigError, SchedulerDown
from agam.pipeline.config_check import check_config
from agam.pipeline.context import AppContext
from agam.pipeline.health import check_scheduler
from store.backup import backup, restore
from store.db import head_revision, schema_revision, table_names

app = typer.Typer(
    help="Agam (আগাম): early warning and anticipatory action for Bangladesh's ASP.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Configuration.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.add_typer(boundaries_cmd.app, name="boundaries")
app.add_typer(users_cmd.app, name="users")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(lists_cmd.app, name="lists")
app.add_typer(payments_cmd.app, name="payments")
app.add_typer(report_cmd.app, name="report")
app.add_typer(feeds_cmd.app, name="feeds")
app.add_typer(triggers_cmd.triggers_app, name="triggers")
app.add_typer(alerts_cmd.app, name="alerts")
app.add_typer(registry_cmd.app, name="registry")
app.add_typer(grievances_cmd.app, name="grievances")
app.add_typer(triggers_cmd.cyclone_app, name="cyclone")
app.command("evaluate")(triggers_cmd.evaluate_cmd)
app.command("backtest")(triggers_cmd.backtest_cmd)
app.command("replay")(season_cmd.replay_cmd)
app.command("serve")(serve_cmd.serve_cmd)


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
    ctx = AppContext(settings_for(config))
    ctx.settings.data_dir.mkdir(parents=True, exist_ok=True)
    ctx.store.upgrade()
    console.print(f"schema at {schema_revision(ctx.store.engine)}", markup=False)


@db_app.command("status")
@handle_errors
def db_status(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Schema revision and tables."""
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
    from agam.scheduler import run_scheduler

    runs = run_scheduler(AppContext(settings_for(config)), duration_s=for_seconds)
    console.print(f"scheduler stopped after {runs} feed runs", markup=False)


@app.command("watchdog")
@handle_errors
def watchdog(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Check the scheduler's heartbeat; if it is not running, tell the administrators (once
    per outage, via the outbox) and exit 10. For a systemd timer or any monitoring."""
    ctx = AppContext(settings_for(config))
    health = check_scheduler(ctx)
    if as_json:
        emit_json(health.as_json())
    elif health.state != "not_running":
        console.print(health.sentence(), markup=False)
    if health.state == "not_running":
        raise SchedulerDown(health.sentence())


@app.command("demo")
@handle_errors
def demo(
    config: ConfigOption = None,
    scenario: ScenarioOption = "both",
    prepare_only: Annotated[
        bool, typer.Option("--prepare-only", help="prepare and play, print a summary, exit")
    ] = False,
    as_json: JsonOption = False,
    port: Annotated[int | None, typer.Option("--port")] = None,
    households: Annotated[
        int, typer.Option("--households", help="size of the SYNTHETIC demo registry")
    ] = 200_000,
    speed: Annotated[
        float | None,
        typer.Option("--speed", help="scenario seconds per real second (default: no waiting)"),
    ] = None,
) -> None:
    """Prepare the store, boundaries, demo accounts and a SYNTHETIC registry, play the bundled
    scenarios through the feed jobs, then serve the dashboard. Safe to re-run."""
    run_demo(
        settings_for(config),
        scenario=scenario,
        households=households,
        prepare_only=prepare_only,
        as_json=as_json,
        port=port,
        speed=speed,
    )


if __name__ == "__main__":
    app()
