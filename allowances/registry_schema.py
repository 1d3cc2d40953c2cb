"""The beneficiary registry extract: fields, accepted labels and the import report.

An extract is a table (CSV in UTF-8, XLSX, or Parquet) with one row per beneficiary. Every cell is
read as text; identifiers are never turned into numbers, so leading zeros survive. Before any
check or comparison, cells are normalised: Unicode NFC, surrounding white space trimmed, Bangla
digits (০–৯, U+09E6–U+09EF) turned into ASCII digits in the numeric fields, and spaces, dashes,
dots and brackets removed from identifiers. Wallet numbers also lose a ``+88``/``88``/``0088``
country prefix. An empty cell is a missing value.

Fields (``docs/registry-schema.md`` has the same table for people who never read code):

==================  ========  ====================================================================
field               required  rule
==================  ========  ====================================================================
beneficiary_id      yes       programme MIS id; 1–64 of ``A–Z a–z 0–9 - _ . /``; unique in a file
programme           yes       old_age, widow, disability, mcbp, vwb, other (labels: data/aliases)
household_id        yes       1–64 of ``A–Z a–z 0–9 - _ . /``
nid                 one of    NID, 10, 13 or 17 digits
birth_registration  one of    birth registration number, 17 digits
name_en             one of    name in English, ≤ 128 characters
name_bn             one of    name in Bangla, ≤ 128 characters
sex                 yes       female, male, other
birth_year          yes       four digits, 1900 … the import year
disability          yes       boolean
female_headed       yes       boolean
pregnant_lactating  yes       boolean
children_under5     yes       whole number 0–20
char_resident       no        boolean, default false
adm4_pcode          yes       union P-code present in the union layer (e.g. BD55490911)
ward                no        ≤ 16 characters
village             no        ≤ 128 characters
payment_channel     yes       mfs, bank, post
mfs_provider        if mfs    bkash, nagad, rocket, upay, other
wallet_number       if mfs    11 digits ``01[3-9]XXXXXXXX``
bank_account        if bank   6–20 digits
routing_number      if bank   9 digits (BEFTN: bank, district, branch)
post_office_code    if post   1–16 of ``A–Z a–z 0–9 -``
synthetic           no        boolean; a file is synthetic only if every row says true
==================  ========  ====================================================================

Booleans are yes/no, true/false, 1/0, y/n, হ্যাঁ/না. Fields of another payment channel (a bank
account on an MFS row) are dropped, not stored. Columns outside the schema are ignored and listed
in the report by name. Cells starting with ``=``, ``+``, ``-`` or ``@`` followed by formula-like
text (``=HYPERLINK(...)``) are refused in every column; a phone number ``+8801…`` is not a formula.

Row numbers are the ones a person sees: in CSV and XLSX the header is row 1, so the first
beneficiary is row 2; in Parquet the first record is row 1. Errors name file, row, field and
reason and never repeat the value, because values are personal data.
"""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

from agam.core.errors import RegistryError

PROGRAMMES = ("old_age", "widow", "disability", "mcbp", "vwb", "other")
SEXES = ("female", "male", "other")
CHANNELS = ("mfs", "bank", "post")
MFS_PROVIDERS = ("bkash", "nagad", "rocket", "upay", "other")
FLAGS = (
    "female_headed",
    "disability",
    "elderly",
    "pregnant_lactating",
    "children_under5",
    "char_resident",
)
ELDERLY_AGE_YEARS = 65


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: Literal["id", "code", "digits", "text", "bool", "int", "pcode"]
    required: str  # "yes", "no", "one of", "if mfs", …
    rule: str


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("beneficiary_id", "id", "yes", "programme MIS id; 1–64 of A–Z a–z 0–9 - _ . /"),
    FieldSpec("programme", "code", "yes", "old_age, widow, disability, mcbp, vwb, other"),
    FieldSpec("household_id", "id", "yes", "1–64 of A–Z a–z 0–9 - _ . /"),
    FieldSpec("nid", "digits", "one of", "NID: 10, 13 or 17 digits"),
    FieldSpec("birth_registration", "digits", "one of", "birth registration: 17 digits"),
    FieldSpec("name_en", "text", "one of", "name in English, ≤ 128 characters"),
    FieldSpec("name_bn", "text", "one of", "name in Bangla, ≤ 128 characters"),
    FieldSpec("sex", "code", "yes", "female, male, other"),
    FieldSpec("birth_year", "int", "yes", "four digits, 1900 … the import year"),
    FieldSpec("disability", "bool", "yes", "boolean"),
    FieldSpec("female_headed", "bool", "yes", "boolean"),
    FieldSpec("pregnant_lactating", "bool", "yes", "boolean"),
    FieldSpec("children_under5", "int", "yes", "whole number 0–20"),
    FieldSpec("char_resident", "bool", "no", "boolean, default false"),
    FieldSpec("adm4_pcode", "pcode", "yes", "union P-code present in the union layer"),
    FieldSpec("ward", "text", "no", "≤ 16 characters"),
    FieldSpec("village", "text", "no", "≤ 128 characters"),
    FieldSpec("payment_channel", "code", "yes", "mfs, bank, post"),
    FieldSpec("mfs_provider", "code", "if mfs", "bkash, nagad, rocket, upay, other"),
    FieldSpec("wallet_number", "digits", "if mfs", "11 digits 01[3-9]XXXXXXXX"),
    FieldSpec("bank_account", "digits", "if bank", "6–20 digits"),
    FieldSpec("routing_number", "digits", "if bank", "9 digits (bank, district, branch)"),
    FieldSpec("post_office_code", "code", "if post", "1–16 of A–Z a–z 0–9 -"),
    FieldSpec("synthetic", "bool", "no", "boolean; synthetic file only if every row is true"),
)
FIELD_NAMES = tuple(f.name for f in FIELDS)
# Stored columns (beneficiaries table), in order; `synthetic` is a property of the import.
STORED = tuple(n for n in FIELD_NAMES if n != "synthetic")
REQUIRED_COLUMNS = tuple(f.name for f in FIELDS if f.required == "yes")
ONE_OF_COLUMNS = (("nid", "birth_registration"), ("name_en", "name_bn"))


def schema_markdown() -> str:
    """The field table as Markdown (docs/registry-schema.md embeds it)."""
    rows = ["| field | required | rule |", "|---|---|---|"]
    rows += [f"| `{f.name}` | {f.required} | {f.rule} |" for f in FIELDS]
    return "\n".join(rows) + "\n"


def label_key(label: str) -> str:
    """How labels are compared: NFC, lower case, punctuation as spaces, single spaces."""
    text = unicodedata.normalize("NFC", label).casefold()
    for ch in "&/,.()-_'’":
        text = text.replace(ch, " ")
    return " ".join(text.split())


@dataclass(frozen=True)
class Aliases:
    """Accepted labels per vocabulary, keyed by `label_key`, from data/registry_aliases.toml."""

    vocab: dict[str, dict[str, str]]
    columns: dict[str, str]

    def codes(self, vocabulary: str) -> dict[str, str]:
        return self.vocab[vocabulary]


@cache
def load_aliases() -> Aliases:
    raw = tomllib.loads(
        resources.files("allowances").joinpath("data", "registry_aliases.toml").read_text("utf-8")
    )
    vocab: dict[str, dict[str, str]] = {}
    for name, table in raw.items():
        if name == "columns":
            continue
        mapping: dict[str, str] = {}
        for code, labels in table.items():
            for label in labels:
                key = label_key(str(label))
                if mapping.get(key, code) != code:
                    raise RegistryError(f"registry_aliases.toml [{name}]: label maps to two codes")
                mapping[key] = code
        vocab[name] = mapping
    columns = {
        header_key(alias): schema_name
        for schema_name, aliases in raw.get("columns", {}).items()
        for alias in aliases
    }
    return Aliases(vocab=vocab, columns=columns)


def header_key(header: str) -> str:
    text = unicodedata.normalize("NFC", header).replace("\ufeff", "").strip().lower()
    return "_".join(text.replace("-", " ").split())


@dataclass(frozen=True)
class RowError:
    """One defect: where it is and why, never the value itself."""

    file: str
    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file} row {self.row} field {self.field}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "row": self.row, "field": self.field, "reason": self.reason}


@dataclass(frozen=True)
class DuplicateGroup:
    """Records sharing one NID or wallet: ids, programmes and the masked identifier only."""

    kind: Literal["nid", "wallet"]
    masked: str
    records: tuple[tuple[str, str], ...]  # (beneficiary_id, programme): the first by id
    size: int  # records sharing the value (a placeholder NID may be on millions)
    cross_programme: bool  # of all of them, not only those listed

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "masked": self.masked,
            "cross_programme": self.cross_programme,
            "size": self.size,
            "records": [{"beneficiary_id": b, "programme": p} for b, p in self.records],
        }


Status = Literal["imported", "rejected", "already_imported", "dry_run"]


@dataclass(frozen=True)
class ImportReport:
    """What an import did (or, for a dry run, would do). Safe to log: no personal data."""

    file_name: str
    sha256: str
    status: Status
    import_id: int | None = None
    synthetic: bool = False
    total: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    errors: tuple[RowError, ...] = ()
    errors_total: int = 0
    duplicates: tuple[DuplicateGroup, ...] = ()
    duplicate_counts: dict[str, int] = field(default_factory=dict)
    ignored_columns: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status != "rejected"

    def to_dict(self, max_errors: int | None = None) -> dict[str, Any]:
        errors = self.errors if max_errors is None else self.errors[:max_errors]
        return {
            "file_name": self.file_name,
            "sha256": self.sha256,
            "status": self.status,
            "import_id": self.import_id,
            "synthetic": self.synthetic,
            "counts": {
                "total": self.total,
                "inserted": self.inserted,
                "updated": self.updated,
                "unchanged": self.unchanged,
                "quarantined": self.quarantined,
                "errors": self.errors_total,
            },
            "errors": [e.to_dict() for e in errors],
            "duplicates": {
                "counts": dict(self.duplicate_counts),
                "groups": [d.to_dict() for d in self.duplicates],
            },
            "ignored_columns": list(self.ignored_columns),
            "seconds": round(self.seconds, 3),
        }
