"""`agam audit verify|checkpoint|keygen`: the hash-chained audit log, anchored outside.

A checkpoint is {entries, last id, head hash, time} signed with HMAC-SHA256 under a key kept
outside the database (a file readable by its owner only, named by --key-file or
$AGAM_AUDIT_KEY_FILE). Keep checkpoints elsewhere (e.g. with the committee's minutes);
`verify --checkpoint FILE` then finds tail rows deleted since, and a chain recomputed after an
edit, which the chain alone cannot show.

`verify` also checks what the chain vouches for (store.decision_audit): every list decision
against the audit entry written with it, each list against its decisions, and each approved
or exported list's lines, pinned payees and payment snapshot against its approved hash.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

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
from agam.core.errors import ConfigError, StoreError
from agam.core.files import atomic_write_bytes
from agam.pipeline.context import AppContext
from store import audit, decision_audit

app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
KEY_ENV = "AGAM_AUDIT_KEY_FILE"
SHOWN = 20  # problems named one a line; the rest counted
KeyOption = Annotated[
    Path | None,
    typer.Option("--key-file", envvar=KEY_ENV, help="HMAC key file (owner-only), see keygen"),
]


class AuditBroken(StoreError):
    """The audit chain does not verify, or no longer holds a checkpoint."""


def read_key(path: Path | None) -> bytes:
    if path is None:
        raise ConfigError(f"no checkpoint key: give --key-file or set {KEY_ENV}")
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path}: cannot read the checkpoint key ({type(exc).__name__})"
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{path}: the checkpoint key must be readable by its owner only (0600)")
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise ConfigError(f"{path}: not a key written by `agam audit keygen`") from None
    if len(key) < 32:
        raise ConfigError(f"{path}: key too short (32 bytes at least)")
    return key


def _read_checkpoint(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:  # ValueError: undecodable, not JSON
        raise AuditBroken(f"{path}: not a checkpoint file ({type(exc).__name__})") from None
    needed = {"version", "entries", "last_id", "head", "at", "hmac_sha256"}
    if not isinstance(data, dict) or not needed <= set(data):
        raise AuditBroken(f"{path}: not a checkpoint file (fields {', '.join(sorted(needed))})")
    return data


@app.command("keygen")
@handle_errors
def keygen(out: Annotated[Path, typer.Argument(help="the key file to create (0600)")]) -> None:
    """Create a checkpoint key (32 random bytes, hex). Keep it off the database host's data
    directory, e.g. with whoever signs checkpoints for the committee."""
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(f"{out}: exists; not overwritten") from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    console.print(f"wrote {out} (owner-only)", markup=False)


@app.command("checkpoint")
@handle_errors
def checkpoint(
    out: Annotated[Path | None, typer.Option("--out", help="write here (default stdout)")] = None,
    key_file: KeyOption = None,
    force: ForceOption = False,
    config: ConfigOption = None,
) -> None:
    """Export a signed checkpoint {entries, last_id, head, at} of a log that verifies; an
    existing --out file is replaced only with --force."""
    if out is not None:
        output_file(out, force, "--out")
    key = read_key(key_file)
    ctx = AppContext(settings_for(config))
    ctx.store.upgrade()
    with ctx.store.read() as session:
        report = audit.verify(session)
        if not report.ok:
            raise AuditBroken(f"audit log row {report.bad_id}: {report.reason}; no checkpoint")
        data = audit.sign_checkpoint(audit.checkpoint(session, ctx.now()), key)
    text = json.dumps(data, indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        atomic_write_bytes(out, text.encode("utf-8"))
        console.print(f"checkpoint of {data['entries']} entries written to {out}", markup=False)


@app.command("verify")
@handle_errors
def verify(
    checkpoint_file: Annotated[
        Path | None, typer.Option("--checkpoint", help="also check against this checkpoint")
    ] = None,
    key_file: KeyOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute every entry's hash and, with --checkpoint, check the log still holds the
    checkpoint's entries unchanged; check every list decision against its audit entry, each
    list against its decisions, and each approved or exported list's lines, payees and payment
    snapshot against its approved hash. Fail naming every problem found."""
    ctx = AppContext(settings_for(config))
    ctx.store.upgrade()
    data = None
    if checkpoint_file is not None:
        data = _read_checkpoint(checkpoint_file)
        if not audit.checkpoint_signed(data, read_key(key_file)):
            raise AuditBroken(
                f"{checkpoint_file}: signature does not match (edited, or another key)"
            )
    with ctx.store.read() as session, _progress(not as_json) as progress:
        if session.get_bind().dialect.name == "postgresql":  # one snapshot for every check
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        report = audit.verify(session) if data is None else audit.verify_checkpoint(session, data)
        store = decision_audit.verify_store(session, progress)
    if as_json:
        emit_json({**report.__dict__, "ok": report.ok and store.ok, "chain_ok": report.ok,
                   **store.as_dict()})  # fmt: skip
    problems = [] if report.ok else [_chain_problem(report)]
    problems += store.problems
    if problems:
        more = store.problem_count + len(problems) - len(store.problems) - SHOWN
        lines = problems[:SHOWN] + ([f"and {more:,} more"] if more > 0 else [])
        raise AuditBroken("\n".join(lines))
    if not as_json:
        against = f", holds the checkpoint of {data['at']}" if data else ""
        console.print(
            f"ok: {report.entries:,} entries, head {report.head[:16]}{against}; "
            f"{store.decisions:,} decisions match the log; {store.rehashed:,} approved or "
            f"exported lists re-hash to their approvals ({store.snapshots:,} payment "
            "snapshots too)",
            markup=False,
            soft_wrap=True,
        )


def _chain_problem(report: audit.ChainReport) -> str:
    where = f"audit log row {report.bad_id}: " if report.bad_id else "audit log: "
    return f"{where}{report.reason}"


@contextmanager
def _progress(shown: bool) -> Iterator[Callable[[int, int], None] | None]:
    """Which approved list is being re-hashed, on a terminal only (a status line, erased)."""
    if not shown or not err_console.is_terminal:
        yield None
        return
    with err_console.status("checking the audit log and the decisions") as status:
        yield lambda done, total: status.update(f"re-hashing approved lists: {done} of {total}")
