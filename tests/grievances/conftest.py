"""A store with handlers of two districts, a committee member, a national-desk officer and a
few (synthetic) registry households in Kurigram."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from agam.core.settings import Settings
from store.db import Store
from store.models import Beneficiary, RegistryImport
from store.user_repo import add_user

T0 = datetime(2026, 7, 4, 6, 0, tzinfo=UTC)
KURIGRAM, JAMALPUR = "BD5549", "BD4539"
CHILMARI = "BD55490911"  # a union of Kurigram
ACCOUNTS = [
    ("officer.kurigram", "officer", [KURIGRAM]),
    ("dc.kurigram", "district_admin", [KURIGRAM]),
    ("dc.jamalpur", "district_admin", [JAMALPUR]),
    ("officer.national", "officer", []),
    ("committee.a", "committee", []),
    ("admin", "admin", []),
]
NAME, PHONE = "Rahima Khatun", "01712345678"
PASSWORD = "a long test password"


def beneficiary(i: int, household: str, **kw: object) -> Beneficiary:
    data: dict[str, object] = dict(
        beneficiary_id=f"SYN-B{i:05d}",
        programme="old_age",
        household_id=household,
        nid=f"9999{i:06d}",
        name_en=f"Synthetic Person {i}",
        sex="female",
        birth_year=1950,
        disability=False,
        female_headed=True,
        pregnant_lactating=False,
        children_under5=0,
        char_resident=True,
        adm4_pcode=CHILMARI,
        ward="3",
        village="Old village",
        payment_channel="mfs",
        mfs_provider="bkash",
        wallet_number=f"0171{i:07d}",
        import_id=1,
        row_sha256="x" * 64,
        updated_at=T0,
    )
    data.update(kw)
    return Beneficiary(**data)


def seed(s: Store) -> Store:
    s.upgrade()
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
        session.add(
            RegistryImport(
                file_name="synthetic.csv",
                sha256="s" * 64,
                rows_total=3,
                rows_imported=3,
                imported_at=T0,
                imported_by="test",
                synthetic=True,
            )
        )
        session.flush()
        session.add_all(
            [
                beneficiary(1, "SYN-H00001"),
                beneficiary(2, "SYN-H00001", programme="widow", sex="female"),
                beneficiary(3, "SYN-H00002"),
            ]
        )
    return s


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = seed(Store(database_url))
    yield s
    s.dispose()


@pytest.fixture
def seeded_settings(settings: Settings) -> Settings:
    seed(Store(settings.database_url)).dispose()
    return settings
