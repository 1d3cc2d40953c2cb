"""`agam payments` through the CLI, as an officer would use it."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agam.cli.main import app
from agam.core.settings import Settings
from tests.lists.conftest import seed

runner = CliRunner()


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGAM_PASSWORD", "a long test password")


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_import_status_and_reissue_from_the_command_line(
    settings: Settings, tmp_path: Path
) -> None:
    from store.db import Store

    seed(Store(settings.database_url))
    list_id = str(json.loads(run("lists", "propose", "1", "--json")[1])["list_id"])
    assert run("lists", "submit", list_id, "--user", "officer.kurigram")[0] == 0
    assert run("lists", "approve", list_id, "--user", "dc.kurigram")[0] == 0
    code, out, err = run(
        "lists", "export", list_id, str(tmp_path / "pay"), "--user", "dc.kurigram", "--json"
    )
    assert code == 0, err
    manifest = json.loads(out)
    bkash = next(f for f in manifest["files"] if "bkash" in f["file"])
    source = Path(manifest["folder"]) / bkash["file"]
    with source.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    back = tmp_path / "return.csv"
    with back.open("w", encoding="utf-8", newline="") as handle:
        fields = [*rows[0], "status", "provider_txn_id", "paid_at", "failure_reason"]
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerow(rows[0] | {"status": "paid", "provider_txn_id": "T1",
                                   "paid_at": datetime.now(UTC).isoformat()})  # fmt: skip
        writer.writerow(rows[1] | {"status": "failed", "failure_reason": "wallet not active"})
        writer.writerow(rows[2] | {"line_ref": "L77-1", "status": "paid"})

    code, _, err = run("payments", "import-results", list_id, str(back), "--user", "dc.kurigram")
    assert code == 8, err  # the approver does not confirm payments
    code, out, err = run(
        "payments", "import-results", list_id, str(back), "--user", "officer.kurigram", "--json"
    )
    assert code == 11, err  # applied what fitted, and says a row was refused
    summary = json.loads(out)
    assert (summary["paid"], summary["failed"], summary["unmatched"]) == (1, 1, 1)
    assert summary["rejected"][0]["row"] == 4
    assert "Synthetic Person" not in out
    code, out, _ = run("payments", "status", list_id)
    assert code == 0
    assert "paid 1" in out
    assert "wallet not active: 1" in out
    code, out, err = run("payments", "reissue", list_id, "--user", "officer.kurigram", "--json")
    assert code == 0, err
    reissue = json.loads(out)
    assert (reissue["kind"], reissue["households"], reissue["status"]) == ("reissue", 1, "draft")
