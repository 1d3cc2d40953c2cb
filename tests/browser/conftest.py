"""A real `streamlit run` server and Debian's Chromium driven by Playwright (no downloads)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("AGAM_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.read().decode().strip() == "ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("streamlit did not become healthy")


PASSWORD = "browser test password"
ACCOUNTS = {
    "committee.member": ("committee", []),
    "officer.kurigram": ("officer", ["BD5549"]),
    "dc.kurigram": ("district_admin", ["BD5549"]),
    "dc.jamalpur": ("district_admin", ["BD4539"]),
    "dmo.session": ("officer", ["BD4539"]),  # signed out by test_session_browser
    "admin.browser": ("admin", []),
}


def _accounts(db: Path) -> None:
    from datetime import UTC, datetime

    from store.db import Store
    from store.user_repo import add_user

    store = Store(f"sqlite:///{db}")
    store.upgrade()
    with store.session() as session:
        for username, (role, districts) in ACCOUNTS.items():
            add_user(
                session,
                username=username,
                role=role,
                districts=districts,
                password=PASSWORD,
                display_name=username,
                at=datetime.now(UTC),
            )
    _alert_with_submitted_list(store)
    store.dispose()


def _alert_with_submitted_list(store: Any) -> None:
    """A raised Kurigram action alert and its proposed list, submitted by the officer."""
    from datetime import UTC, datetime

    from allowances.lists import propose
    from allowances.policy import load_policy
    from store import alert_repo, list_repo
    from store.models import Alert, Beneficiary, Evaluation, RegistryImport
    from store.user_repo import authenticate

    at = datetime.now(UTC)
    unions = ["BD55490911", "BD55490915", "BD55490931"]
    with store.session() as session:
        session.add(
            RegistryImport(
                file_name="synthetic.parquet",
                sha256="b" * 64,
                rows_total=12,
                rows_imported=12,
                imported_at=at,
                imported_by="test",
                synthetic=True,
            )
        )
        session.flush()
        session.add_all(
            [
                Beneficiary(
                    beneficiary_id=f"SYN-B{i:03d}",
                    programme="old_age",
                    household_id=f"SYN-H{i:03d}",
                    nid=f"1980{i:06d}",
                    name_en=f"Synthetic Person {i}",
                    sex="female",
                    birth_year=1950 + i,
                    disability=i % 3 == 0,
                    female_headed=i % 2 == 0,
                    adm4_pcode=unions[i % 3],
                    payment_channel="mfs",
                    mfs_provider="bkash",
                    wallet_number=f"0171{i:07d}",
                    import_id=1,
                    row_sha256="r" * 64,
                    updated_at=at,
                )
                for i in range(12)
            ]
        )
        evaluation = Evaluation(
            input_key="browser",
            rule_set_id="ocha_cerf_flood_2025",
            rule_set_version="2025.1",
            stage="action",
            as_of=at,
            state="met",
            created_at=at,
            explanation="FFWC forecasts 20.41 m at Bahadurabad (DL 19.50 m + 0.85 m): action.",
        )
        session.add(evaluation)
        session.flush()
        alert = Alert(
            rule_set_id="ocha_cerf_flood_2025",
            rule_set_version="2025.1",
            district_pcode="BD5549",
            stage="action",
            status="open",
            opened_at=at,
            updated_at=at,
            first_evaluation_id=evaluation.id,
            last_evaluation_id=evaluation.id,
            affected_unions=unions,
        )
        session.add(alert)
        session.flush()
        alert_repo.add_event(
            session,
            alert_id=alert.id,
            at=at,
            from_stage=None,
            to_stage="action",
            evaluation_id=evaluation.id,
            explanation=evaluation.explanation,
        )
        row = propose(
            session,
            alert_id=alert.id,
            district_pcode="BD5549",
            union_codes=unions,
            union_intensity={},
            policy=load_policy(),
            prepared_by="system",
            at=at,
            synthetic=True,
        )
        officer = authenticate(session, "officer.kurigram", PASSWORD, at, "test").principal
        assert officer is not None
        list_repo.decide(session, row.id, officer, "submit", at)


@pytest.fixture
def sign_in(wait_for_app: Any) -> Any:
    def run(pg: Any, url: str, username: str) -> None:
        pg.goto(url)
        wait_for_app(pg)
        pg.get_by_label("Username", exact=True).fill(username)
        pg.get_by_label("Password", exact=True).fill(PASSWORD)
        pg.get_by_role("button", name="Sign in").click()
        pg.get_by_text(f"Signed in as {username}").wait_for(timeout=60_000)
        wait_for_app(pg)

    return run


@pytest.fixture(scope="session")
def browser_path() -> Path:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing: .ci/run must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(scope="session")
def dashboard_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The served site's folder: config.toml and data/ (its store is data/agam.sqlite3)."""
    return tmp_path_factory.mktemp("site")


@pytest.fixture(scope="session")
def dashboard_url(dashboard_site: Path, browser_path: Path) -> Iterator[str]:
    site = dashboard_site
    config = site / "config.toml"
    config.write_text(
        '[app]\ndata_dir = "data"\nlog_level = "WARNING"\n[dashboard]\ntiles = ""\n',
        encoding="utf-8",
    )
    _accounts(site / "data" / "agam.sqlite3")
    port = _free_port()
    env = dict(os.environ, AGAM_CONFIG=str(config), AGAM_TEST_IDENTITY="0")
    env.pop("AGAM_DATA_DIR", None)
    log = (site / "streamlit.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "dashboard" / "server.py"),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--server.enableStaticServing",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=site,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


NO_BENGALI_FONTS = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <cachedir>{cache}</cachedir>
  <selectfont><rejectfont>
    <pattern><patelt name="lang"><string>bn</string></patelt></pattern>
  </rejectfont></selectfont>
</fontconfig>
"""


@pytest.fixture(scope="session")
def browser_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Chromium sees every system font except those that write Bengali: Bangla on the pages
    can only come from the web font the dashboard serves (what a district office PC has)."""
    folder = tmp_path_factory.mktemp("fontconfig")
    conf = folder / "fonts.conf"
    conf.write_text(NO_BENGALI_FONTS.format(cache=folder / "cache"), encoding="utf-8")
    env = dict(os.environ, FONTCONFIG_FILE=str(conf))
    if shutil.which("fc-list"):
        listed = subprocess.run(
            ["fc-list", ":lang=bn"], env=env, capture_output=True, text=True, check=True
        )
        assert not listed.stdout.strip(), listed.stdout
    return env


@pytest.fixture
def page(
    browser_path: Path, browser_env: dict[str, str], request: pytest.FixtureRequest
) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(browser_path), args=CHROMIUM_ARGS, env=browser_env
        )
        # A test behind a TLS proxy with a throwaway certificate accepts it.
        tls = request.node.get_closest_marker("self_signed_tls") is not None
        context = browser.new_context(
            viewport={"width": 1400, "height": 900}, ignore_https_errors=tls
        )
        pg = context.new_page()
        try:
            yield pg
        finally:
            pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"))
            context.close()
            browser.close()


@pytest.fixture
def wait_for_app() -> object:
    """Wait until Streamlit has finished running the script (its own e2e helpers do this)."""

    def wait(pg: object) -> None:
        pg.wait_for_selector(  # type: ignore[attr-defined]
            "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=90_000
        )

    return wait


def demo_passwords(log: str) -> dict[str, str]:
    """The demo accounts' passwords as `agam demo` prints them ("  name.role  password")."""
    return dict(re.findall(r"^  (\S+\.\S+) +(\S+)$", log, flags=re.MULTILINE))


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory, browser_path: Path) -> Iterator[Any]:
    """The README's run command on an empty data dir: both scenarios played, then served.
    Yields (url, passwords, log)."""
    site = tmp_path_factory.mktemp("demo-site")
    config = site / "config.toml"
    config.write_text(
        '[app]\ndata_dir = "var"\nlog_level = "WARNING"\n[dashboard]\ntiles = ""\n',
        encoding="utf-8",
    )
    port = _free_port()
    env = dict(os.environ, AGAM_CONFIG=str(config), AGAM_TEST_IDENTITY="0")
    env.pop("AGAM_DATA_DIR", None)
    log_path = site / "demo.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "agam.cli.main", "demo", "--households", "3000",
             "--port", str(port)],
            cwd=site, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, proc, timeout_s=900)
            text = log_path.read_text(encoding="utf-8")
            yield url, demo_passwords(text), text
        finally:
            proc.terminate()  # the demo became the server (exec): nothing is left behind
            proc.wait(timeout=30)
            with pytest.raises(OSError):
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)


def sign_in_as(pg: Any, url: str, username: str, password: str, wait_for_app: Any) -> None:
    pg.goto(url)
    wait_for_app(pg)
    pg.get_by_label("Username", exact=True).fill(username)
    pg.get_by_label("Password", exact=True).fill(password)
    pg.get_by_role("button", name="Sign in").click()
    pg.get_by_text("Signed in as").first.wait_for(timeout=60_000)
    wait_for_app(pg)
