"""Cross-site websocket hijacking, in Chromium against the real server: a page on another
origin (here another port of the same host, which Streamlit's own origin check lets through
and the SameSite cookie does not stop) opens the dashboard's websocket with the signed-in
user's cookie. It must get no session; the same script on the dashboard's own page must."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

pytestmark = pytest.mark.browser

# Opens the websocket, asks for a run (BackMsg.rerun_script) and looks for the sidebar's
# "Signed in as" in what the server sends back.
PROBE = """(target) => new Promise((resolve) => {
  const ws = new WebSocket(target.replace('http', 'ws') + '/_stcore/stream', ['streamlit']);
  ws.binaryType = 'arraybuffer';
  let text = '', opened = false;
  const done = (found) => { try { ws.close(); } catch (e) {} resolve({opened, found}); };
  ws.onopen = () => { opened = true; ws.send(new Uint8Array([90, 0])); };
  ws.onclose = () => done(false);
  ws.onmessage = (e) => {
    text += new TextDecoder().decode(e.data);
    if (text.includes('Signed in as')) done(true);
  };
  setTimeout(() => done(false), 20000);
})"""


@pytest.fixture
def other_origin() -> Iterator[str]:
    class Blank(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<!doctype html><title>another site</title>")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Blank)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_page_on_another_origin_cannot_use_the_session(
    dashboard_url: str, other_origin: str, page: Any, sign_in: Any
) -> None:
    sign_in(page, dashboard_url, "committee.member")
    own = page.evaluate(PROBE, dashboard_url)
    assert own == {"opened": True, "found": True}  # the probe sees a signed-in session
    attacker = page.context.new_page()
    attacker.goto(other_origin)
    stolen = attacker.evaluate(PROBE, dashboard_url)
    # Streamlit accepts the connection (localhost origins are on its list); Agam gives it
    # no session even though the browser sent the cookie.
    assert stolen == {"opened": True, "found": False}


def test_the_server_sends_its_security_headers(dashboard_url: str) -> None:
    for path in ("/", "/_stcore/health", "/app/static/PROVENANCE.md", "/agam/geo/00/x.json"):
        try:
            response = urllib.request.urlopen(f"{dashboard_url}{path}", timeout=10)
        except urllib.error.HTTPError as error:  # the 404 has them too
            response = error
        with response:
            assert response.headers["X-Frame-Options"] == "SAMEORIGIN", path
            assert response.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
