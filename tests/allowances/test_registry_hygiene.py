"""Registry hygiene: formula-like and control characters refused (row and field named, the
value never repeated); staging owner-only inside the data directory; a kill -9 mid-import
leaves no personal data behind, and the next start removes what is left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agam.cli.main import app
from agam.core.settings import Settings
from allowances.registry_import import import_registry
from allowances.registry_staging import Staging, clean_stale
from allowances.synthetic import generate_registry
from boundaries.layer import UnionLayer
from store.db import Store
from store.user_repo import bootstrap_admin

T1 = datetime(2025, 1, 1, tzinfo=UTC)
GOOD = (
    "B1,old_age,H1,1234567890,,{name},,female,1950,no,no,no,0,no,BD55490911,1,{village},mfs,"
    "bkash,{wallet},,,"
)


@pytest.mark.parametrize(
    ("cells", "field", "why"),
    [
        ({"name": '+1+HYPERLINK("http://x";"y")'}, "name_en", "formula-like"),
        ({"name": '-0+WEBSERVICE("http://x")'}, "name_en", "formula-like"),
        ({"name": "@SUM(A1)"}, "name_en", "formula-like"),
        ({"name": "=1+1"}, "name_en", "formula-like"),
        ({"name": "\tRahima"}, "name_en", "U+0009"),
        ({"name": '"\rRahima"'}, "name_en", "U+000D"),  # quoted: a CR inside the cell
        ({"name": "Rahi\x00ma"}, "name_en", "U+0000"),
        ({"name": "Rahima\x1b[31m"}, "name_en", "U+001B"),
        ({"name": "Rahima\u202egnp.exe"}, "name_en", "U+202E"),
        ({"village": "-Char"}, "village", "formula-like"),
        ({"wallet": '+1+HYPERLINK("x")'}, "wallet_number", "formula-like"),
        ({"wallet": "-01712345678"}, "wallet_number", "formula-like"),
    ],
)
def test_formula_and_control_characters_are_refused(
    store: Store,
    write_csv: Callable[[str, list[str]], Path],
    union_layer: UnionLayer,
    cells: dict[str, str],
    field: str,
    why: str,
) -> None:
    values = {"name": "Rahima", "village": "Char", "wallet": "01712345678"} | cells
    path = write_csv("bad.csv", [GOOD.format(**values)])
    report = import_registry(store, path, union_layer, at=T1)
    assert report.status == "rejected"
    [error] = report.errors
    assert (error.row, error.field) == (2, field)
    assert why in error.reason
    assert "HYPERLINK" not in error.reason
    assert "Rahi" not in error.reason


@pytest.mark.parametrize(
    ("children", "birth_year", "field", "why"),
    [
        ("-3", "1950", "children_under5", "a negative number, outside 0–20"),
        (" -৩ ", "1950", "children_under5", "a negative number, outside 0–20"),
        ("0", "-1950", "birth_year", "a negative number, outside 1900–"),
        ("-3+HYPERLINK(1)", "1950", "children_under5", "formula-like"),
        ("-", "1950", "children_under5", "formula-like"),
    ],
)
def test_a_negative_count_is_called_negative_not_a_formula(
    store: Store,
    write_csv: Callable[[str, list[str]], Path],
    union_layer: UnionLayer,
    children: str,
    birth_year: str,
    field: str,
    why: str,
) -> None:
    row = GOOD.format(name="Rahima", village="Char", wallet="01712345678")
    cells = row.split(",")
    cells[8], cells[12] = birth_year, children
    report = import_registry(store, write_csv("bad.csv", [",".join(cells)]), union_layer, at=T1)
    assert report.status == "rejected"
    [error] = report.errors
    assert (error.row, error.field) == (2, field)
    assert why in error.reason


def test_phone_numbers_with_a_plus_and_bangla_text_pass(
    store: Store, write_csv: Callable[[str, list[str]], Path], union_layer: UnionLayer
) -> None:
    row = GOOD.format(name="জ\u200dন Rahima", village="Char", wallet="+88 01712-345678")
    report = import_registry(store, write_csv("ok.csv", [row]), union_layer, at=T1)
    assert report.status == "imported", report.errors


def test_staging_is_private_and_in_the_data_directory(tmp_path: Path) -> None:
    root = tmp_path / "data" / "staging"
    with Staging(root) as staging:
        spill = staging.spill()
        assert staging.folder is not None
        assert os.stat(root).st_mode & 0o777 == 0o700
        assert os.stat(staging.folder).st_mode & 0o777 == 0o700
        assert [p.name for p in staging.folder.iterdir()] == [".lock"]  # the spill has no name
        assert clean_stale(root) == 0  # in use
        spill.sink().write(b"x")
    assert list(root.iterdir()) == []


def _held_spill(pid: int) -> str | None:
    """The unlinked spill file the import holds open, seen through /proc."""
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.endswith(".arrow (deleted)"):
            return target
    return None


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc")
def test_kill_9_during_import_leaves_no_personal_data(
    settings: Settings, union_layer: UnionLayer, tmp_path: Path
) -> None:
    registry = generate_registry(union_layer, 150_000, 7, tmp_path / "registry.csv", fmt="csv")
    store = Store(settings.database_url)
    store.upgrade()
    with store.session() as session:
        bootstrap_admin(
            session, username="admin", password="a long password", display_name="", at=T1
        )
    temp = tmp_path / "tmpdir"
    temp.mkdir()
    env = dict(
        os.environ,
        AGAM_CONFIG=str(settings.config_path),
        AGAM_USER="admin",
        AGAM_PASSWORD="a long password",
        TMPDIR=str(temp),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "agam.cli.main", "registry", "import", str(registry.path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        spill = None
        deadline = time.monotonic() + 300
        while spill is None and proc.poll() is None and time.monotonic() < deadline:
            spill = _held_spill(proc.pid)
            time.sleep(0.02)
        assert spill is not None, "the import never opened its spill file"
        staging = settings.data_dir / "staging"
        assert spill.startswith(str(staging.resolve()))  # in the data directory, not $TMPDIR
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    left = [p for p in staging.rglob("*") if p.is_file()]
    assert [p.name for p in left] == [".lock"]  # no rows on disk, only the stale lock
    assert os.stat(left[0].parent).st_mode & 0o777 == 0o700
    assert list(temp.iterdir()) == []
    # the next start (any import) removes the stale folder
    small = tmp_path / "small.csv"
    small.write_text(registry.path.read_text(encoding="utf-8").splitlines()[0] + "\n")
    CliRunner().invoke(app, ["registry", "import", str(small), "--dry-run"], env=env)
    assert list(staging.iterdir()) == []
