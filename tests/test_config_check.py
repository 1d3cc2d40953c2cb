"""`agam config check` refuses, naming the key, everything that would fail later: a
misspelled key in any section, strings for booleans or numbers, impossible crons, missing
rule-set files, unknown database schemes, unwritable paths; it reports every problem at once,
one line each, never a traceback. The shipped config.toml passes."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agam.cli.main import app
from agam.core.errors import ConfigError
from agam.core.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "config.toml"
runner = CliRunner()


def check(path: Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["config", "check", "--config", str(path)])
    return result.exit_code, result.stdout, result.stderr


def shipped_with(tmp_path: Path, old: str, new: str) -> Path:
    text = SHIPPED.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "config.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_shipped_config_passes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AGAM_DATA_DIR", str(tmp_path / "var"))
    code, out, err = check(SHIPPED)
    assert code == 0, err
    assert out.startswith("ok: ")
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('log_level = "INFO"', 'log_levl = "INFO"', "app.log_levl"),
        ("busy_timeout_ms = 5000", "busy_timout_ms = 5000", "database.busy_timout_ms"),
        ("repair_invalid = false", "repair_invalids = false", "boundaries.repair_invalids"),
        ("port = 8501", "prot = 8501", "dashboard.prot"),
        ("smtp_port = 587", "smtp_prot = 587", "notifications.smtp_prot"),
        ("rule_set_files = []", "rule_set_file = []", "triggers.rule_set_file"),
        ("second_approval = false", "second_aproval = true", "allowances.second_aproval"),
        ("max_age_hours = 36", "max_age_hour = 36", "feeds.glofas.max_age_hour"),
        ("interval_minutes = 30", "interval_minute = 30", "feeds.gdacs"),
        (
            "rule_set_files = []",
            'rule_set_files = []\nenabled_rule_set = ["x"]',
            "triggers.enabled_rule_set",
        ),
        ("[allowances]", "[alowances]\n[allowances]", "alowances"),
    ],
)
def test_misspelled_key_in_any_section(tmp_path: Path, old: str, new: str, key: str) -> None:
    code, _, err = check(shipped_with(tmp_path, old, new))
    assert code == 3
    assert f"[{key}" in err
    assert "config.toml" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("second_approval = false", 'second_approval = "no"', "allowances.second_approval"),
        ("smtp_port = 587", 'smtp_port = "abc"', "notifications.smtp_port"),
        (
            "enabled = false               # needs",
            'enabled = "no"  # needs',
            "feeds.glofas.enabled",
        ),
        ("smtp_starttls = true", "smtp_starttls = 1", "notifications.smtp_starttls"),
        ("busy_timeout_ms = 5000", "busy_timeout_ms = 5000.5", "database.busy_timeout_ms"),
        ("max_age_hours = 30", 'max_age_hours = "30"', "feeds.ffwc.max_age_hours"),
        ('data_dir = "./var"', "data_dir = 5", "app.data_dir"),
    ],
)
def test_wrong_types_are_refused(tmp_path: Path, old: str, new: str, key: str) -> None:
    code, _, err = check(shipped_with(tmp_path, old, new))
    assert code == 3
    assert f"[{key}]" in err, err


def test_impossible_cron(tmp_path: Path) -> None:
    code, _, err = check(shipped_with(tmp_path, 'cron = "15 */3 * * *"', 'cron = "61 */3 * * *"'))
    assert code == 3
    assert "[feeds.ffwc.cron] not a valid cron expression '61 */3 * * *'" in err


def test_missing_rule_set_file(tmp_path: Path) -> None:
    path = shipped_with(tmp_path, "rule_set_files = []", 'rule_set_files = ["rules/2026.toml"]')
    code, _, err = check(path)
    assert code == 3
    assert "[triggers.rule_set_files]" in err
    assert str(tmp_path / "rules" / "2026.toml") in err


def test_rule_set_reading_an_unknown_feed(tmp_path: Path) -> None:
    text = (ROOT / "triggers" / "rulesets" / "ocha_cerf_flood_2025.toml").read_text("utf-8")
    draft = tmp_path / "draft.toml"
    draft.write_text(
        text.replace('feed = "ffwc"', 'feed = "nosuchfeed"', 1).replace(
            'version = "2025.1"', 'version = "2026.1"'
        ),
        "utf-8",
    )
    code, _, err = check(
        shipped_with(tmp_path, "rule_set_files = []", 'rule_set_files = ["draft.toml"]')
    )
    assert code == 3
    assert "[triggers.rule_set_files]" in err
    assert "unknown feed 'nosuchfeed'" in err


def test_unknown_enabled_rule_set(tmp_path: Path) -> None:
    path = shipped_with(
        tmp_path, "rule_set_files = []", 'rule_set_files = []\nenabled_rule_sets = ["floood"]'
    )
    code, _, err = check(path)
    assert code == 3
    assert "[triggers.enabled_rule_sets] unknown rule set 'floood'" in err


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("notadb://x", "unknown database scheme 'notadb'"),
        ("not a url at all", "not a database URL"),
        ("mysql://agam@db/agam", "unknown database scheme 'mysql'"),
    ],
)
def test_unknown_database_scheme(tmp_path: Path, url: str, message: str) -> None:
    code, _, err = check(shipped_with(tmp_path, 'url = ""', f'url = "{url}"'))
    assert code == 3
    assert f"[database.url] {message}" in err


def test_database_url_from_the_environment_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGAM_DATABASE_URL", "notadb://x")
    code, _, err = check(shutil.copy(SHIPPED, tmp_path / "config.toml"))
    assert code == 3
    assert "[database.url] (from AGAM_DATABASE_URL) unknown database scheme" in err


def test_missing_database_driver(tmp_path: Path) -> None:
    code, _, err = check(shipped_with(tmp_path, 'url = ""', 'url = "postgresql+pg8000://a@b/c"'))
    assert code == 3
    assert "[database.url] driver for postgresql+pg8000 not installed" in err


def test_unwritable_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGAM_DATA_DIR", raising=False)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", "utf-8")
    code, _, err = check(
        shipped_with(tmp_path, 'data_dir = "./var"', f'data_dir = "{blocker}/var"')
    )
    assert code == 3
    assert "[app.data_dir]" in err
    assert "is not a folder" in err


def test_every_problem_is_reported_once_per_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        "[app]\ndata_dir = 5\n[database]\nurl = 'notadb://x'\n"
        "[notifications]\nsmtp_port = 'abc'\nsmtp_host = 'bad host!'\nfrom_address = 'nobody'\n"
        "[allowances]\nsecond_approval = 'no'\n[feeds.ffwc]\ncron = '61 * * * *'\n"
        "[feeds.nosuch]\nenabled = true\n[scheduler]\nheartbeat_interval_s = 60\n"
        "stale_after_s = 30\n",
        encoding="utf-8",
    )
    code, _, err = check(path)
    assert code == 3
    lines = err.strip().splitlines()
    keys = [re.search(r"\[([^\]]+)\]", line).group(1) for line in lines]  # type: ignore[union-attr]
    assert keys == [
        "app.data_dir",
        "database.url",
        "notifications.smtp_host",
        "notifications.smtp_port",
        "notifications.from_address",
        "allowances.second_approval",
        "scheduler",
        "feeds.ffwc.cron",
        "feeds.nosuch",
    ]
    assert all(line.startswith(f"error: {path}: [") for line in lines)


def test_json_report_lists_errors(tmp_path: Path) -> None:
    path = shipped_with(tmp_path, "smtp_port = 587", 'smtp_port = "abc"')
    result = runner.invoke(app, ["config", "check", "--config", str(path), "--json"])
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["errors"] == [
        f"{path}: [notifications.smtp_port] Input should be a valid integer"
    ]


def test_load_settings_is_as_strict_as_the_check(tmp_path: Path) -> None:
    path = shipped_with(tmp_path, "second_approval = false", 'second_approval = "no"')
    with pytest.raises(ConfigError, match=r"\[allowances\.second_approval\]"):
        load_settings(path)
    settings = load_settings(SHIPPED)
    assert settings.allowances.second_approval is False
    assert settings.feeds["ffwc"].cron == "15 */3 * * *"
    assert settings.feeds["bmd"].drop_folder == ROOT / "var" / "bulletins"  # type: ignore[attr-defined]
    assert settings.triggers.enabled_rule_sets is None


def test_a_rule_set_edited_without_a_new_version_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str
) -> None:
    """The store recorded the shipped cyclone rule set at its first use; the same version
    with another content (here what the store holds was made different) is an error, on
    SQLite and PostgreSQL alike."""
    from datetime import UTC, datetime

    from store import config_versions
    from store.db import Store, sqlite_path

    monkeypatch.setenv("AGAM_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("AGAM_DATABASE_URL", database_url)
    assert check(SHIPPED)[0] == 0  # no store yet: nothing to compare, nothing created
    path = sqlite_path(database_url)
    assert path is None or not path.exists()
    store = Store(database_url)
    store.upgrade()
    other = config_versions.fingerprint(
        "rule_set", "ocha_cerf_cyclone_2025", "2025.2", {"threshold_kmh": 100}
    )
    with store.session() as session:
        config_versions.record(session, [other], datetime(2025, 5, 25, 6, 0, tzinfo=UTC))
    store.dispose()
    code, _, err = check(SHIPPED)
    assert code != 0
    assert re.search(
        r"\[triggers\] rule set ocha_cerf_cyclone_2025 version 2025\.2 was first used on "
        r"2025-05-25 12:00 UTC\+6 with other content",
        err,
    ), err


def test_a_config_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    """Notepad starts a UTF-8 file with a byte-order mark; TOML readers choke on it."""
    from agam.core.settings import load_settings

    path = tmp_path / "config.toml"
    path.write_bytes(b"\xef\xbb\xbf[dashboard]\nport = 8600\n")
    assert load_settings(path).dashboard.port == 8600
