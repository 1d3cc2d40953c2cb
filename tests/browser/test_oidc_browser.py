"""Sign-in through an OpenID Connect provider (a real local mock provider) with st.login:
the identity maps to the Agam account with the same e-mail, scoped by its role."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def oidc_dashboard(tmp_path: Path, browser_path: Path) -> Iterator[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the mock provider uses deprecated authlib modules
        from oidc_provider_mock import User, run_server_in_thread
    from store.db import Store
    from store.user_repo import add_user

    site = tmp_path / "site"
    (site / ".streamlit").mkdir(parents=True)
    (site / "config.toml").write_text('[app]\ndata_dir = "data"\n[dashboard]\ntiles = ""\n')
    store = Store(f"sqlite:///{site / 'data' / 'agam.sqlite3'}")
    store.upgrade()
    with store.session() as session:
        add_user(
            session,
            username="dc.kurigram",
            role="district_admin",
            districts=["BD5549"],
            password=None,
            display_name="DC Kurigram",
            at=datetime.now(UTC),
            email="dc.kurigram@example.org",
        )
    store.dispose()
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    users = [User(sub="entra-12345", claims={"email": "dc.kurigram@example.org"})]
    with run_server_in_thread(user_claims=users) as provider:
        (site / ".streamlit" / "secrets.toml").write_text(
            "[auth]\n"
            f'redirect_uri = "http://localhost:{port}/oauth2callback"\n'
            'cookie_secret = "test-cookie-secret-not-for-production"\n'
            'client_id = "agam"\nclient_secret = "agam-secret"\n'
            f'server_metadata_url = "http://localhost:{provider.server_port}'
            '/.well-known/openid-configuration"\n'
        )
        env = dict(
            os.environ,
            AGAM_CONFIG=str(site / "config.toml"),
            AGAM_TEST_IDENTITY="0",
            AUTHLIB_INSECURE_TRANSPORT="1",
        )
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "dashboard" / "app.py"),
                "--server.port",
                str(port),
                "--server.headless",
                "true",
                "--server.enableStaticServing",
                "true",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=site,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            import time
            import urllib.request

            for _ in range(200):
                try:
                    with urllib.request.urlopen(
                        f"http://localhost:{port}/_stcore/health", timeout=1
                    ):
                        break
                except OSError:
                    time.sleep(0.2)
            yield f"http://localhost:{port}"
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def test_sign_in_with_the_identity_provider(
    page: Any, oidc_dashboard: str, wait_for_app: Any
) -> None:
    page.goto(oidc_dashboard)
    wait_for_app(page)
    page.get_by_role("button", name="Sign in with your organisation account").click()
    page.locator("input[name=sub]").fill("entra-12345")
    page.get_by_role("button", name="Authorize").click()
    page.get_by_text("Signed in as DC Kurigram").wait_for(timeout=60_000)
    wait_for_app(page)
    assert page.get_by_text("District administrator").count() >= 1
