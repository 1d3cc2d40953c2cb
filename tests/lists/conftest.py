"""A store seeded with accounts, a synthetic registry and one open Kurigram alert."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from agam.core.settings import Settings
from store.db import Store, migrate
from store.models import Alert, Beneficiary, Evaluation, RegistryImport
from store.user_repo import add_user

T0 = datetime(2024, 7, 4, 6, 0, tzinfo=UTC)
PASSWORD = "a long test password"  # tests/conftest.py signs in with it
KURIGRAM, JAMALPUR = "BD5549", "BD4539"
UNIONS = ["BD55490911", "BD55490923", "BD55490947"]  # Chilmari (Kurigram)


def _beneficiary(i: int, **kw: object) -> Beneficiary:
    data: dict[str, object] = dict(
        beneficiary_id=f"SYN-B{i:05d}",
        programme="old_age",
        household_id=f"SYN-H{i // 2:05d}",
        nid=f"19{i:08d}",
        name_en=f"Synthetic Person {i}",
        sex="female" if i % 2 else "male",
        birth_year=1950 + i % 40,
        disability=i % 7 == 0,
        female_headed=i % 5 == 0,
        pregnant_lactating=False,
        children_under5=i % 3,
        char_resident=i % 4 == 0,
        adm4_pcode=UNIONS[i % 3],
        payment_channel="mfs",
        mfs_provider="bkash",
        wallet_number=f"017{i:08d}",
        import_id=1,
        row_sha256="x" * 64,
        updated_at=T0,
    )
    data.update(kw)
    return Beneficiary(**data)


ACCOUNTS = [
    ("officer.kurigram", "officer", [KURIGRAM]),
    ("dc.kurigram", "district_admin", [KURIGRAM]),
    ("dc.jamalpur", "district_admin", [JAMALPUR]),
    ("adc.kurigram", "district_admin", [KURIGRAM]),
    ("committee.a", "committee", []),
    ("admin.a", "admin", []),
]


def seed_registry_and_alert(session: Session) -> None:
    """A synthetic registry (40 mobile-money beneficiaries and one paid by post) and an open
    action alert for Kurigram; ORM only on tables unchanged since migration 0001."""
    session.add(
        RegistryImport(
            file_name="synthetic.parquet",
            sha256="s" * 64,
            rows_total=40,
            rows_imported=40,
            imported_at=T0,
            imported_by="test",
            synthetic=True,
        )
    )
    session.flush()
    session.add_all([_beneficiary(i) for i in range(40)])
    session.add(
        _beneficiary(
            99,
            household_id="SYN-H99999",
            payment_channel="post",
            mfs_provider=None,
            wallet_number=None,
            post_office_code="5600",
        )
    )
    add_open_alert(session, "ocha_cerf_flood_2025", "k")


def add_open_alert(session: Session, rule_set_id: str, input_key: str) -> int:
    """An open action alert of `rule_set_id` for Kurigram's three unions, with the evaluation
    that opened it; its id."""
    evaluation = Evaluation(
        input_key=input_key,
        rule_set_id=rule_set_id,
        rule_set_version="1",
        stage="action",
        as_of=T0,
        state="met",
        explanation="test",
        created_at=T0,
    )
    session.add(evaluation)
    session.flush()
    alert = Alert(
        rule_set_id=rule_set_id,
        rule_set_version="1",
        district_pcode=KURIGRAM,
        stage="action",
        status="open",
        opened_at=T0,
        updated_at=T0,
        first_evaluation_id=evaluation.id,
        last_evaluation_id=evaluation.id,
        affected_unions=UNIONS,
    )
    session.add(alert)
    session.flush()
    return alert.id


def seed(s: Store, revision: str | None = None) -> Store:
    """Accounts, registry and alert in a store migrated to the newest schema (or `revision`)."""
    if revision is None:
        s.upgrade()
    else:
        migrate(s.engine, revision)
    with s.session() as session:
        for name, role, districts in ACCOUNTS:
            add_user(
                session,
                username=name,
                role=role,
                districts=districts,
                password=PASSWORD,
                display_name=name,
                at=T0,
            )
        seed_registry_and_alert(session)
    return s


def propose_draft(
    s: Store, at: datetime = T0, *, alert_id: int = 1, evaluation_id: int | None = None
) -> int:
    """The draft list of the seeded Kurigram alert, or of `alert_id` (all three unions,
    default policy)."""
    from allowances.lists import propose
    from allowances.policy import load_policy

    with s.session() as session:
        return propose(
            session,
            alert_id=alert_id,
            district_pcode=KURIGRAM,
            union_codes=UNIONS,
            union_intensity={},
            policy=load_policy(),
            prepared_by="system",
            at=at,
            synthetic=True,
            evaluation_id=evaluation_id,
        ).id


@pytest.fixture
def draft() -> Callable[[Store], int]:
    return propose_draft


@pytest.fixture
def seeders() -> tuple[Callable[[Store], Store], Callable[[Session], None]]:
    """(seed, seed_registry_and_alert) for tests that build their own store."""
    return seed, seed_registry_and_alert


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = seed(Store(database_url))
    yield s
    s.dispose()


@pytest.fixture
def seeded_settings(settings: Settings) -> Settings:
    seed(Store(settings.database_url))
    return settings
