"""`agam serve`: run the dashboard on an existing store (what `agam demo` ends with)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from agam.cli.common import ConfigOption, console, err_console, handle_errors, settings_for
from agam.core.errors import StoreError
from agam.core.settings import Settings
from agam.pipeline.context import AppContext
from boundaries.topology import asset_folder, ensure_national
from store.db import schema_revision

DASHBOARD_ENTRY = Path(__file__).resolve().parents[2] / "dashboard" / "server.py"
PortOption = Annotated[
    int | None, typer.Option("--port", help="default: the dashboard port in config.toml")
]
AddressOption = Annotated[
    str | None,
    typer.Option(
        "--address", help="interface to listen on; default: the dashboard address in config.toml"
    ),
]


def prepare_map(ctx: AppContext) -> None:
    """Build the browser's union geometry now, not on the first Map view (seconds)."""
    settings = ctx.settings
    tolerance = settings.dashboard.simplify_tolerance_deg
    layer = ctx.union_layer()
    folder = asset_folder(settings.cache_dir, layer.source.fingerprint, tolerance)
    ensure_national(layer.frame, folder, tolerance)


def serve(settings: Settings, port: int | None, address: str | None = None) -> NoReturn:
    serve_port = port or settings.dashboard.port
    serve_address = address or settings.dashboard.address
    shown = "localhost" if serve_address in ("127.0.0.1", "localhost") else serve_address
    console.print(f"serving the dashboard at http://{shown}:{serve_port}", markup=False)
    env = dict(os.environ, AGAM_CONFIG=str(settings.config_path))
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(DASHBOARD_ENTRY),
        "--server.port", str(serve_port),
        "--server.address", serve_address,
        "--server.headless", "true",
        "--server.enableStaticServing", "true",
        "--server.enableWebsocketCompression", "true",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",
    ]  # fmt: skip
    sys.stdout.flush()
    sys.stderr.flush()
    # Become the dashboard server: signals (Ctrl-C, SIGTERM from a service manager) reach it
    # directly and no orphan server is left behind.
    os.execve(sys.executable, cmd, env)  # noqa: S606 (fixed argv, no shell)


@handle_errors
def serve_cmd(
    config: ConfigOption = None,
    port: PortOption = None,
    address: AddressOption = None,
) -> None:
    """Serve the dashboard on an existing store (see `agam demo` to make one)."""
    settings = settings_for(config)
    url = settings.database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        raise StoreError(f"no Agam store at {url}: run `agam db upgrade` or `agam demo`")
    ctx = AppContext(settings)
    if schema_revision(ctx.store.engine) is None:
        raise StoreError(
            f"no Agam store at {settings.database_url.split('@')[-1]}: "
            "run `agam db upgrade` (then add users), or `agam demo`"
        )
    ctx.store.upgrade()
    if address not in (None, "127.0.0.1", "localhost"):
        err_console.print(
            f"listening on {address}: put a TLS reverse proxy in front (docs/dashboard.md)",
            markup=False,
        )
    prepare_map(ctx)
    ctx.store.dispose()
    serve(settings, port, address)
