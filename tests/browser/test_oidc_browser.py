"""Sign-in through an OpenID Connect provider (a real local mock provider) with st.login.

An admin's invitation (role, district, e-mail) is taken up by the first sign-in with that
verified e-mail, which binds the provider's subject; afterwards only that subject signs in.
A missing or unverified e-mail, an unknown subject and a disabled account are refused, and
each refusal is audited."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
REFUSED = "This organisation account is not enabled for Agam"
PROVIDER_USERS = {
    "entra-12345": {"email": "dc.kurigram@example.org", "email_verified": True},
    "entra-nomail": {},
    "entra-unverified": {"email": "dc.kurigram@example.org", "email_verified": False},
    "entra-stranger": {"email": "stranger@example.org", "email_verified": True},
    "entra-disabled": {"email": "dmo@example.org", "email_verified": True},
    "entra-copycat": {"email": "dc.kurigram@example.org", "email_verified": True},
}


def _store(site: Path) -> Any:
    from store.db import Store

    return Store(f"sqlite:///{site / 'data' / 'agam.sqlite3'}")


def _seed(site: Path) -> None:
    from store.user_repo import add_user, get_user

    store = _store(site)
    store.upgrade()
    now = datetime.now(UTC)
    with store.session() as session:
        for username, role, email in (
            ("dc.kurigram", "district_admin", "dc.kurigram@example.org"),
            ("dmo.gone", "officer", "dmo@example.org"),
        ):
            add_user(
                session,
                username=username,
                role=role,
                districts=["BD5549"],
                password=None,
                display_name=username,
                at=now,
                email=email,
                invited=True,
            )
        gone = get_user(session, "dmo.gone")
        gone.oidc_subject, gone.disabled = "entra-disabled", True  # bound earlier, then disabled
    store.dispose()


@pytest.fixture(scope="module")
def oidc_site(
    tmp_path_factory: pytest.TempPathFactory, browser_path: Path
) -> Iterator[tuple[str, Path]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the mock provider uses deprecated authlib modules
        from oidc_provider_mock import User, run_server_in_thread
    site = tmp_path_factory.mktemp("oidc-site")
    (site / ".streamlit").mkdir()
    (site / "config.toml").write_text('[app]\ndata_dir = "data"\n[dashboard]\ntiles = ""\n')
    _seed(site)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    users = [User(sub=sub, claims=claims) for sub, claims in PROVIDER_USERS.items()]
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
                sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"),
                "--server.port", str(port),
                "--server.headless", "true",
                "--server.enableStaticServing", "true",
                "--browser.gatherUsageStats", "false",
            ],
            cwd=site,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            for _ in range(300):
                try:
                    with urllib.request.urlopen(
                        f"http://localhost:{port}/_stcore/health", timeout=1
                    ):
                        break
                except OSError:
                    time.sleep(0.2)
            yield f"http://localhost:{port}", site
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def _provider_sign_in(page: Any, url: str, subject: str, wait_for_app: Any) -> None:
    page.goto(url)
    wait_for_app(page)
    page.get_by_role("button", name="Sign in with your organisation account").click()
    page.locator("input[name=sub]").fill(subject)
    page.get_by_role("button", name="Authorize").click()
    wait_for_app(page)


def _refusals(site: Path) -> list[str]:
    from store import audit

    store = _store(site)
    with store.session() as session:
        entries = audit.entries_for(session, "auth.failed")
    store.dispose()
    return [str(e.payload["reason"]) for e in entries if e.payload.get("channel") == "oidc"]


@pytest.mark.parametrize(
    ("subject", "reason"),
    [
        ("entra-nomail", "unknown subject, no e-mail claim"),
        ("entra-unverified", "unknown subject, e-mail not verified"),
        ("entra-stranger", "unknown subject, no open invitation for the e-mail"),
        ("entra-disabled", "disabled"),
    ],
)
def test_refused_and_audited(
    page: Any, oidc_site: tuple[str, Path], wait_for_app: Any, subject: str, reason: str
) -> None:
    url, site = oidc_site
    _provider_sign_in(page, url, subject, wait_for_app)
    page.get_by_text(REFUSED).wait_for(timeout=60_000)
    assert page.get_by_text("Signed in as").count() == 0
    assert _refusals(site).count(reason) == 1
    page.reload()  # a new session: refused and audited again (once per session, not per run)
    wait_for_app(page)
    page.get_by_text(REFUSED).wait_for(timeout=60_000)
    assert _refusals(site).count(reason) == 2


def test_invitation_binds_the_subject_and_only_it(
    page: Any, oidc_site: tuple[str, Path], wait_for_app: Any
) -> None:
    url, site = oidc_site
    _provider_sign_in(page, url, "entra-12345", wait_for_app)
    page.get_by_text("Signed in as dc.kurigram").wait_for(timeout=60_000)
    assert page.get_by_text("District administrator").count() >= 1
    from store.user_repo import get_user

    store = _store(site)
    with store.session() as session:
        assert get_user(session, "dc.kurigram").oidc_subject == "entra-12345"
    store.dispose()
    # another subject with the same (verified) e-mail no longer gets in: the invitation is used
    page.context.clear_cookies()
    _provider_sign_in(page, url, "entra-copycat", wait_for_app)
    page.get_by_text(REFUSED).wait_for(timeout=60_000)
    assert "unknown subject, no open invitation for the e-mail" in _refusals(site)
