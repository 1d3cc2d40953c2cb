"""A backup's manifest steers the restore and its report: a damaged or tampered one is one
error naming the folder and the field, and the restored chain must match it in full."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agam.core.errors import StoreError
from store import audit
from store.backup import MANIFEST, BackupManifest, backup, restore
from store.db import Store

AT = datetime(2026, 7, 1, 6, 0, tzinfo=UTC)


@pytest.fixture
def backed_up(tmp_path: Path) -> Path:
    store = Store(f"sqlite:///{tmp_path / 'live' / 'agam.sqlite3'}")
    store.upgrade()
    with store.session() as session:
        for n in range(3):
            audit.append(session, at=AT, actor="t", action="test", entity="t", entity_id=str(n))
    backup(store, tmp_path / "backup", AT)
    store.dispose()
    return tmp_path / "backup"


def _tamper(folder: Path, text: str) -> None:
    (folder / MANIFEST).write_text(text, encoding="utf-8")


def _manifest(folder: Path) -> dict[str, object]:
    return dict(json.loads((folder / MANIFEST).read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda doc: "[" * 100_000, "not an Agam backup (manifest.json: nested too deep)"),
        (lambda doc: json.dumps(doc | {"audit_entries": "many"}), "audit_entries is not a whole"),
        (lambda doc: json.dumps(doc | {"audit_entries": True}), "audit_entries is not a whole"),
        (lambda doc: json.dumps(doc | {"backend": 5}), "manifest.json: backend is not text"),
        (lambda doc: json.dumps(doc | {"extra": 1}), "manifest.json holds exactly created_at,"),
        (lambda doc: json.dumps(doc).replace("3,", "NaN,", 1), "(manifest.json: NaN is not JSON)"),
        (lambda doc: json.dumps([doc]), "manifest.json holds exactly"),
    ],
)
def test_a_damaged_manifest_is_refused_naming_the_field(
    backed_up: Path, change: object, error: str
) -> None:
    _tamper(backed_up, change(_manifest(backed_up)))  # type: ignore[operator]
    with pytest.raises(StoreError) as raised:
        BackupManifest.read(backed_up)
    assert str(raised.value).startswith(f"{backed_up}: ")
    assert error in str(raised.value)


def test_the_restored_chain_must_match_the_manifest_entries_as_well_as_the_head(
    backed_up: Path, tmp_path: Path
) -> None:
    """The report printed the manifest's count, never checked: a manifest saying another
    number of entries (with the right head) was 'verified'."""
    doc = _manifest(backed_up)
    assert doc["audit_entries"] == 3
    _tamper(backed_up, json.dumps(doc | {"audit_entries": 2}))
    target = Store(f"sqlite:///{tmp_path / 'restored' / 'agam.sqlite3'}")
    with pytest.raises(StoreError, match=r"3 entries, head .*; the manifest says 2, "):
        restore(target, backed_up)
    target.dispose()
    _tamper(backed_up, json.dumps(doc))
    again = Store(f"sqlite:///{tmp_path / 'again' / 'agam.sqlite3'}")
    assert restore(again, backed_up).audit_entries == 3
    again.dispose()
