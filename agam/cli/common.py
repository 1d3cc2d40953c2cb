"""Shared CLI plumbing: --config, --json, one-line errors with exit codes."""

from __future__ import annotations

import functools
import json
import logging
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from agam.core.errors import AgamError, StoreError

if TYPE_CHECKING:
    from agam.core.settings import Settings

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", envvar="AGAM_CONFIG", help="config.toml to use (default ./config.toml)"
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable output")]

console = Console()
err_console = Console(stderr=True)


def shown(text: str) -> str:
    """Text from a file or a person, safe for the terminal: a control or text-direction
    character is printed as its escape (\\x1b), never sent to the terminal to act on."""
    from agam.core.typed_text import CONTROL_CHARS

    return CONTROL_CHARS.sub(lambda m: m.group().encode("unicode_escape").decode(), text)


F = TypeVar("F", bound=Callable[..., Any])


def settings_for(config: Path | None) -> Settings:
    # imported here, not at start-up (`agam --help` needs neither); the feed registry
    # registers the [feeds.*] models the settings are validated with
    from agam.core.settings import load_settings
    from hazard_feeds import registry  # noqa: F401

    settings = load_settings(config)
    logging.basicConfig(
        level=settings.app.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        # alembic says at INFO which plugins it set up whenever the schema is checked
        logging.getLogger("alembic").setLevel(logging.WARNING)
    return settings


ForceOption = Annotated[bool, typer.Option("--force", help="replace OUT if it exists")]


def output_file(path: Path, force: bool = False, hint: str = "OUT") -> Path:
    """Where a command writes one file: not a folder, in a folder that exists, and never
    replacing a file unless --force (a bad path is a usage error, exit 2)."""
    if path.is_dir():
        raise typer.BadParameter(f"{path} is a folder; give a file name", param_hint=hint)
    if not path.parent.is_dir():
        raise typer.BadParameter(f"the folder {path.parent} does not exist", param_hint=hint)
    if (path.exists() or path.is_symlink()) and not force:
        raise typer.BadParameter(
            f"{path} exists; not replaced (give --force to replace it)", param_hint=hint
        )
    return path


def handle_errors(func: F) -> F:
    """AgamError -> one line per problem on stderr and its exit code. A database that is
    locked or unreachable outside a store session is a StoreError too, and a file system
    refusal (OSError) one line naming the path, never a traceback; anything else (a bug) is
    not swallowed."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AgamError as exc:
            for line in str(exc).splitlines() or [type(exc).__name__]:
                err_console.print(f"error: {line}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:  # the file system said no: a path, a permission, a full disk
            where = f"{exc.filename}: " if exc.filename else ""
            err_console.print(f"error: {where}{exc.strerror or exc}", markup=False, highlight=False)
            raise typer.Exit(AgamError.exit_code) from None
        except Exception as exc:
            if not _is_operational_error(exc):
                raise
            from store.db import describe

            error = StoreError(describe(exc))
            err_console.print(f"error: {error}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(error.exit_code) from None

    return wrapper  # type: ignore[return-value]


def _is_operational_error(exc: Exception) -> bool:
    # SQLAlchemy is imported only by commands that use the store; if it was never loaded, the
    # error cannot be one of its own (and importing it here would cost half a second)
    sqlalchemy_exc = sys.modules.get("sqlalchemy.exc")
    return sqlalchemy_exc is not None and isinstance(exc, sqlalchemy_exc.OperationalError)


def emit_json(data: Any) -> None:
    """`data` as JSON on stdout. A missing number (NaN, e.g. from a pandas frame) is written
    as null: JSON has no NaN, and strict readers refuse the `NaN` Python would write."""
    text = json.dumps(_plain(data), ensure_ascii=False, indent=2, default=str, allow_nan=False)
    sys.stdout.write(text + "\n")


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
