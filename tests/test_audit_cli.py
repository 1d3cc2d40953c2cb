"""`agam audit keygen|checkpoint|verify --checkpoint` as the committee's secretary runs them."""

from __future__ import annotations

import json
import os
from pathlib import Path

from sqlalchemy import text
from typer.testing import CliRunner

from agam.cli.main import app
from agam.core.settings import Settings
from store.db import Store

runner = CliRunner()


def test_checkpoint_then_truncation_is_found(settings: Settings, tmp_path: Path) -> None:
    for name in ("root", "eve"):  # two audit entries: the bootstrap and a refused bootstrap
        runner.invoke(app, ["users", "bootstrap", name], env={"AGAM_NEW_PASSWORD": "a long pw 1"})
    key = tmp_path / "audit.key"
    assert runner.invoke(app, ["audit", "keygen", str(key)]).exit_code == 0
    assert os.stat(key).st_mode & 0o777 == 0o600
    assert runner.invoke(app, ["audit", "keygen", str(key)]).exit_code == 3  # never overwritten
    mark = tmp_path / "minutes-checkpoint.json"
    made = runner.invoke(app, ["audit", "checkpoint", "--key-file", str(key), "--out", str(mark)])
    assert made.exit_code == 0, made.stderr
    assert json.loads(mark.read_text())["entries"] == 2
    env = {"AGAM_AUDIT_KEY_FILE": str(key)}
    ok = runner.invoke(app, ["audit", "verify", "--checkpoint", str(mark)], env=env)
    assert ok.exit_code == 0, ok.stderr
    assert "holds the checkpoint" in ok.stdout

    with Store(settings.database_url).engine.begin() as conn:  # someone with the file
        conn.execute(text("DROP TRIGGER audit_log_no_delete"))
        conn.execute(text("DELETE FROM audit_log WHERE id = 2"))
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0  # the chain alone: fine
    broken = runner.invoke(app, ["audit", "verify", "--checkpoint", str(mark)], env=env)
    assert broken.exit_code == 8
    assert "1 entries deleted since the checkpoint" in broken.stderr

    edited = json.loads(mark.read_text()) | {"entries": 1, "last_id": 1}
    mark.write_text(json.dumps(edited))
    forged = runner.invoke(app, ["audit", "verify", "--checkpoint", str(mark)], env=env)
    assert forged.exit_code == 8
    assert "signature does not match" in forged.stderr
    key.chmod(0o644)
    loose = runner.invoke(app, ["audit", "checkpoint", "--key-file", str(key)])
    assert loose.exit_code == 3
    assert "owner only" in loose.stderr


def test_a_checkpoint_file_that_is_not_one_is_one_line(settings: Settings, tmp_path: Path) -> None:
    """Whoever hands the secretary a checkpoint file may hand a hostile one: a JSON nested a
    hundred thousand deep was a RecursionError traceback."""
    runner.invoke(app, ["users", "bootstrap", "root"], env={"AGAM_NEW_PASSWORD": "a long pw 1"})
    for name, body in (("deep", b"[" * 100_000), ("binary", b"\xff\xfe\x97"), ("list", b"[]")):
        mark = tmp_path / f"{name}.json"
        mark.write_bytes(body)
        result = runner.invoke(app, ["audit", "verify", "--checkpoint", str(mark)])
        assert result.exit_code == 8, result.stderr
        assert result.stderr.startswith(f"error: {mark}: not a checkpoint file (")
