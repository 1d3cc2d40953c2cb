"""Immutable raw artifacts on disk, addressed by sha256, written atomically.

<raw_dir>/<feed>/<sha[:2]>/<sha>.<ext> (+ <sha>.meta.json with how it was fetched). A file
already stored under its hash is not written again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NamedTuple, Protocol

from agam.core.errors import StoreError
from agam.core.timeutil import iso_utc, parse_utc

log = logging.getLogger(__name__)

SHA256 = re.compile(r"^[0-9a-f]{64}$")
FEED_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
EXTENSIONS = {
    "json": ".json",
    "xml": ".xml",
    "netcdf": ".nc",
    "x-netcdf": ".nc",
    "grib": ".grib",
    "tiff": ".tif",
    "csv": ".csv",
    "zip": ".zip",
}


class Artifact(Protocol):
    """What the store needs of an artifact (hazard_feeds.contract.RawArtifact fits)."""

    @property
    def feed_id(self) -> str: ...
    @property
    def source_uri(self) -> str: ...
    @property
    def content(self) -> bytes: ...
    @property
    def sha256(self) -> str: ...
    @property
    def fetched_at(self) -> datetime: ...
    @property
    def content_type(self) -> str | None: ...
    @property
    def etag(self) -> str | None: ...
    @property
    def last_modified(self) -> str | None: ...
    @property
    def parts(self) -> Mapping[str, bytes]: ...


@dataclass(frozen=True)
class StoredArtifact:
    feed_id: str
    source_uri: str
    content: bytes
    sha256: str
    fetched_at: datetime
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    parts: Mapping[str, bytes] = field(default_factory=dict)


class PutResult(NamedTuple):
    """Where the artifact lives, and whether it was already there (nothing written)."""

    path: Path
    already_stored: bool


def _check_ids(feed_id: str, sha256: str) -> None:
    if not FEED_ID.match(feed_id):
        raise StoreError(f"invalid feed id {feed_id!r} for the raw-artifact folder")
    if not SHA256.match(sha256):
        raise StoreError(f"invalid sha256 {sha256[:70]!r} (64 lowercase hex digits expected)")


def atomic_write_bytes(target: Path, data: bytes) -> None:
    """temp file in the same folder -> fsync -> rename -> fsync the folder."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(name, target)
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    finally:
        if os.path.exists(name):
            os.unlink(name)


def _extension(raw: Artifact) -> str:
    kind = (raw.content_type or "").split(";")[0].split("/")[-1].lower()
    if kind in EXTENSIONS:
        return EXTENSIONS[kind]
    suffix = Path(raw.source_uri.split("?")[0]).suffix.lower()
    return suffix if 1 < len(suffix) <= 6 else ".bin"


class RawArtifactStore:
    """root/<feed_id>/<sha256[:2]>/<sha256>.<ext>, plus <sha256>.meta.json and any parts."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, raw: Artifact) -> Path:
        _check_ids(raw.feed_id, raw.sha256)
        return self.root / raw.feed_id / raw.sha256[:2] / f"{raw.sha256}{_extension(raw)}"

    def put(self, raw: Artifact) -> PutResult:
        """Store the bytes (and parts) once; an artifact already kept is not written again."""
        path = self.path_for(raw)
        if hashlib.sha256(raw.content).hexdigest() != raw.sha256:
            raise StoreError(f"{raw.feed_id}: artifact content does not match its sha256")
        if path.exists() and path.stat().st_size == len(raw.content):
            log.debug("%s: raw artifact %s already stored", raw.feed_id, raw.sha256[:12])
            return PutResult(path, True)
        for name, data in sorted(raw.parts.items()):
            if not FEED_ID.match(name):
                raise StoreError(f"{raw.feed_id}: invalid part name {name!r}")
            atomic_write_bytes(path.with_name(f"{raw.sha256}.part-{name}"), data)
        meta = {
            "feed_id": raw.feed_id,
            "source_uri": raw.source_uri,
            "sha256": raw.sha256,
            "fetched_at": iso_utc(raw.fetched_at),
            "content_type": raw.content_type,
            "etag": raw.etag,
            "last_modified": raw.last_modified,
            "parts": sorted(raw.parts),
            "part_sha256": {n: hashlib.sha256(d).hexdigest() for n, d in sorted(raw.parts.items())},
        }
        atomic_write_bytes(
            path.with_name(f"{raw.sha256}.meta.json"), json.dumps(meta, indent=2).encode("utf-8")
        )
        atomic_write_bytes(path, raw.content)  # last: its presence means "complete"
        log.info("%s: stored raw artifact %s (%d bytes)", raw.feed_id, path, len(raw.content))
        return PutResult(path, False)

    def exists(self, feed_id: str, sha256: str) -> bool:
        _check_ids(feed_id, sha256)
        return self._data_path(feed_id, sha256) is not None

    def _data_path(self, feed_id: str, sha256: str) -> Path | None:
        folder = self.root / feed_id / sha256[:2]
        if not (folder / f"{sha256}.meta.json").exists():
            return None
        return next(
            (
                p
                for p in sorted(folder.glob(f"{sha256}.*"))
                if not p.name.endswith(".meta.json") and ".part-" not in p.name
            ),
            None,
        )

    def get(self, feed_id: str, sha256: str) -> StoredArtifact:
        """Read an artifact back by hash, verifying the checksum of the body and its parts."""
        _check_ids(feed_id, sha256)
        folder = self.root / feed_id / sha256[:2]
        data_path = self._data_path(feed_id, sha256)
        if data_path is None:
            raise StoreError(f"no raw artifact {sha256[:12]} for feed {feed_id}")
        meta = json.loads((folder / f"{sha256}.meta.json").read_text("utf-8"))
        content = data_path.read_bytes()
        if hashlib.sha256(content).hexdigest() != sha256:
            raise StoreError(f"raw artifact {data_path} is corrupt (checksum mismatch)")
        parts = {name: (folder / f"{sha256}.part-{name}").read_bytes() for name in meta["parts"]}
        for name, expected in (meta.get("part_sha256") or {}).items():
            if hashlib.sha256(parts[name]).hexdigest() != expected:
                raise StoreError(f"raw artifact {data_path} part {name!r} is corrupt")
        return StoredArtifact(
            feed_id=feed_id,
            source_uri=meta["source_uri"],
            content=content,
            sha256=sha256,
            fetched_at=parse_utc(meta["fetched_at"]),
            content_type=meta.get("content_type"),
            etag=meta.get("etag"),
            last_modified=meta.get("last_modified"),
            parts=parts,
        )
