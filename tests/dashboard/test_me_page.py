"""The M&E page: aggregates of an activation whose list was paid (no personal data), for the
committee as for officers; in Bangla too."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from agam.core.settings import Settings
from allowances.lists import decide_list, propose
from allowances.payment_files import export_payment_files
from allowances.payment_results import import_results
from allowances.policy import load_policy
from store.db import Store
from store.models import Activation, Alert
from store.user_repo import authenticate
from tests.lists.conftest import KURIGRAM, UNIONS, seed_registry_and_alert

T0 = datetime(2024, 7, 4, 6, 0, tzinfo=UTC)


@pytest.fixture
def paid_activation(accounts: Store, tmp_path: Path) -> int:
    """Seeds a paid list of one activation; returns the households paid."""
    with accounts.session() as session:
        seed_registry_and_alert(session)
        session.flush()
        activation = Activation(
            hazard="flood", label="jamuna 2024", opened_at=T0, last_active_at=T0
        )
        session.add(activation)
        session.flush()
        session.get(Alert, 1).activation_id = activation.id
        list_id = propose(
            session, alert_id=1, district_pcode=KURIGRAM, union_codes=UNIONS,
            union_intensity={}, policy=load_policy(), prepared_by="system", at=T0,
            synthetic=True,
        ).id  # fmt: skip
    who = {}
    for name in ("officer.kurigram", "dc.kurigram"):
        with accounts.session() as session:
            who[name] = authenticate(session, name, "a long password", T0, "test").principal
    decide_list(accounts, list_id, who["officer.kurigram"], "submit", T0)
    decide_list(accounts, list_id, who["dc.kurigram"], "approve", T0)
    export = export_payment_files(accounts, list_id, who["dc.kurigram"], "csv", tmp_path, T0)
    rows = []
    for f in export.manifest["files"]:
        with (export.folder / f["file"]).open(encoding="utf-8") as handle:
            rows.extend(csv.DictReader(handle))
    path = tmp_path / "return.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        fields = [*rows[0], "status", "provider_txn_id", "paid_at", "failure_reason"]
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for i, row in enumerate(rows):
            failed = i == 0
            writer.writerow(row | {
                "status": "failed" if failed else "paid",
                "provider_txn_id": "" if failed else f"T{i}",
                "paid_at": "" if failed else (T0 + timedelta(hours=i)).isoformat(),
                "failure_reason": "wallet not active" if failed else "",
            })  # fmt: skip
    import_results(accounts, list_id, who["officer.kurigram"], path, T0 + timedelta(days=2))
    return len(rows) - 1


@pytest.mark.parametrize(("role", "lang"), [("committee", "en"), ("officer", "bn")])
def test_me_page_shows_reach_and_failures(
    view: Callable[..., AppTest], paid_activation: int, role: str, lang: str
) -> None:
    at = view("me.py", role, lang=lang)
    assert not at.exception, at.exception
    assert [w.value for w in at.warning if "SYNTHETIC" in w.value]
    shown = "\n".join(str(t.value) for t in at.table)
    assert "wallet not active" in shown
    text = shown + "\n".join(str(d.value) for d in at.dataframe)
    assert "Synthetic Person" not in text  # aggregates only: no names
    assert "SYN-H" not in text  # nor household ids
    if lang == "en":
        assert "Woman recipient" in shown
        assert at.metric[0].value == f"{paid_activation:,}"
        assert paid_activation > 10


def test_briefing_has_the_me_section(paid_activation: int, settings: Settings) -> None:
    import io

    import pypdf

    from agam.pipeline.briefing import gather
    from agam.pipeline.context import AppContext
    from dashboard.briefing_pdf import build_briefing_pdf

    data = gather(AppContext(settings), ["BD5549"])
    assert [m["households_paid"] for m in data.me] == [paid_activation]
    assert data.me[0]["failed"] == 1
    assert gather(AppContext(settings), ["BD4539"]).me == []  # another district: nothing
    pdf = build_briefing_pdf(data, "en")
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    text = " ".join(text.split())
    assert "Monitoring and evaluation" in text
    assert f"{paid_activation} of" in text
    assert "1 failed, 0 reversed" in text
