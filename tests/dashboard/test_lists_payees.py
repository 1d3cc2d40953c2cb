"""The lists page shows each line's pinned payee masked, and flags the lines whose payee the
registry changed after the list pinned it (the values themselves never reach the page)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from allowances.lists import propose
from allowances.policy import load_policy
from store import payee_repo
from store.db import Store
from store.models import Alert, Beneficiary, Evaluation, RegistryImport

from .test_visible_bangla import untranslated

T0 = datetime(2024, 7, 4, 6, 0, tzinfo=UTC)


def _list_with_a_changed_wallet(store: Store) -> None:
    with store.session() as session:
        session.add(
            RegistryImport(
                file_name="s",
                sha256="p" * 64,
                rows_total=3,
                rows_imported=3,
                imported_at=T0,
                imported_by="t",
                synthetic=True,
            )
        )
        session.flush()
        session.add_all(
            Beneficiary(
                beneficiary_id=f"SYN-P{i}",
                programme="widow",
                household_id=f"SYN-Q{i}",
                nid=f"1990{i:06d}",
                name_en=f"Hidden Name {i}",
                sex="female",
                birth_year=1950,
                female_headed=True,
                adm4_pcode="BD55490911",
                payment_channel="mfs",
                mfs_provider="nagad",
                wallet_number=f"0181{i:07d}",
                import_id=1,
                row_sha256="r" * 64,
                updated_at=T0,
            )
            for i in range(3)
        )
        ev = Evaluation(
            input_key="p",
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
                affected_unions=["BD55490911"],
            )
        )
        session.flush()
        propose(
            session,
            alert_id=1,
            district_pcode="BD5549",
            union_codes=["BD55490911"],
            union_intensity={},
            policy=load_policy(),
            prepared_by="system",
            at=T0,
            synthetic=True,
        )
    with store.engine.begin() as conn:  # the registry changes one wallet after the snapshot
        conn.execute(
            text(
                "UPDATE beneficiaries SET wallet_number = '01999999999' "
                "WHERE beneficiary_id = 'SYN-P1'"
            )
        )


def test_changed_payees_are_flagged_on_the_page(
    view: Callable[..., AppTest], accounts: Store
) -> None:
    _list_with_a_changed_wallet(accounts)
    at = view("lists.py", "district_admin")
    assert not at.exception, at.exception
    assert any("changed the payee of 1 line" in w.value for w in at.warning)
    lines = at.dataframe[1].value.set_index("Household")  # the page's own column names
    assert lines.loc["SYN-Q1", "Changed in the registry since"] == "wallet number"
    assert lines.loc["SYN-Q0", "Changed in the registry since"] == ""
    assert lines.loc["SYN-Q1", "Payee (masked)"] == "mfs nagad 01*******01"  # the approved one
    page = str([d.value for d in at.dataframe])
    assert "01810000001" not in page
    assert "01999999999" not in page
    assert "Hidden Name" not in page


def test_payees_and_their_changes_read_in_bangla(
    view: Callable[..., AppTest], accounts: Store
) -> None:
    """The channel, the provider and the changed fields in Bangla; the masked number as
    stored; no Latin word left in the lines table."""
    _list_with_a_changed_wallet(accounts)
    at = view("lists.py", "district_admin", lang="bn")
    assert not at.exception, at.exception
    lines = at.dataframe[1].value.set_index("খানা")
    assert lines.loc["SYN-Q1", "প্রাপক (আংশিক লুকানো)"] == "নগদ 01*******01"
    assert lines.loc["SYN-Q1", "এরপর রেজিস্ট্রিতে বদলেছে"] == "ওয়ালেট নম্বর"
    assert lines.loc["SYN-Q0", "এরপর রেজিস্ট্রিতে বদলেছে"] == ""
    cells = [str(v) for c in lines.columns for v in lines[c].unique()]
    assert not untranslated(cells, set())


def test_every_payee_form_and_change_has_words() -> None:
    """Each channel's masked fields, and every identity field the registry comparison
    reports, have words in both languages; in English they read as `describe_masked` writes them."""
    from dashboard.labels import payee, payee_changes
    from store.payee_repo import IDENTITY_FIELDS, REMOVED, describe_masked, masked_fields

    pinned = {
        "bank": ("bank", None, None, "1234567890", "012345678", None),
        "post": ("post", None, None, None, None, "9375"),
        "mfs": ("mfs", "bkash", "01712345678", None, None, None),
        "unknown": ("mfs", None, "01712345678", None, None, None),
        "other": ("mfs", "other", None, None, None, None),
    }
    fields = {k: masked_fields(*v) for k, v in pinned.items()}
    for name in pinned:
        assert payee(*fields[name], "en") == describe_masked(*fields[name])
    assert describe_masked(*fields["bank"]) == "bank 12******90 routing 01*****78"
    assert "1234567890" not in payee(*fields["bank"], "bn")  # masked, in either language
    assert payee(*fields["bank"], "bn").startswith("ব্যাংক ")
    assert ", রাউটিং " in payee(*fields["bank"], "bn")
    assert payee(*fields["post"], "bn") == "ডাকঘর 9375"
    assert payee(*fields["mfs"], "bn") == f"বিকাশ {fields['mfs'][2]}"  # the brand says MFS
    assert fields["mfs"][2] not in ("", "01712345678")
    assert payee(*fields["unknown"], "bn").startswith("এমএফএস ? ")
    assert payee(*fields["other"], "bn").startswith("অন্য এমএফএস")
    assert payee("", "", "", "", "", "bn") == ""  # a line without a pinned payee
    for field in IDENTITY_FIELDS:
        assert payee_changes(field, "en") != field or field == "nid"
        assert not untranslated([payee_changes(field, "bn")], set()), field
    assert payee_changes("nid, wallet_number", "bn") == "এনআইডি, ওয়ালেট নম্বর"
    assert payee_changes(REMOVED, "bn") == "রেজিস্ট্রি থেকে বাদ পড়েছে"
    assert payee_changes("", "bn") == ""


def test_the_registry_is_compared_once_per_import(
    view: Callable[..., AppTest], accounts: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reruns of the page (paging, filters) reuse the comparison until a registry import
    moves the registry's version; then the page compares again and shows the change."""
    _list_with_a_changed_wallet(accounts)
    calls: list[int] = []
    compare = payee_repo.changes

    def counted(session: Any, list_id: int) -> Any:
        calls.append(list_id)
        return compare(session, list_id)

    monkeypatch.setattr(payee_repo, "changes", counted)
    for _ in range(2):
        at = view("lists.py", "district_admin", clear_caches=False)
        assert not at.exception, at.exception
        assert any("changed the payee of 1 line" in w.value for w in at.warning)
    assert len(calls) == 1
    with accounts.session() as session:  # an import that changes a second wallet
        session.add(RegistryImport(file_name="s2", sha256="q" * 64, rows_total=1,
                                   rows_imported=1, imported_at=T0, imported_by="t",
                                   synthetic=True))  # fmt: skip
    with accounts.engine.begin() as conn:
        moved = "UPDATE beneficiaries SET wallet_number = '01888888888' WHERE id = 3"
        conn.execute(text(moved))
    at = view("lists.py", "district_admin", clear_caches=False)
    assert any("changed the payee of 2 line(s)" in w.value for w in at.warning)
    assert len(calls) == 2
