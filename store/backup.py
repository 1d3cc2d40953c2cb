"""Consistent backups of a store and their restore, checked by the audit chain.

SQLite: SQLite's online backup API (a consistent copy while the scheduler writes, WAL
included). PostgreSQL: `pg_dump --format=custom`, restored with `pg_restore --no-owner`
into an empty database. Each backup folder holds a manifest with the schema revision,
the audit chain's head and row counts; a restore is checked against it (same head, chain
verifies) before it is reported done. Raw artifacts (content-addressed, immutable) are
copied alongside, so processed forecasts can be rebuilt from them.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from agam.core.errors import StoreError
from agam.core.private_files import create_private_file, private_folder
from agam.core.timeutil import iso_utc
from store import audit
from store.db import Store, schema_revision
from store.models import Alert, AllowanceList, AuditEntry, ForecastRun

MANIFEST = "manifest.json"
SQLITE_FILE = "agam.sqlite3"
PG_DUMP = "agam.dump"


@dataclass(frozen=True)
class BackupManifest:
    created_at: str
    backend: str
    schema_revision: str | None
    audit_head: str
    audit_entries: int
    alerts: int
    lists: int
    forecasts: int

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def read(cls, source: Path) -> BackupManifest:
        """The manifest of backup folder `source`, every field of its type, or StoreError: a
        tampered or damaged manifest must not steer the restore or its report."""
        try:
            doc = json.loads((source / MANIFEST).read_text("utf-8"), parse_constant=_no_constant)
        except (OSError, ValueError, RecursionError) as exc:
            raise StoreError(f"{source}: not an Agam backup ({MANIFEST}: {_why(exc)})") from None
        kinds = {"str": (str,), "str | None": (str, type(None)), "int": (int,)}
        said = {"str": "text", "str | None": "text or null", "int": "a whole number"}
        wanted = {f.name: kinds[str(f.type)] for f in fields(cls)}
        labels = {f.name: said[str(f.type)] for f in fields(cls)}
        if not isinstance(doc, dict) or set(doc) != set(wanted):
            names = ", ".join(wanted)
            raise StoreError(f"{source}: not an Agam backup ({MANIFEST} holds exactly {names})")
        for name, types in wanted.items():
            value = doc[name]
            if not isinstance(value, types) or isinstance(value, bool):
                raise StoreError(f"{source}: {MANIFEST}: {name} is not {labels[name]}")
        return cls(**doc)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _why(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deep"
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return " ".join(str(exc).split()) or type(exc).__name__


def _manifest(store: Store, at: datetime) -> BackupManifest:
    with store.read() as session:
        chain = audit.verify(session)
        if not chain.ok:
            raise StoreError(f"audit chain broken at row {chain.bad_id}: not backing up")

        def count(model: type) -> int:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)

        counts = (count(AuditEntry), count(Alert), count(AllowanceList), count(ForecastRun))
    return BackupManifest(
        iso_utc(at),
        store.engine.dialect.name,
        schema_revision(store.engine),
        chain.head,
        *counts,
    )


def _tool(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for p in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))[::-1]), None
    )
    if found is None:
        raise StoreError(f"{name} not found: install the PostgreSQL client tools")
    return found


def _libpq(store: Store) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password (argv is visible to every user) and the env."""
    url = make_url(store.url).set(drivername="postgresql")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(password=None).render_as_string(hide_password=False), env


def backup(store: Store, target: Path, at: datetime, raw_dir: Path | None = None) -> BackupManifest:
    """Write a consistent copy of the store (and the raw artifacts) into folder `target`."""
    if target.exists() and any(target.iterdir()):
        raise StoreError(f"{target} is not empty: choose a new backup folder")
    private_folder(target)  # the whole registry is in it: the owner's alone
    manifest = _manifest(store, at)
    if store.sqlite_file is not None:
        create_private_file(target / SQLITE_FILE)
        source = sqlite3.connect(store.sqlite_file)
        copy = sqlite3.connect(target / SQLITE_FILE)
        try:
            with copy:
                source.backup(copy)
        finally:
            copy.close()
            source.close()
    elif store.engine.dialect.name == "postgresql":
        url, env = _libpq(store)
        create_private_file(target / PG_DUMP)  # pg_dump writes into it, keeping its mode
        _run([_tool("pg_dump"), "--format=custom", "--file", str(target / PG_DUMP), url], env)
    else:
        raise StoreError(f"backups of {store.engine.dialect.name} are not supported")
    if raw_dir is not None and raw_dir.is_dir():
        shutil.copytree(raw_dir, target / "raw", dirs_exist_ok=True)
    create_private_file(target / MANIFEST)
    (target / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def restore(store: Store, source: Path, raw_dir: Path | None = None) -> BackupManifest:
    """Restore backup folder `source` into the (new, empty) database of `store`; checks
    the audit chain against the manifest."""
    manifest = BackupManifest.read(source)
    if store.sqlite_file is not None:
        if manifest.backend != "sqlite":
            raise StoreError(f"{source} holds a {manifest.backend} backup, not SQLite")
        if store.sqlite_file.exists():
            raise StoreError(f"{store.sqlite_file} exists: restore into a new data dir")
        store.sqlite_file.parent.mkdir(parents=True, exist_ok=True)
        create_private_file(store.sqlite_file)
        shutil.copyfile(source / SQLITE_FILE, store.sqlite_file)
    else:
        with store.read() as session:
            if session.get_bind().dialect.has_table(session.connection(), "alembic_version"):
                raise StoreError("the target database is not empty: restore into a new one")
        url, env = _libpq(store)
        _run([_tool("pg_restore"), "--no-owner", "--dbname", url, str(source / PG_DUMP)], env)
    if raw_dir is not None and (source / "raw").is_dir():
        shutil.copytree(source / "raw", raw_dir, dirs_exist_ok=True)
    with store.read() as session:
        chain = audit.verify(session)
    if not chain.ok:
        raise StoreError(f"restored audit chain is broken at row {chain.bad_id} ({chain.reason})")
    if (chain.head, chain.entries) != (manifest.audit_head, manifest.audit_entries):
        raise StoreError(
            f"restored audit chain does not match the backup: {chain.entries} entries, head "
            f"{(chain.head or '')[:16]}; the manifest says {manifest.audit_entries}, "
            f"{manifest.audit_head[:16]}"
        )
    return manifest


def _run(argv: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise StoreError(f"{Path(argv[0]).name}: {last}")
