"""The beneficiary registry, its imports, history, quarantine and exposure counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base


class RegistryImport(Base):
    __tablename__ = "registry_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    rows_total: Mapped[int] = mapped_column(Integer)
    rows_imported: Mapped[int] = mapped_column(Integer)
    rows_quarantined: Mapped[int] = mapped_column(Integer, default=0)
    imported_at: Mapped[datetime]
    imported_by: Mapped[str] = mapped_column(String(64))
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Beneficiary(Base):
    """Current row per beneficiary id; older versions move to beneficiary_history."""

    __tablename__ = "beneficiaries"
    # PostgreSQL: room on each page for a refresh's new versions (migration 0021)
    __table_args__ = ({"postgresql_with": {"fillfactor": 90}},)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    beneficiary_id: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    programme: Mapped[str] = mapped_column(String(32))  # no index: nothing looks it up
    household_id: Mapped[str] = mapped_column(String(64), index=True)
    nid: Mapped[str | None] = mapped_column(String(17), index=True)
    birth_registration: Mapped[str | None] = mapped_column(String(17))
    name_en: Mapped[str | None] = mapped_column(String(128))
    name_bn: Mapped[str | None] = mapped_column(String(128))
    sex: Mapped[str] = mapped_column(String(8))
    birth_year: Mapped[int] = mapped_column(Integer)
    disability: Mapped[bool] = mapped_column(Boolean, default=False)
    female_headed: Mapped[bool] = mapped_column(Boolean, default=False)
    pregnant_lactating: Mapped[bool] = mapped_column(Boolean, default=False)
    children_under5: Mapped[int] = mapped_column(Integer, default=0)
    char_resident: Mapped[bool] = mapped_column(Boolean, default=False)
    adm4_pcode: Mapped[str] = mapped_column(String(16), index=True)
    ward: Mapped[str | None] = mapped_column(String(16))
    village: Mapped[str | None] = mapped_column(String(128))
    payment_channel: Mapped[str] = mapped_column(String(16))  # mfs|bank|post
    mfs_provider: Mapped[str | None] = mapped_column(String(16))
    wallet_number: Mapped[str | None] = mapped_column(String(11), index=True)
    bank_account: Mapped[str | None] = mapped_column(String(32))
    routing_number: Mapped[str | None] = mapped_column(String(9))
    post_office_code: Mapped[str | None] = mapped_column(String(16))
    import_id: Mapped[int] = mapped_column(ForeignKey("registry_imports.id"))
    row_sha256: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class BeneficiaryHistory(Base):
    __tablename__ = "beneficiary_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[str] = mapped_column(String(64), index=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("registry_imports.id"))
    superseded_at: Mapped[datetime]
    record: Mapped[dict[str, Any]] = mapped_column(default=dict)


class RegistryQuarantine(Base):
    """A row left out of a quarantine-mode import: where and why, never the row's values."""

    __tablename__ = "registry_quarantine"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("registry_imports.id"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)


class UnionExposure(Base):
    """Households and beneficiaries per union and programme ('all' = any programme).

    Recomputed from beneficiaries after every registry import. Flag columns count households
    with at least one member having the flag; elderly means age >= 65 in `as_of_year`.
    """

    __tablename__ = "union_exposure"
    __table_args__ = (UniqueConstraint("adm4_pcode", "programme", name="union_programme"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    adm4_pcode: Mapped[str] = mapped_column(String(16), index=True)
    programme: Mapped[str] = mapped_column(String(32))
    households: Mapped[int] = mapped_column(Integer)
    beneficiaries: Mapped[int] = mapped_column(Integer)
    households_female_headed: Mapped[int] = mapped_column(Integer)
    households_disability: Mapped[int] = mapped_column(Integer)
    households_elderly: Mapped[int] = mapped_column(Integer)
    households_pregnant_lactating: Mapped[int] = mapped_column(Integer)
    households_children_under5: Mapped[int] = mapped_column(Integer)
    households_char_resident: Mapped[int] = mapped_column(Integer)
    as_of_year: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime]
    source_import_ids: Mapped[list[Any]] = mapped_column(default=list)


class RegistryEdits(Base):
    """One row: how many changes to beneficiaries were made outside an import (an UPDATE
    that keeps `import_id`, or a DELETE), counted up by database triggers (0026), so
    `store.frames.registry_version` moves with them as with an import."""

    __tablename__ = "registry_edits"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    edits: Mapped[int] = mapped_column(BigInteger)
