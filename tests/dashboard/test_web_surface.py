"""The dashboard's HTTP surface without a browser: security headers on every answer (also
without the reverse proxy), payment files never cached, the websocket's origin rule, the
geometry route on a fresh server, and the shipped service and proxy files."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import Response
from starlette.routing import Route

from dashboard.auth import origin_matches
from dashboard.headers import SecurityHeaders

ROOT = Path(__file__).resolve().parents[2]


def get(path: str) -> dict[str, list[str]]:
    """The response headers of GET `path` from a Starlette app wrapped like server.py's."""

    async def page(request: object) -> Response:
        # What a route may send itself: no duplicate may reach the browser.
        return Response(
            "x", headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "max-age=9"}
        )

    routes = [Route("/", page), Route("/media/{name}", page), Route("/base/media/{name}", page)]
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)])
    headers: dict[str, list[str]] = {}

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            for name, value in message["headers"]:  # type: ignore[attr-defined]
                headers.setdefault(name.decode().lower(), []).append(value.decode())

    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(),
             "query_string": b"", "headers": [], "scheme": "http", "server": ("t", 80),
             "root_path": "", "http_version": "1.1"}  # fmt: skip
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    return headers


def test_every_answer_forbids_framing_by_other_sites_and_sniffing() -> None:
    """`agam demo` / `agam serve --address` answer without nginx: no header stopped another
    page from framing the dashboard and clickjacking the approve button."""
    for path in ("/", "/absent"):
        headers = get(path)
        assert headers["x-frame-options"] == ["SAMEORIGIN"]
        assert headers["content-security-policy"] == ["frame-ancestors 'self'"]
        assert headers["x-content-type-options"] == ["nosniff"]
        assert headers["referrer-policy"] == ["strict-origin-when-cross-origin"]
    assert get("/")["cache-control"] == ["max-age=9"]  # left alone


@pytest.mark.parametrize("path", ["/media/abc.csv", "/base/media/abc.csv"])
def test_files_served_from_memory_are_never_stored(path: str) -> None:
    """Payment files (full wallet numbers) are downloaded from /media/: no cache keeps them."""
    assert get(path)["cache-control"] == ["no-store"]


def test_the_server_mounts_the_headers() -> None:
    source = (ROOT / "dashboard" / "server.py").read_text(encoding="utf-8")
    assert "Middleware(SecurityHeaders)" in source


@pytest.mark.parametrize(
    ("origin", "host", "same"),
    [
        (None, "127.0.0.1:8501", True),  # not a browser: it has no victim's cookie
        ("http://127.0.0.1:8501", "127.0.0.1:8501", True),
        ("https://agam.example.gov.bd", "agam.example.gov.bd", True),
        ("https://Agam.Example.gov.bd", "agam.example.gov.bd", True),
        ("http://127.0.0.1:8641", "127.0.0.1:8501", False),  # another port, same host
        ("http://localhost:8501", "127.0.0.1:8501", False),
        ("https://www.example.gov.bd", "agam.example.gov.bd", False),  # a sibling site
        ("null", "agam.example.gov.bd", False),  # a sandboxed frame or a file
        ("https://agam.example.gov.bd", "", False),
        ("https://agam.example.gov.bd", None, False),
    ],
)
def test_only_the_dashboards_own_pages_get_a_session(
    origin: str | None, host: str | None, same: bool
) -> None:
    assert origin_matches(origin, host) is same


def test_geometry_route_works_before_any_page_has_run(tmp_path: Path) -> None:
    """On a fresh server the route ran before any page had imported the feed models, and the
    shipped config (with [feeds.*]) made it fail with a 500 until someone opened a page."""
    config = tmp_path / "config.toml"
    config.write_text((ROOT / "config.toml").read_text(encoding="utf-8"), encoding="utf-8")
    code = "from dashboard import geo_routes; print(geo_routes._geo_root())"
    env = dict(os.environ, AGAM_CONFIG=str(config))
    env.pop("AGAM_DATA_DIR", None)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("geo")


def test_the_service_runs_the_server_with_its_routes_and_headers() -> None:
    """The unit ran dashboard/app.py: no /agam/geo route (the map had no geometry) and none
    of Agam's own headers."""
    unit = (ROOT / "deploy" / "systemd" / "agam-dashboard.service").read_text(encoding="utf-8")
    (start,) = re.findall(r"^ExecStart=.*$", unit, flags=re.MULTILINE)
    assert "streamlit run /opt/agam/dashboard/server.py" in start


def test_the_proxy_takes_no_bigger_body_than_streamlit() -> None:
    conf = (ROOT / "deploy" / "nginx" / "agam.conf").read_text(encoding="utf-8")
    (size,) = re.findall(r"^\s*client_max_body_size (\d+)m;", conf, flags=re.MULTILINE)
    streamlit = tomllib.loads(
        (ROOT / "dashboard" / ".streamlit" / "config.toml").read_text(encoding="utf-8")
    )["server"]
    assert int(size) <= streamlit["maxUploadSize"] == 10
    assert streamlit["enableXsrfProtection"] is True
    assert streamlit["enableAgentApi"] is False
