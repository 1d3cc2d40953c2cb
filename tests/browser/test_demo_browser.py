"""The README's run command, end to end: `agam demo` on an empty data dir plays both bundled
scenarios offline and serves a dashboard where each scenario's district administrator finds
an action alert and a proposed list, signing in with the password printed once at start."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import _free_port, _wait_healthy

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory, browser_path: Path) -> Iterator[Any]:
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
            _wait_healthy(url, proc, timeout_s=600)
            text = log_path.read_text(encoding="utf-8")
            passwords = dict(re.findall(r"^  (\S+\.\S+) +(\S+)$", text, flags=re.MULTILINE))
            yield url, passwords, text
        finally:
            proc.terminate()  # the demo became the server (exec): nothing is left behind
            proc.wait(timeout=30)
            with pytest.raises(OSError):
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)


def sign_in(pg: Any, url: str, username: str, password: str, wait_for_app: Any) -> None:
    pg.goto(url)
    wait_for_app(pg)
    pg.get_by_label("Username", exact=True).fill(username)
    pg.get_by_label("Password", exact=True).fill(password)
    pg.get_by_role("button", name="Sign in").click()
    pg.get_by_text("Signed in as DC").wait_for(timeout=60_000)  # the demo display name
    wait_for_app(pg)


@pytest.mark.parametrize(
    ("username", "district"), [("dc.kurigram", "Kurigram"), ("dc.satkhira", "Satkhira")]
)
def test_each_scenario_reaches_an_action_alert_and_a_proposed_list(
    page: Any, demo_site: Any, wait_for_app: Any, username: str, district: str
) -> None:
    url, passwords, log = demo_site
    assert "alert escalated" in log  # the play's progress was on the terminal
    sign_in(page, url, username, passwords[username], wait_for_app)
    page.get_by_text("Demo data: this store holds SYNTHETIC scenarios").wait_for(timeout=60_000)
    page.get_by_role("link", name="Alerts").click()
    wait_for_app(page)
    expander = re.compile(rf"{district} · action · ocha_cerf_\w+ · open", re.IGNORECASE)
    page.get_by_text(expander).wait_for(timeout=60_000)
    page.get_by_role("link", name="Allowance lists").click()
    wait_for_app(page)
    page.get_by_text("SYNTHETIC registry").wait_for(timeout=60_000)
    heading = re.compile(r"List \d+ · district BD\d{4} · draft")  # proposed, awaiting review
    page.get_by_text(heading).wait_for(timeout=60_000)
