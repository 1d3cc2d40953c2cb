"""Sub-commands loaded on first use, so `agam --help` does not import the whole system.

Each entry names the module and attribute of a Typer sub-app (or of a command function) and
the one-line help shown in `agam --help`. Listing the commands never imports them; running
one (or asking for its own `--help`) imports just its module.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import typer
from typer import _click as click  # the click that typer vendors and builds on
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True)
class Lazy:
    module: str
    attr: str
    help: str  # the command's help, kept equal by a test


LAZY_COMMANDS: dict[str, Lazy] = {
    "boundaries": Lazy("agam.cli.boundaries_cmd", "app", "The national union (ADM4) layer."),
    "users": Lazy("agam.cli.users_cmd", "app", "Local accounts, roles and districts."),
    "audit": Lazy("agam.cli.audit_cmd", "app", "The hash-chained audit log."),
    "lists": Lazy("agam.cli.lists_cmd", "app", "Anticipatory allowance lists."),
    "payments": Lazy("agam.cli.payments_cmd", "app", "Payment results and re-issues."),
    "report": Lazy("agam.cli.report_cmd", "app", "Monitoring and evaluation reports."),
    "feeds": Lazy("agam.cli.feeds_cmd", "app", "Hazard feeds: list, fetch, status, offline parse."),
    "triggers": Lazy("agam.cli.triggers_cmd", "triggers_app", "Rule sets and their triggers."),
    "alerts": Lazy("agam.cli.alerts_cmd", "app", "Alerts raised by the trigger engine."),
    "registry": Lazy(
        "agam.cli.registry_cmd", "app", "Beneficiary registry: import, stats, synthetic data."
    ),
    "grievances": Lazy("agam.cli.grievances_cmd", "app", "Grievance register."),
    "cyclone": Lazy("agam.cli.triggers_cmd", "cyclone_app", "Cyclone tools."),
    "evaluate": Lazy(
        "agam.cli.triggers_cmd",
        "evaluate_cmd",
        "Judge the latest stored forecasts with the active rule sets; reconcile alerts.",
    ),
    "backtest": Lazy(
        "agam.cli.triggers_cmd",
        "backtest_cmd",
        "What the rules would have done. --observed: hits, misses, false alarms and lead times "
        "of the stored season's forecasts against observed events. --series: per rule reading "
        "the series' stations, each year and the first day it would have fired (a perfect "
        "forecast).",
    ),
    "replay": Lazy(
        "agam.cli.season_cmd",
        "replay_cmd",
        "Re-run the stored forecasts issued in [--from, --to] through the live pipeline into a "
        "separate data dir, on the times they were fetched; print the alerts it produced.",
    ),
    "serve": Lazy(
        "agam.cli.serve_cmd",
        "serve_cmd",
        "Serve the dashboard on an existing store (see `agam demo` to make one).",
    ),
    "demo": Lazy(
        "agam.cli.demo_cmd",
        "demo_cmd",
        "Prepare the store, boundaries, demo accounts and a SYNTHETIC registry, play the bundled "
        "scenarios through the feed jobs, then serve the dashboard. Safe to re-run.",
    ),
}


def load_command(name: str) -> click.Command:
    """Import a lazy command's module and turn its Typer app or function into a click command."""
    entry = LAZY_COMMANDS[name]
    target: Any = getattr(importlib.import_module(entry.module), entry.attr)
    # mounted on a throwaway parent exactly as add_typer / command would mount it, so a
    # sub-app with one command stays a group (`agam cyclone decay`)
    parent = typer.Typer()
    if isinstance(target, typer.Typer):
        parent.add_typer(target, name=name)
    else:
        parent.command(name)(target)
        parent.command("_")(lambda: None)  # two commands: get_command returns the group
    group = typer.main.get_command(parent)
    assert isinstance(group, TyperGroup)
    return group.commands[name]


class LazyGroup(TyperGroup):
    """A Typer group whose LAZY_COMMANDS are imported when resolved, not when listed."""

    _listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in LAZY_COMMANDS if n not in self.commands)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in LAZY_COMMANDS:
            return super().get_command(ctx, cmd_name)
        if self._listing:  # the help page needs only the name and one line
            return TyperCommand(name=cmd_name, short_help=LAZY_COMMANDS[cmd_name].help)
        command = load_command(cmd_name)
        self.commands[cmd_name] = command
        return command

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False
