"""`agam grievances` as officers use it, and a resolved data-correction grievance feeding a
registry correction through `agam registry import`."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from agam.cli.main import app
from agam.core.settings import Settings
from store.db import Store
from store.models import Beneficiary, BeneficiaryHistory

from .conftest import NAME, PASSWORD, PHONE

runner = CliRunner()


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin, env={"AGAM_PASSWORD": PASSWORD})
    return result.exit_code, result.stdout, result.stderr


def add_data_correction() -> int:
    code, out, err = run(
        "grievances",
        "add",
        "--user",
        "officer.kurigram",
        "--channel",
        "union_digital_centre",
        "--category",
        "data_correction",
        "--household",
        "SYN-H00001",
        "--description",
        "village recorded wrongly",
        "--partner",
        "Chilmari UDC",
        "--contact",
        "--json",
        stdin=f"{NAME}\n{PHONE}\n",
    )
    assert code == 0, err
    # CliRunner echoes the typed answers to stdout (a terminal would); the JSON follows them.
    return int(json.loads(out[out.index("{") :])["grievance_id"])


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_add_list_update_and_scoping(seeded_settings: Settings) -> None:
    gid = add_data_correction()
    code, out, _ = run("grievances", "list", "--user", "officer.kurigram", "--json")
    assert code == 0
    [row] = json.loads(out)
    assert row["complainant_name"] == "R***** K*****"
    assert PHONE not in out
    code, out, _ = run("grievances", "list", "--user", "officer.kurigram", "--reveal", "--json")
    assert json.loads(out)[0]["complainant_phone"] == PHONE

    code, _, err = run("grievances", "list", "--user", "committee.a")
    assert code == 8
    assert "aggregates only" in err
    code, _, err = run(
        "grievances", "update", str(gid), "--user", "dc.jamalpur", "--status", "in_progress"
    )
    assert code == 1  # as for a number that does not exist: another district's is not named
    assert f"no grievance {gid}" in err
    assert "BD5549" not in err
    code, _, err = run(
        "grievances",
        "update",
        str(gid),
        "--user",
        "dc.kurigram",
        "--status",
        "resolved",
        "--reason",
        "x",
    )
    assert code == 8
    assert "open cannot resolve" in err

    code, out, err = run(
        "grievances",
        "update",
        str(gid),
        "--user",
        "dc.kurigram",
        "--status",
        "in_progress",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out) == {
        "grievance_id": gid,
        "status": "in_progress",
        "assigned_to": "dc.kurigram",
    }
    code, out, _ = run("grievances", "history", str(gid), "--user", "officer.kurigram", "--json")
    assert [e["action"] for e in json.loads(out)] == ["record", "start"]

    code, out, err = run(
        "grievances",
        "summary",
        "--from",
        "2020-01-01",
        "--to",
        "2100-01-01",
        "--user",
        "committee.a",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out) == [
        {
            "district_pcode": "BD5549",
            "period": "all",
            "category": "data_correction",
            "received": 1,
            "open": 1,
            "overdue": 0,
            "resolved": 0,
            "referred": 0,
            "rejected": 0,
            "closed_within_target": 0,
            "median_hours_to_close": None,
            "median_hours_to_resolve": None,
            "max_hours_to_resolve": None,
        }
    ]
    assert NAME not in out


def test_phone_never_on_the_command_line() -> None:
    code, _, err = run("grievances", "add", "--phone", PHONE)
    assert code != 0
    assert "No such option" in err


def test_resolved_data_correction_feeds_the_registry_import(
    seeded_settings: Settings, tmp_path: Path
) -> None:
    gid = add_data_correction()
    template = tmp_path / "correction.csv"
    code, _, _ = run("grievances", "correction-file", str(template), "--user", "officer.kurigram")
    assert code == 0
    assert read_rows(template) == []  # not resolved yet
    for status, extra in (("in_progress", []), ("resolved", ["--reason", "village checked"])):
        code, _, err = run(
            "grievances",
            "update",
            str(gid),
            "--user",
            "officer.kurigram",
            "--status",
            status,
            *extra,
        )
        assert code == 0, err
    code, _, err = run("grievances", "correction-file", str(template), "--user", "officer.kurigram")
    assert code == 2  # the earlier file is not replaced by accident
    assert "exists; not replaced" in err
    code, out, err = run(
        "grievances", "correction-file", str(template), "--force", "--user", "officer.kurigram",
        "--json",
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    assert (report["grievances"], report["rows"], report["prefilled_rows"]) == ([gid], 2, 2)
    rows = read_rows(template)
    assert [r["beneficiary_id"] for r in rows] == ["SYN-B00001", "SYN-B00002"]
    assert {r["nid"] for r in rows} == {""}  # personal data never leaves in a template
    assert "Synthetic Person" not in template.read_text("utf-8")
    assert {r["village"] for r in rows} == {"Old village"}
    assert oct(template.stat().st_mode & 0o777) == "0o600"

    # The unfilled template goes through the normal import and is refused, naming row + field.
    code, out, err = run("registry", "import", str(template), "--user", "admin", "--json")
    assert code == 7
    errors = {(e["row"], e["field"]) for e in json.loads(out)["errors"]}
    assert errors == {
        (row, field) for row in (2, 3) for field in ("nid", "name_en", "wallet_number")
    }

    # Filled in from the verified documents, with the corrected village: imported.
    for i, r in enumerate(rows, start=1):
        r |= {
            "nid": f"9999{i:06d}",
            "name_en": f"Synthetic Person {i}",
            "wallet_number": f"0171{i:07d}",
            "village": "Char Shaulmari",
        }
    with template.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    code, out, err = run("registry", "import", str(template), "--user", "admin", "--json")
    assert code == 0, err
    imported = json.loads(out)
    assert imported["status"] == "imported"
    assert "grievance_id" in imported["ignored_columns"]
    store = Store(seeded_settings.database_url)
    with store.session() as session:
        villages = dict(
            session.execute(select(Beneficiary.beneficiary_id, Beneficiary.village)).all()
        )
        superseded = set(session.scalars(select(BeneficiaryHistory.beneficiary_id)))
    assert villages == {
        "SYN-B00001": "Char Shaulmari",
        "SYN-B00002": "Char Shaulmari",
        "SYN-B00003": "Old village",
    }
    assert superseded == {"SYN-B00001", "SYN-B00002"}
    store.dispose()
