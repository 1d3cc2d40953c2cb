"""`agam registry …` through typer: exit codes, one-line errors, no personal data anywhere."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pytest
import typer
from typer.testing import CliRunner

from agam.cli import registry_cmd
from allowances import normalise as nz
from allowances.registry_schema import schema_markdown

cli = typer.Typer()
cli.add_typer(registry_cmd.app, name="registry")
runner = CliRunner()
PERSONAL = [
    "0123456789",
    "199012345678",
    "01712345678",
    "0171234567",
    "01812345678",
    "Rahima",
    "রহিমা",
    "Karim",
    "Habib",
    "HYPERLINK",
    "http://x",
    "1990123456789",
    "Amena",
]


@pytest.fixture
def admin(config_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An admin signed in through the environment, as a script would be."""
    from datetime import UTC, datetime

    from agam.core.settings import load_settings
    from store.db import Store
    from store.user_repo import bootstrap_admin

    store = Store(load_settings(config_path).database_url)
    store.upgrade()
    with store.session() as session:
        bootstrap_admin(
            session,
            username="admin.a",
            password="a long password",
            display_name="",
            at=datetime.now(UTC),
        )
    monkeypatch.setenv("AGAM_USER", "admin.a")
    monkeypatch.setenv("AGAM_PASSWORD", "a long password")


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, ["registry", *args])
    return result.exit_code, result.stdout, result.stderr


def test_import_with_defects_exits_7_and_leaks_nothing(
    admin: None, defects_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    code, out, err = run("import", str(defects_csv), "--json")
    assert code == 7
    assert len(err.strip().splitlines()) == 1
    assert "defects.csv: 7 error(s); nothing imported" in err
    data = json.loads(out)
    assert data["status"] == "rejected"
    assert {(e["row"], e["field"]) for e in data["errors"]} >= {(4, "nid"), (10, "name_en")}
    code, table_out, err2 = run("import", str(defects_csv), "--dry-run")
    assert code == 7
    assert "row" in table_out
    assert "wallet_number" in table_out
    everything = out + err + table_out + err2 + caplog.text
    assert not [p for p in PERSONAL if p in everything]


def test_quarantine_stats_and_generate(admin: None, defects_csv: Path, tmp_path: Path) -> None:
    code, out, _ = run("import", str(defects_csv), "--quarantine")
    assert code == 0, out
    assert "01*******78" in out
    assert "imported" in out
    code, out, _ = run("stats", "--json")
    stats = json.loads(out)
    assert stats["beneficiaries"] == 5
    assert stats["duplicates"]["nid"] == 1
    assert stats["by_district"][0]["adm2_pcode"] == "BD5549"
    assert not [p for p in PERSONAL if p in out]
    target = tmp_path / "syn.csv"
    code, out, _ = run("generate", str(target), "--households", "200", "--format", "csv", "--json")
    assert code == 0
    assert json.loads(out)["synthetic"] is True
    assert target.read_text(encoding="utf-8").splitlines()[1].endswith("true")


def test_formula_detection_spares_phone_numbers() -> None:
    cells = pa.array(
        [
            '=HYPERLINK("http://x","y")',
            "=1+2",
            "@SUM(A1)",
            "+cmd|' /C calc'!A0",
            "-2+3+cmd|x",
            "+8801712345678",
            "+88 01712-345678",
            "-",
            "Rahima",
            "01712345678",
            None,
        ]
    )
    assert nz.is_formula(cells).tolist() == [True] * 5 + [False] * 6


def test_bangla_digits_keep_leading_zero() -> None:
    assert (
        nz.phone_field(pa.array(["০১৭১২৩৪৫৬৭৮", "+৮৮০১৭১২৩৪৫৬৭৮", "0088 01712 345678"])).to_pylist()
        == ["01712345678"] * 3
    )
    assert nz.digits_field(pa.array(["০১২৩-৪৫৬ ৭৮৯", " "])).to_pylist() == ["0123456789", None]


def test_docs_table_matches_the_schema() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "registry-schema.md"
    assert schema_markdown() in docs.read_text(encoding="utf-8")


def test_generate_format_follows_the_extension(config_path: Path, tmp_path: Path) -> None:
    csv_out = tmp_path / "registry.csv"
    code, out, _ = run("generate", str(csv_out), "--households", "20", "--json")
    assert code == 0, out
    assert json.loads(out)["format"] == "csv"
    assert csv_out.read_bytes()[:4] != b"PAR1"
    assert csv_out.read_text(encoding="utf-8").startswith('"beneficiary_id"')
    parquet_out = tmp_path / "registry.parquet"
    code, out, _ = run("generate", str(parquet_out), "--households", "20", "--json")
    assert code == 0
    assert parquet_out.read_bytes()[:4] == b"PAR1"


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("registry.csv", ["--format", "parquet"]),
        ("registry.parquet", ["--format", "csv"]),
        ("registry.txt", []),
    ],
)
def test_generate_refuses_a_contradicting_or_missing_format(
    config_path: Path, tmp_path: Path, name: str, args: list[str]
) -> None:
    code, _, err = run("generate", str(tmp_path / name), "--households", "20", *args)
    assert code == 2
    assert "--format" in err or "OUT" in err
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize(("limit", "says"), [(None, "all of them"), (240, "the first 240, by row")])
def test_the_table_says_what_json_lists_beyond_it(
    admin: None,
    write_csv: Callable[[str, list[str]], Path],
    make_row: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
    limit: int | None,
    says: str,
) -> None:
    """Past the table's rows the CLI points to --json, and says whether --json holds every
    error or only the first ones (a report holds at most `error_limit`)."""
    rows = [
        make_row(beneficiary_id=f"B{i}", household_id=f"H{i}", programme="wdow") for i in range(300)
    ]
    path = write_csv("bad_programme.csv", rows)
    if limit is not None:
        monkeypatch.setattr(registry_cmd, "import_registry", _limited(limit))
    code, out, err = run("import", str(path))
    assert code == 7
    assert "300 error(s); nothing imported" in err
    more = 300 - registry_cmd.MAX_TABLE_ERRORS
    assert f"… {more:,} more (--json lists {says})" in " ".join(out.split())


def _limited(limit: int) -> object:
    from allowances.registry_import import import_registry

    def imported(*args: object, **kwargs: object) -> object:
        return import_registry(*args, error_limit=limit, **kwargs)  # type: ignore[arg-type]

    return imported


def test_generate_refuses_a_typo_sized_run_and_a_run_the_disk_cannot_hold(
    config_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--households 10000000000` (three zeros too many) wrote for days, silently, until the
    disk was full; now it is refused at once, and so is a run the folder has no room for."""
    code, _, err = run("generate", str(tmp_path / "r.parquet"), "--households", "10000000000")
    assert code == 7
    assert "10,000,000,000 households is more than 100,000,000" in err
    monkeypatch.setattr(
        "allowances.synthetic.shutil.disk_usage", lambda _: SimpleNamespace(free=10_000_000)
    )
    code, _, err = run("generate", str(tmp_path / "r.csv"), "--households", "60000")
    assert code == 7
    assert f"60,000 households as csv need about 15 MB; {tmp_path} has 10 MB free" in err
    assert not list(tmp_path.glob("*r.*"))  # nothing written, not even a temporary file
