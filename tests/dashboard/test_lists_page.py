"""The lists page per role: who sees lines, who may decide, and the store's refusals."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from agam.core.bengali import digits
from agam.core.typed_text import MAX_REASON_CHARS
from allowances.lists import propose
from allowances.payment_files import export_payment_files
from allowances.payment_results import import_results
from allowances.policy import load_policy
from store.db import Store
from store.models import Alert, Beneficiary, Evaluation, RegistryImport
from tests.payments.test_payment_results import result, write_return

T0 = datetime(2024, 7, 4, 6, 0, tzinfo=UTC)
UNIONS = ["BD55490911", "BD55490915"]


@pytest.fixture
def with_list(accounts: Store) -> int:
    return _seeded_list(accounts)


def _seeded_list(accounts: Store, unpayable: int | None = None) -> int:
    """A proposed list of six households; beneficiary `unpayable` has no payment channel
    (so its line is excluded)."""
    with accounts.session() as session:
        session.add(
            RegistryImport(
                file_name="syn.parquet",
                sha256="a" * 64,
                rows_total=6,
                rows_imported=6,
                imported_at=T0,
                imported_by="t",
                synthetic=True,
            )
        )
        session.flush()
        session.add_all(
            [
                Beneficiary(
                    beneficiary_id=f"SYN-B{i}",
                    programme="widow",
                    household_id=f"SYN-H{i}",
                    nid=f"1990{i:06d}",
                    name_en=f"Secret Name {i}",
                    sex="female",
                    birth_year=1950,
                    disability=i == 1,
                    female_headed=True,
                    adm4_pcode=UNIONS[i % 2],
                    payment_channel="none" if i == unpayable else "mfs",
                    mfs_provider=None if i == unpayable else "nagad",
                    wallet_number=None if i == unpayable else f"0181{i:07d}",
                    import_id=1,
                    row_sha256="r" * 64,
                    updated_at=T0,
                )
                for i in range(6)
            ]
        )
        ev = Evaluation(
            input_key="k",
            rule_set_id="flood",
            rule_set_version="1",
            stage="action",
            as_of=T0,
            state="met",
            explanation="x",
            created_at=T0,
        )
        session.add(ev)
        session.flush()
        session.add(
            Alert(
                rule_set_id="flood",
                rule_set_version="1",
                district_pcode="BD5549",
                stage="action",
                status="open",
                opened_at=T0,
                updated_at=T0,
                first_evaluation_id=ev.id,
                last_evaluation_id=ev.id,
                affected_unions=UNIONS,
            )
        )
        session.flush()
        row = propose(
            session,
            alert_id=1,
            district_pcode="BD5549",
            union_codes=UNIONS,
            union_intensity={},
            policy=load_policy(),
            prepared_by="system",
            at=T0,
            synthetic=True,
        )
        return row.id


def _page_text(at: AppTest) -> str:
    parts = [e.value for e in (*at.markdown, *at.caption, *at.info, *at.warning, *at.subheader)]
    return " ".join(str(p) for p in parts)


def test_committee_sees_totals_not_lines(view: Callable[..., AppTest], with_list: int) -> None:
    at = view("lists.py", "committee")
    assert not at.exception, at.exception
    assert "totals only" in _page_text(at)
    assert len(at.dataframe) == 1  # the summary table only
    assert not any(b.label in ("Approve", "Submit for approval") for b in at.button)
    assert "Secret Name" not in str(at.dataframe[0].value)


def test_officer_submits_admin_approves(view: Callable[..., AppTest], with_list: int) -> None:
    at = view("lists.py", "officer")
    assert "SYNTHETIC" in _page_text(at)
    assert "Waiting for the officer to check and submit it" in _page_text(at)
    assert not at.text_input  # no reason box for someone who cannot reject
    lines = at.dataframe[1].value
    assert len(lines) == 6
    assert "female-headed household (+3)" in lines["Why (priority score terms)"].iloc[0]
    assert lines["Union"].iloc[0] != UNIONS[0]  # names, not codes
    at.button(key="do_submit").click().run()
    assert not at.exception, at.exception
    admin = view("lists.py", "district_admin")
    assert "submitted" in _page_text(admin)
    assert "Waiting for the district administrator" in _page_text(admin)
    assert admin.text_input(key="decision_reason") is not None
    admin.button(key="do_approve").click().run()
    assert not admin.exception
    assert "approved" in _page_text(admin)
    assert admin.button(key="prepare_download") is not None


def test_reject_needs_a_reason(view: Callable[..., AppTest], with_list: int) -> None:
    at = view("lists.py", "officer")
    at.button(key="do_submit").click().run()
    admin = view("lists.py", "district_admin")
    admin.button(key="do_reject").click().run()
    assert admin.error[0].value == "Write the reason for rejecting this list."
    admin.text_input(key="decision_reason").input("wrong unions").run()
    admin.button(key="do_reject").click().run()
    assert not admin.error
    assert f"List {with_list} is rejected." in [s.value for s in admin.success]
    again = view("lists.py", "officer")  # the preparer sees why
    assert any("wrong unions" in w.value for w in again.warning)
    assert not any("wrong unions" in w.value for w in view("lists.py", "committee").warning)


def test_a_reason_is_plain_text_of_bounded_length(
    view: Callable[..., AppTest], with_list: int
) -> None:
    view("lists.py", "officer").button(key="do_submit").click().run()
    admin = view("lists.py", "district_admin", lang="bn")
    assert admin.text_input(key="decision_reason").max_chars == MAX_REASON_CHARS
    admin.text_input(key="decision_reason").input("\u202ethe other union").run()
    admin.button(key="do_reject").click().run()
    assert "text-direction" in admin.error[0].value.replace("\\", "")
    admin.text_input(key="decision_reason").input("ভুল ইউনিয়ন").run()
    admin.button(key="do_reject").click().run()
    assert f"তালিকা {digits(str(with_list), 'bn')} প্রত্যাখ্যাত হয়েছে।" in [s.value for s in admin.success]


def test_export_again_asks_first_and_never_after_the_provider_answered(
    view: Callable[..., AppTest],
    with_list: int,
    accounts: Store,
    principal_for: Callable[..., Any],
    tmp_path: Path,
) -> None:
    """A second file of a paid batch could pay households twice: the page offers it again
    only on the person's word that the first did not arrive, and not at all once results
    are back (the store refuses it too)."""
    view("lists.py", "officer").button(key="do_submit").click().run()
    view("lists.py", "district_admin").button(key="do_approve").click().run()
    dc = principal_for(accounts, "dc.kurigram", "a long password")
    done = export_payment_files(accounts, with_list, dc, "csv", tmp_path / "out", T0)
    admin = view("lists.py", "district_admin")
    assert "were prepared before (times: 1" in _page_text(admin)
    assert "prepare_download" not in [b.key for b in admin.button]
    admin.checkbox(key=f"again_{with_list}").check().run()
    assert "prepare_download" in [b.key for b in admin.button]
    with (done.folder / done.manifest["files"][0]["file"]).open(encoding="utf-8") as handle:
        first = next(csv.DictReader(handle))
    now = datetime.now(UTC)  # the page approved it on the clock
    paid = result(first, "paid", paid_at=now.isoformat())
    returned = write_return(tmp_path / "r.csv", [paid])
    officer = principal_for(accounts, "officer.kurigram", "a long password")
    report = import_results(accounts, with_list, officer, returned, now)
    assert report.applied == 1, report.judgement.rejected
    admin = view("lists.py", "district_admin")
    assert "returned payment results for this list (lines: 1)" in _page_text(admin)
    assert "prepare_download" not in [b.key for b in admin.button]
    assert not any(c.key == f"again_{with_list}" for c in admin.checkbox)


@pytest.mark.parametrize("lang", ["en", "bn"])
def test_excluded_lines_show_why_beside_included_ones(
    view: Callable[..., AppTest], accounts: Store, lang: str
) -> None:
    """A list with an excluded line, shown with the excluded lines too: text and empty
    exclusion cells side by side (pandas reads that column as text with NaN for NULL)."""
    _seeded_list(accounts, unpayable=5)
    at = view("lists.py", "officer", lang=lang)
    assert not at.exception, at.exception
    assert len(at.dataframe[1].value) == 5  # only the included lines at first
    at.toggle(key="only_included").set_value(False).run()
    assert not at.exception, at.exception
    lines = at.dataframe[1].value
    assert len(lines) == 6
    why = lines[lines.columns[-1]]
    assert (why != "").sum() == 1
    assert "MFS" in why.iloc[-1] or "এমএফএস" in why.iloc[-1]
