"""A local HTTP server that answers as the upstream services would have at scenario time.

Routes come from the scenario manifest (`/glofas/...`, `/ffwc/data_load/...`,
`/gdacs/gdacsapi/api/...`). Each answer carries an ETag and Last-Modified and honours
If-None-Match / If-Modified-Since, so the fetchers' conditional GETs work as in production.
Binds to 127.0.0.1 on a free port; nothing leaves the machine.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from agam.scenarios.manifest import Manifest

log = logging.getLogger(__name__)


def _handler(manifest: Manifest, clock: Callable[[], datetime]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "AgamScenario/1"

        def do_GET(self) -> None:
            item = manifest.current(self.path, clock())
            if item is None:
                self._send(404, b'{"detail": "Not found."}', "application/json")
                return
            etag = f'"{item.sha256[:32]}"'
            modified = format_datetime(item.published_at, usegmt=True)
            if self._not_modified(etag, item.published_at):
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", modified)
                self.end_headers()
                return
            body = (manifest.folder / item.path).read_bytes()
            headers = {"ETag": etag, "Last-Modified": modified, "X-Agam-Scenario": manifest.label}
            self._send(200, body, item.content_type, headers)

        def _not_modified(self, etag: str, published: datetime) -> bool:
            if self.headers.get("If-None-Match"):
                return self.headers["If-None-Match"] == etag
            since = self.headers.get("If-Modified-Since")
            if not since:
                return False
            try:
                return published <= parsedate_to_datetime(since)
            except (TypeError, ValueError):
                return False

        def _send(
            self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("scenario server: " + format, *args)

    return Handler


@contextmanager
def serving(manifest: Manifest, clock: Callable[[], datetime]) -> Iterator[str]:
    """Serve `manifest` at scenario time `clock()`; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(manifest, clock))
    thread = threading.Thread(target=server.serve_forever, name="scenario-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
