"""The dashboard's pages at scale, opened as their users open them, in one run.

A SYNTHETIC registry of `--households` (allowances.synthetic on the real unions) is generated
and imported in a separate process, the bundled scenario is played through the real feed
jobs (it proposes the lists), and the demo accounts are made (none of this is timed). Then
`agam serve` serves the dashboard on that store and Debian's Chromium, driven by
Playwright, signs in as each role and opens every page of its menu in turn, `--repeat`
times. A page's time runs from the click until Streamlit has finished its script (what a
user waits for before the page stops changing); the best and the slowest of the repeats are
printed. There is no other library to compare a page with.

    python -m benchmarks.pages [--households 1000000] [--scenario flood] [--repeat 2]
                               [--roles committee officer district_admin admin]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from agam.pipeline.demo import DEMO_ACCOUNTS
from benchmarks.tick import REPO, _settings, imported
from dashboard.nav import ROLE_PAGES

CHROMIUM = Path(os.environ.get("AGAM_CHROMIUM", "/usr/bin/chromium"))
# each role signs in with the demo's first account of that role
ROLE_ACCOUNTS = {
    role: next(username for username, has, *_ in DEMO_ACCOUNTS if has == role)
    for role in ROLE_PAGES
}
SCRIPT_DONE = "[data-testid='stApp'][data-test-script-state='notRunning']"
PAGE_TIMEOUT_MS = 600_000


def _prepare(folder: Path, households: int, scenario: str) -> dict[str, str]:
    """Import, play the scenario, make the demo accounts; their passwords."""
    from agam.pipeline.context import AppContext
    from agam.pipeline.demo import ensure_demo_accounts
    from agam.scenarios.player import play

    import_s, import_mb = imported(str(folder), None, households)
    print(f"SYNTHETIC registry of {households:,} households imported in {import_s:.1f} s "
          f"(own process, peak {import_mb:,.0f} MB; not timed below)")  # fmt: skip
    settings = _settings(folder, None)
    started = time.perf_counter()
    play(settings, scenario)
    print(f"scenario {scenario} played in {time.perf_counter() - started:.1f} s (not timed below)")
    ctx = AppContext(settings)
    try:
        return ensure_demo_accounts(ctx)
    finally:
        ctx.store.dispose()


def _serve(folder: Path, port: int) -> subprocess.Popen[bytes]:
    """`agam serve` on the store in `folder`, as a deployment runs it (it becomes the
    Streamlit server)."""
    env = dict(os.environ, AGAM_CONFIG=str(REPO / "config.toml"), AGAM_DATA_DIR=str(folder))
    command = [sys.executable, "-m", "agam.cli.main", "serve", "--port", str(port),
               "--address", "127.0.0.1"]  # fmt: skip
    log = (folder / "serve.log").open("wb")
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"agam serve exited with {proc.returncode}; see its log")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("the dashboard did not become healthy in 120 s")


def _clicked(page: Any, click: Any) -> float:
    start = time.perf_counter()
    click()
    time.sleep(0.2)  # let the rerun begin before its end is waited for
    page.wait_for_selector(SCRIPT_DONE, timeout=PAGE_TIMEOUT_MS)
    return time.perf_counter() - start


def time_pages(
    url: str, passwords: dict[str, str], roles: list[str], repeat: int
) -> dict[tuple[str, str], list[float]]:
    """{(role, page): seconds per repeat}; a page that shows an exception is reported."""
    from playwright.sync_api import sync_playwright

    times: dict[tuple[str, str], list[float]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM),
                                     args=["--no-sandbox", "--disable-gpu"])  # fmt: skip
        for role in roles:
            username = ROLE_ACCOUNTS[role]
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            page.goto(url)
            page.wait_for_selector(SCRIPT_DONE, timeout=PAGE_TIMEOUT_MS)
            page.get_by_label("Username", exact=True).fill(username)
            page.get_by_label("Password", exact=True).fill(passwords[username])
            times[(role, "sign-in")] = [
                _clicked(page, page.get_by_role("button", name="Sign in").click)
            ]
            for _ in range(repeat):
                for key in ROLE_PAGES[role]:
                    href = f"{url}/" if key == ROLE_PAGES[role][0] else f"{url}/{key}"
                    link = page.locator(f"a[href='{href}']").first
                    times.setdefault((role, key), []).append(_clicked(page, link.click))
                    if page.locator("[data-testid='stException']").count():
                        raise RuntimeError(f"{role}: the {key} page shows an exception")
            context.close()
        browser.close()
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--scenario", default="flood")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--roles", nargs="+", choices=sorted(ROLE_ACCOUNTS),
                        default=list(ROLE_ACCOUNTS))  # fmt: skip
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        parser.error(f"{CHROMIUM} is missing (apt-get install chromium, or set AGAM_CHROMIUM)")
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 cores)")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        passwords = _prepare(folder, args.households, args.scenario)
        server = _serve(folder, args.port)
        try:
            times = time_pages(f"http://127.0.0.1:{args.port}", passwords, args.roles,
                               args.repeat)  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"{'role':15s} {'page':12s} {'best':>7s} {'slowest':>8s}")
    for (role, key), seconds in times.items():
        print(f"{role:15s} {key:12s} {min(seconds):6.2f}s {max(seconds):7.2f}s")
    print(f"load average now {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
