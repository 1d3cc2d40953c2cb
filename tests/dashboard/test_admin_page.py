"""Administration page: accounts added and disabled (audited), configuration shown without
credentials; only admins reach it."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from store import audit
from store.db import Store
from store.user_repo import get_user


def test_admin_adds_and_disables_accounts(view: Callable[..., AppTest], accounts: Store) -> None:
    at = view("admin.py", "admin")
    assert not at.exception, at.exception
    users = at.dataframe[0].value
    assert set(users["Username"]) >= {"admin", "dc.kurigram"}
    assert "District administrator" in set(users["Role"])  # roles in words, not codes
    at.text_input(key="new_username").input("dc.jamalpur")
    at.text_input(key="new_name").input("DC Jamalpur")
    at.selectbox(key="new_role").select("district_admin")
    at.text_input(key="new_districts").input("bd4539")
    at.text_input(key="new_password").input("a long password indeed")
    at.button[0].click().run()
    assert "Added dc.jamalpur" in at.success[0].value
    at.selectbox(key="disable_user").select("dc.kurigram").run()
    at.button(key="do_disable").click().run()
    assert "Disabled dc.kurigram" in at.success[-1].value
    with accounts.session() as session:
        assert get_user(session, "dc.jamalpur").districts == ["BD4539"]
        assert get_user(session, "dc.kurigram").disabled
        assert audit.verify(session).entries == 2
    assert "password" not in str(at.json[0].value).lower()
