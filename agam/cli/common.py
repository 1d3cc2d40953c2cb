"""Shared CLI plumbing: --config, --json, one-line errors with exit codes."""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from sqlalchemy.exc import OperationalError

from agam.core.errors import AgamError, StoreError
from agam.core.settings import Settings, load_settings
from store.db import describe

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", envvar="AGAM_CONFIG", help="config.toml to use (default ./config.toml)"
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable output")]

console = Console()
err_console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


def settings_for(config: Path | None) -> Settings:
    settings = load_settings(config)
    logging.basicConfig(
        level=settings.app.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    return settings


def handle_errors(func: F) -> F:
    """AgamError -> one line per problem on stderr and its exit code. A database that is
    locked or unreachable outside a store session is a StoreError too, never a traceback;
    anything else (a bug) is not swallowed."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except OperationalError as exc:
            error = StoreError(describe(exc))
            err_console.print(f"error: {error}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(error.exit_code) from None
        except AgamError as exc:
            for line in str(exc).splitlines() or [type(exc).__name__]:
                err_console.print(f"error: {line}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
