"""The seeded Kurigram store of tests/lists, with its list proposed, approved and exported."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from store.db import Store
from tests.lists.conftest import propose_draft, seed


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = seed(Store(database_url))
    yield s
    s.dispose()


@pytest.fixture
def draft_id(store: Store) -> int:
    return propose_draft(store)


@pytest.fixture
def outdir(tmp_path: Path) -> Path:
    return tmp_path / "payments"


@pytest.fixture
def who(store: Store, principal_for: Callable[..., Any]) -> Callable[[str], Any]:
    """who("dc.kurigram"): the account's principal, signed in by password."""
    names = ("officer.kurigram", "dc.kurigram", "adc.kurigram", "dc.jamalpur", "admin.a")
    signed = {u: principal_for(store, u) for u in names}
    return signed.__getitem__
