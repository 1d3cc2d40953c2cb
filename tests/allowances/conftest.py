"""Registry fixtures: a migrated SQLite store, the defect file, and a store snapshot."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from store.db import Store

REGISTRY_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "registry"
SNAPSHOT_TABLES = (
    "registry_imports",
    "beneficiaries",
    "beneficiary_history",
    "registry_quarantine",
    "union_exposure",
    "audit_log",
)
HEADER = (
    "beneficiary_id,programme,household_id,nid,birth_registration,name_en,name_bn,sex,"
    "birth_year,disability,female_headed,pregnant_lactating,children_under5,char_resident,"
    "adm4_pcode,ward,village,payment_channel,mfs_provider,wallet_number,bank_account,"
    "routing_number,post_office_code"
)


def exposure_table(store: Store) -> pd.DataFrame:
    """union_exposure in a fixed order, without its ids and when/from what it was computed."""
    with store.engine.connect() as conn:
        query = text("SELECT * FROM union_exposure ORDER BY adm4_pcode, programme")
        frame = pd.read_sql(query, conn)
    return frame.drop(columns=["id", "computed_at", "source_import_ids"])


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'agam.sqlite3'}")
    s.upgrade()
    return s


@pytest.fixture
def defects_csv() -> Path:
    return REGISTRY_FIXTURES / "defects.csv"


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[[str, list[str]], Path]:
    """Write rows (CSV lines without header) to tmp_path/name with the schema header."""

    def write(name: str, rows: list[str]) -> Path:
        path = tmp_path / name
        path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
        return path

    return write


@pytest.fixture
def snapshot() -> Callable[[Store], dict[str, tuple[int, str]]]:
    """Row count and a checksum of every row, per registry table."""

    def take(s: Store) -> dict[str, tuple[int, str]]:
        out = {}
        with s.engine.connect() as conn:
            for table in SNAPSHOT_TABLES:
                rows = conn.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()
                digest = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
                out[table] = (len(rows), digest)
        return out

    return take


BASE_ROW = {
    "beneficiary_id": "R001",
    "programme": "old_age",
    "household_id": "HH001",
    "nid": "1990123456789",
    "birth_registration": "",
    "name_en": "Test Person",
    "name_bn": "",
    "sex": "female",
    "birth_year": "1950",
    "disability": "no",
    "female_headed": "yes",
    "pregnant_lactating": "no",
    "children_under5": "0",
    "char_resident": "",
    "adm4_pcode": "BD55490911",
    "ward": "1",
    "village": "",
    "payment_channel": "mfs",
    "mfs_provider": "bkash",
    "wallet_number": "01711000001",
    "bank_account": "",
    "routing_number": "",
    "post_office_code": "",
}


@pytest.fixture
def make_row() -> Callable[..., str]:
    """One CSV line: the base row with fields overridden by keyword."""

    def row(**fields: str) -> str:
        data = {**BASE_ROW, **fields}
        return ",".join(data[name] for name in HEADER.split(","))

    return row


@pytest.fixture
def header() -> list[str]:
    return HEADER.split(",")
