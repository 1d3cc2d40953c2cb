"""`agam lists` and `agam audit verify` through the CLI, as an operator would use them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from agam.cli.main import app
from agam.core.settings import Settings
from store.db import Store

runner = CliRunner()
PASSWORD = "a long test password"


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGAM_PASSWORD", PASSWORD)  # every seeded account has it


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_propose_submit_approve_export_verify(seeded_settings: Settings, tmp_path: Path) -> None:
    code, out, err = run("lists", "propose", "1", "--json")
    assert code == 0, err
    summary = json.loads(out)
    list_id = str(summary["list_id"])
    assert summary["status"] == "draft"
    assert summary["synthetic"] is True

    code, out, _ = run("lists", "show", list_id, "--json", "--limit", "0")
    shown = json.loads(out)
    assert shown["lines_total"] == len(shown["lines"]) > 0
    assert "Synthetic Person" not in out  # no names, NIDs or wallets in list output
    assert "nid" not in shown["lines"][0]

    assert run("lists", "submit", list_id, "--user", "officer.kurigram")[0] == 0
    code, _, err = run("lists", "approve", list_id, "--user", "dc.jamalpur")
    assert code == 8
    assert "may not approve lists of district BD5549" in err
    code, _, err = run("lists", "approve", list_id, "--user", "officer.kurigram")
    assert code == 8
    assert run("lists", "approve", list_id, "--user", "dc.kurigram")[0] == 0

    code, out, err = run(
        "lists",
        "export",
        list_id,
        str(tmp_path / "pay"),
        "--user",
        "dc.kurigram",
        "--format",
        "csv",
        "--json",
    )
    assert code == 0, err
    manifest = json.loads(out)
    assert manifest["total_bdt"] == summary["total_bdt"]
    assert sum(f["rows"] for f in manifest["files"]) == manifest["rows"]

    assert run("audit", "verify")[0] == 0


def test_audit_verify_names_a_tampered_row(seeded_settings: Settings) -> None:
    assert run("lists", "propose", "1")[0] == 0
    assert run("lists", "submit", "1", "--user", "officer.kurigram")[0] == 0
    store = Store(seeded_settings.database_url)
    with store.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER audit_log_no_update"))
        conn.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE id = 2"))
    code, _, err = run("audit", "verify")
    assert code == 8
    assert "audit log row 2" in err


def test_show_flags_payees_the_registry_changed(seeded_settings: Settings) -> None:
    assert run("lists", "propose", "1")[0] == 0
    shown = json.loads(run("lists", "show", "1", "--limit", "0", "--json")[1])
    mfs = [r for r in shown["lines"] if r["payee"].startswith("mfs bkash 01*******")]
    assert mfs
    assert shown["lines"][0]["line_ref"] == "L1-1"
    assert shown["payees_changed"] == 0
    store = Store(seeded_settings.database_url)
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE beneficiaries SET wallet_number = '01999999999' WHERE wallet_number > ''")
        )
    shown = json.loads(run("lists", "show", "1", "--limit", "0", "--json")[1])
    assert shown["payees_changed"] == len(mfs)
    assert {
        r["payee_changed"] for r in shown["lines"] if r["payee"] in {m["payee"] for m in mfs}
    } == {"wallet_number"}
    out = run("lists", "show", "1", "--limit", "0")[1]
    flat = " ".join(out.split())
    assert "REGISTRY" in flat
    assert f"the registry changed the payee of {len(mfs)} line(s)" in flat
    assert "01999999999" not in out
