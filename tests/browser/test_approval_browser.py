"""The main flows in a real browser: a district administrator approves and downloads; a
committee member can neither see personal data nor approve."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser
MARKDOWN = "[data-testid='stMarkdownContainer']"  # not the table's hidden accessibility cells


def test_district_admin_sees_alert_approves_and_downloads(
    page: Any, dashboard_url: str, wait_for_app: Any, sign_in: Any
) -> None:
    sign_in(page, dashboard_url, "dc.kurigram")
    page.get_by_role("link", name="Map").click()
    wait_for_app(page)
    page.get_by_text("3 unions under alert").wait_for(timeout=60_000)
    frame = page.frame_locator('iframe[title="dashboard.map_widget.agam_map"]')
    frame.locator("#map[data-ready='1']").wait_for(timeout=60_000)

    page.get_by_role("link", name="Allowance lists").click()
    wait_for_app(page)
    page.get_by_text("SYNTHETIC registry").wait_for()
    # the list's heading (the grid's hidden accessibility cells say "submitted" too)
    page.get_by_text(re.compile(r"List \d+ · Kurigram")).first.wait_for()
    waiting = "Waiting for the district administrator to approve or reject it"
    page.locator(MARKDOWN).get_by_text(waiting).first.wait_for()
    page.get_by_role("button", name="Approve").click()
    page.get_by_text(re.compile(r"List \d+: your approval is recorded\.")).wait_for(timeout=30_000)
    wait_for_app(page)
    page.get_by_role("button", name="Prepare payment files").click()
    button = page.get_by_role("button", name="Download manifest.json")
    button.wait_for(timeout=60_000)
    with page.expect_download() as manifest_download:
        button.click()
    manifest = json.loads(Path(manifest_download.value.path()).read_text(encoding="utf-8"))
    assert manifest["approved_by"] == "dc.kurigram"
    payment = next(f for f in manifest["files"] if f["channel"] == "mfs_bkash")
    with page.expect_download() as file_download:
        page.get_by_role("button", name=f"Download {payment['file']}").click()
    text = Path(file_download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == payment["rows"] == manifest["rows"]
    assert sum(int(r["amount_bdt"]) for r in rows) == manifest["total_bdt"]


def test_committee_member_cannot_see_personal_data_or_approve(
    page: Any, dashboard_url: str, wait_for_app: Any, sign_in: Any
) -> None:
    sign_in(page, dashboard_url, "committee.member")
    page.get_by_role("link", name="Allowance lists").click()
    wait_for_app(page)
    page.get_by_text("Committee members see totals only").wait_for(timeout=30_000)
    assert page.get_by_role("button", name="Approve").count() == 0
    assert page.get_by_role("button", name="Prepare payment files").count() == 0
    content = page.content()
    for secret in ("Synthetic Person", "01710000003", "1980000003", "SYN-H003"):
        assert secret not in content
