"""deploy/nginx/agam.conf in front of the real dashboard, in Chromium: TLS, the security
headers on every answer, the websocket upgrade (the app renders and signs in through it),
and a Content-Security-Policy the dashboard - map included - runs under without a single
violation."""

from __future__ import annotations

import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from dashboard.auth import proxied_peer

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "deploy" / "nginx" / "agam.conf"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def site_config(dashboard_port: int, http_port: int, https_port: int, folder: Path) -> Path:
    """The shipped config with test ports, a self-signed certificate and a private prefix."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-keyout", str(folder / "key.pem"),
         "-out", str(folder / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    text = CONF.read_text(encoding="utf-8")
    text = text.replace("server 127.0.0.1:8501;", f"server 127.0.0.1:{dashboard_port};")
    text = re.sub(r"\n\s*listen \[::\]:\d+[^\n]*", "", text)
    text = text.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    text = text.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
    text = text.replace("/etc/ssl/agam/fullchain.pem", str(folder / "cert.pem"))
    text = text.replace("/etc/ssl/agam/privkey.pem", str(folder / "key.pem"))
    (folder / "agam.conf").write_text(text, encoding="utf-8")
    main = folder / "nginx.conf"
    main.write_text(
        f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\nevents {{}}\n"
        f"http {{\n access_log off;\n client_body_temp_path {folder};\n"
        f" proxy_temp_path {folder};\n include {folder}/agam.conf;\n}}\n",
        encoding="utf-8",
    )
    return main


@contextmanager
def running_nginx(main: Path, ports: dict[str, int]) -> Iterator[None]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        if os.environ.get("CI"):
            pytest.fail("nginx missing: .ci/run must install nginx-light")
        pytest.skip("nginx not installed (apt-get install nginx-light)")
    proc = subprocess.Popen(
        [nginx, "-c", str(main), "-p", str(main.parent), "-g", "daemon off;"],
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", ports["https"])) == 0:
                break
        if proc.poll() is not None:
            raise RuntimeError(f"nginx exited: {proc.stderr.read() if proc.stderr else ''}")
        time.sleep(0.2)
    try:
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        if proc.stderr is not None:
            proc.stderr.close()


@pytest.fixture(scope="module")
def proxied(
    dashboard_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, int]]:
    folder = tmp_path_factory.mktemp("nginx")
    ports = {"http": free_port(), "https": free_port()}
    main = site_config(int(dashboard_url.rsplit(":", 1)[1]), ports["http"], ports["https"], folder)
    with running_nginx(main, ports):
        yield ports


def test_the_proxy_hands_on_the_peer_not_what_the_browser_claims(tmp_path: Path) -> None:
    """The shipped config appended to the browser's own X-Forwarded-For and the dashboard
    took its first entry: anyone could claim a new address at every sign-in attempt, past
    the per-address throttle, and write any text into the audit log. Now the proxy
    overwrites the header and the dashboard takes the entry the proxy added, as an address."""
    seen: list[list[str]] = []

    class Echo(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get_all("X-Forwarded-For") or [])
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    ports = {"http": free_port(), "https": free_port()}
    main = site_config(upstream.server_port, ports["http"], ports["https"], tmp_path)
    claimed = {"X-Forwarded-For": "203.0.113.9, <script>"}
    try:
        with running_nginx(main, ports):
            url = f"https://127.0.0.1:{ports['https']}/"
            request = urllib.request.Request(url, headers=claimed)
            with urllib.request.urlopen(request, context=ssl._create_unverified_context()) as r:
                assert r.status == 200
    finally:
        upstream.shutdown()
        upstream.server_close()
    assert seen == [["127.0.0.1"]]
    assert proxied_peer(seen[0][0]) == "127.0.0.1"


@pytest.mark.parametrize(
    ("header", "peer"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("203.0.113.9, 10.0.0.5", "10.0.0.5"),  # an appending proxy: its own entry is last
        ("2001:db8::1", "2001:db8::1"),
        ("10.0.0.5, <script>alert(1)</script>", "unreadable"),
        ("x" * 10_000, "unreadable"),
    ],
)
def test_the_dashboard_reads_the_proxys_entry_as_an_address(header: str, peer: str) -> None:
    assert proxied_peer(header) == peer


def test_plain_http_redirects_to_https(proxied: dict[str, int]) -> None:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as caught:
        opener.open(f"http://127.0.0.1:{proxied['http']}/", timeout=10)
    caught.value.close()
    assert caught.value.code == 301
    assert caught.value.headers["Location"].startswith("https://")


@pytest.mark.self_signed_tls
def test_dashboard_works_behind_the_proxy_under_its_csp(
    proxied: dict[str, int], page: Any, wait_for_app: Any, sign_in: Any
) -> None:
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if "Content Security Policy" in m.text or "Refused to" in m.text
            else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    url = f"https://127.0.0.1:{proxied['https']}"
    first = page.goto(url)
    assert first is not None
    headers = first.headers
    assert headers["strict-transport-security"].startswith("max-age=63072000")
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    # Other sites may not frame the dashboard; it frames its own components (the map).
    assert "frame-ancestors 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "SAMEORIGIN"
    # Signing in and every rerun go over Streamlit's websocket, through the proxy.
    sign_in(page, url, "officer.kurigram")
    nav = page.get_by_role("link", name="Map")
    if nav.count():
        nav.first.click()
        wait_for_app(page)
    # The map component loads its script, styles, tiles and union layer from the dashboard's
    # own origin: under the CSP it must still draw all 5,160 unions.
    frame = page.frame_locator('iframe[title="dashboard.map_widget.agam_map"]')
    container = frame.locator("#map[data-ready='1']")
    container.wait_for(timeout=60_000)
    assert container.get_attribute("data-unions") == "5160"
    assert problems == []


def _handshake(port: int, origin: str | None) -> int:
    """The status nginx answers a websocket upgrade of /_stcore/stream with."""
    lines = [
        "GET /_stcore/stream HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Protocol: streamlit",
    ]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    context = ssl._create_unverified_context()
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as sock,
    ):
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return int(sock.recv(1024).split(b" ", 2)[1])


def test_the_proxy_opens_the_websocket_only_to_its_own_pages(proxied: dict[str, int]) -> None:
    """A page of another origin opening the websocket would act with the browser's cookie
    (cross-site websocket hijacking): nginx refuses it before Streamlit sees it."""
    port = proxied["https"]
    assert _handshake(port, f"https://127.0.0.1:{port}") == 101
    assert _handshake(port, None) == 101  # a program: it has no browser's cookie
    for origin in (f"http://127.0.0.1:{port}", "https://127.0.0.1:1", "https://evil.test", "null"):
        assert _handshake(port, origin) == 403, origin


def test_streamlits_metrics_and_agent_api_are_not_served(proxied: dict[str, int]) -> None:
    context = ssl._create_unverified_context()
    base = f"https://127.0.0.1:{proxied['https']}"
    for path in ("/_stcore/metrics", "/_stcore/agent/openapi.json", "/_stcore/agent/interact"):
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"{base}{path}", context=context, timeout=10)
        caught.value.close()
        assert caught.value.code == 404, path
        assert caught.value.headers["X-Frame-Options"] == "SAMEORIGIN"
