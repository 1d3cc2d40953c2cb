"""Normalise and check one chunk of a registry extract, vectorised over the whole chunk.

`validate_chunk` returns the normalised rows that passed every check (with their row hash) and
one error per bad cell: the first defect found in a cell wins, so one mistake gives one error.
Reasons never contain the cell's value, only what is wrong with it (its length, its kind).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from agam.core.arrow_bytes import string_hashes, utf8_buffers
from agam.core.row_sha256 import hex_sha256
from agam.core.typed_text import CONTROL_CHARS
from allowances import normalise as nz
from allowances.cell_hygiene import unsafe_cells
from allowances.registry_read import RawChunk
from allowances.registry_schema import (
    CHANNELS,
    MFS_PROVIDERS,
    PROGRAMMES,
    SEXES,
    STORED,
    Aliases,
)

ID_PATTERN = r"[A-Za-z0-9\-_./]{1,64}"
REQUIRED = "required, empty"
FORMULA = (
    "formula-like cell (starts with = + - @, tab or CR, which a spreadsheet may run); "
    "type plain values"
)
NOT_DIGITS = "contains characters other than digits"
NOT_BOOL = "not a boolean (yes/no, true/false, 1/0, হ্যাঁ/না)"


@dataclass(frozen=True)
class Context:
    file_name: str
    union_codes: pa.Array
    aliases: Aliases
    max_year: int


@dataclass
class ChunkResult:
    valid: pa.Table  # STORED columns normalised + _index + row_sha256
    errors: list[tuple[np.ndarray, str, np.ndarray]]  # (record index, field, reasons)
    ids: pa.Table  # _index, beneficiary_id for every row that has one
    id_hashes: np.ndarray  # string_hashes of ids.beneficiary_id (repeats are found on these)
    synthetic_true: int = 0
    rows: int = 0


class _Checks:
    def __init__(self, chunk: RawChunk) -> None:
        self.n = len(chunk)
        self.index = chunk.index
        self.bad: dict[str, np.ndarray] = {}
        self.errors: list[tuple[np.ndarray, str, np.ndarray]] = []
        for positions, name, reason in chunk.bad_cells:
            mask = np.zeros(self.n, dtype=bool)
            mask[positions] = True
            self.flag(name, mask, reason)

    def is_bad(self, name: str) -> np.ndarray:
        return self.bad.setdefault(name, np.zeros(self.n, dtype=bool))

    def flag(
        self, name: str, mask: np.ndarray, reason: str | Callable[[np.ndarray], list[str]]
    ) -> None:
        """Record `reason` for the rows in `mask` whose cell is not already bad.

        `reason` is a text, or a function from the flagged positions to one text each (only
        called for flagged rows, so a clean chunk builds no per-row strings).
        """
        mask = mask & ~self.is_bad(name)
        if not mask.any():
            return
        self.bad[name] |= mask
        idx = np.flatnonzero(mask)
        texts = [reason] * len(idx) if isinstance(reason, str) else reason(idx)
        self.errors.append((self.index[idx], name, np.array(texts, dtype=object)))

    def row_bad(self) -> np.ndarray:
        out = np.zeros(self.n, dtype=bool)
        for mask in self.bad.values():
            out |= mask
        return out


def _length_reason(lens: np.ndarray, expected: str) -> Callable[[np.ndarray], list[str]]:
    return lambda idx: [f"{n} digits, expected {expected}" for n in lens[idx]]


def _digits(
    checks: _Checks, name: str, arr: pa.Array, allowed: tuple[int, ...], expected: str
) -> None:
    has = nz.present(arr)
    checks.flag(name, has & ~nz.matches(arr, "[0-9]+"), NOT_DIGITS)
    lens = nz.lengths(arr)
    checks.flag(name, has & ~np.isin(lens, allowed), _length_reason(lens, expected))


def _vocab(
    checks: _Checks, name: str, arr: pa.Array, mapping: dict[str, str], accepted: tuple[str, ...]
) -> pa.Array:
    codes, unknown = nz.lookup(arr, mapping)
    checks.flag(name, unknown, f"unknown label; accepted: {', '.join(accepted)} (or an alias)")
    return codes


def _required(checks: _Checks, name: str, arr: pa.Array, where: np.ndarray | None = None) -> None:
    missing = ~nz.present(arr)
    checks.flag(name, missing if where is None else missing & where, REQUIRED)


def _bool(checks: _Checks, name: str, raw: pa.Array, aliases: Aliases, required: bool) -> pa.Array:
    values, unknown = nz.lookup_bool(raw, aliases.codes("boolean"))
    checks.flag(name, unknown, NOT_BOOL)
    if required:
        _required(checks, name, values)
    return pc.fill_null(values, False)


def _int(checks: _Checks, name: str, raw: pa.Array, low: int, high: int) -> pa.Array:
    arr = nz.per_distinct(raw, lambda v: nz.clean_text(nz.ascii_digits(v)))
    _required(checks, name, arr)
    ok = nz.matches(arr, "[0-9]{1,4}")
    negative = nz.present(arr) & nz.matches(arr, "-[0-9]+")
    checks.flag(name, negative, f"a negative number, outside {low}–{high}")
    checks.flag(name, nz.present(arr) & ~ok, "not a whole number")
    safe = pc.if_else(pa.array(ok), arr, pa.scalar(None, pa.string())).cast(pa.int32())
    outside = nz.to_mask(pc.or_(pc.less(safe, low), pc.greater(safe, high)))
    checks.flag(name, outside, f"outside {low}–{high}")
    return safe


def _text(
    checks: _Checks, name: str, raw: pa.Array, limit: int, distinct: bool = False
) -> pa.Array:
    arr = nz.per_distinct(raw, nz.clean_text) if distinct else nz.clean_text(raw)
    lens = nz.lengths(arr)
    checks.flag(
        name, lens > limit, lambda idx: [f"{n} characters, at most {limit}" for n in lens[idx]]
    )
    return arr


WHOLE_NUMBERS = ("birth_year", "children_under5")
HEX_DIGEST_CHARS = 64  # a sha256 in hexadecimal


def _hygiene(checks: _Checks, name: str, arr: pa.Array) -> None:
    control, formula = unsafe_cells(
        arr, phone=name == "wallet_number", number=name in WHOLE_NUMBERS
    )
    if control.any():
        values = arr.to_pylist()

        def which(idx: np.ndarray) -> list[str]:
            found = (CONTROL_CHARS.search(values[i]) for i in idx)
            return [
                f"control character U+{ord(m.group()):04X}; remove it" if m else "control character"
                for m in found
            ]

        checks.flag(name, control, which)
    checks.flag(name, formula, FORMULA)


def validate_chunk(chunk: RawChunk, ctx: Context) -> ChunkResult:
    """Normalise, check and hash one chunk; see the module docstring of registry_schema."""
    n = len(chunk)
    checks = _Checks(chunk)
    raw = {name: chunk.columns.get(name, nz.blank(n)) for name in (*STORED, "synthetic")}
    for name, arr in chunk.columns.items():
        _hygiene(checks, name, arr)
    aliases = ctx.aliases
    out: dict[str, pa.Array] = {}

    for name in ("beneficiary_id", "household_id"):
        arr = nz.clean_text(nz.ascii_digits(raw[name]))
        _required(checks, name, arr)
        bad = nz.present(arr) & ~nz.matches(arr, ID_PATTERN)
        checks.flag(name, bad, "not an id: 1–64 of A–Z a–z 0–9 - _ . /")
        out[name] = arr
    out["programme"] = _vocab(
        checks, "programme", raw["programme"], aliases.codes("programme"), PROGRAMMES
    )
    _required(checks, "programme", out["programme"])

    out["nid"] = nz.digits_field(raw["nid"])
    _digits(checks, "nid", out["nid"], (10, 13, 17), "10, 13 or 17")
    out["birth_registration"] = nz.digits_field(raw["birth_registration"])
    _digits(checks, "birth_registration", out["birth_registration"], (17,), "17")
    neither = ~nz.present(out["nid"]) & ~nz.present(out["birth_registration"])
    checks.flag(
        "nid",
        neither & ~checks.is_bad("birth_registration"),
        "nid or birth_registration required, both empty",
    )

    out["name_en"] = _text(checks, "name_en", raw["name_en"], 128)
    out["name_bn"] = _text(checks, "name_bn", raw["name_bn"], 128)
    no_name = ~nz.present(out["name_en"]) & ~nz.present(out["name_bn"])
    checks.flag(
        "name_en", no_name & ~checks.is_bad("name_bn"), "name_en or name_bn required, both empty"
    )

    out["sex"] = _vocab(checks, "sex", raw["sex"], aliases.codes("sex"), SEXES)
    _required(checks, "sex", out["sex"])
    out["birth_year"] = _int(checks, "birth_year", raw["birth_year"], 1900, ctx.max_year)
    for name in ("disability", "female_headed", "pregnant_lactating"):
        out[name] = _bool(checks, name, raw[name], aliases, required=True)
    out["children_under5"] = _int(checks, "children_under5", raw["children_under5"], 0, 20)
    out["char_resident"] = _bool(checks, "char_resident", raw["char_resident"], aliases, False)

    pcode = nz.per_distinct(raw["adm4_pcode"], lambda v: pc.utf8_upper(nz.digits_field(v)))
    _required(checks, "adm4_pcode", pcode)
    known = nz.per_distinct(pcode, lambda v: pc.is_in(v, value_set=ctx.union_codes))
    unknown = nz.present(pcode) & ~nz.to_mask(known)
    checks.flag("adm4_pcode", unknown, "unknown union code (not in the union layer)")
    out["adm4_pcode"] = pcode
    out["ward"] = _text(checks, "ward", nz.ascii_digits(raw["ward"]), 16, distinct=True)
    out["village"] = _text(checks, "village", raw["village"], 128, distinct=True)

    channel = _vocab(
        checks,
        "payment_channel",
        raw["payment_channel"],
        aliases.codes("payment_channel"),
        CHANNELS,
    )
    _required(checks, "payment_channel", channel)
    out["payment_channel"] = channel
    is_mfs, is_bank, is_post = (nz.to_mask(pc.equal(channel, c)) for c in CHANNELS)
    _channel_fields(checks, raw, out, aliases, is_mfs, is_bank, is_post)

    synthetic = _bool(checks, "synthetic", raw["synthetic"], aliases, False)
    row_bad = checks.row_bad()
    ids = pa.table({"_index": chunk.index, "beneficiary_id": out["beneficiary_id"]}).filter(
        nz.present(out["beneficiary_id"])
    )
    good = pa.array(~row_bad)
    valid = pa.table({name: out[name] for name in STORED}).filter(good)
    valid = valid.append_column("_index", pa.array(chunk.index[~row_bad]))
    valid = valid.append_column("row_sha256", row_hashes(valid))
    return ChunkResult(
        valid=valid,
        errors=checks.errors,
        ids=ids,
        id_hashes=string_hashes(ids.column("beneficiary_id")),
        synthetic_true=int(nz.to_mask(synthetic).sum()),
        rows=n,
    )


def _channel_fields(
    checks: _Checks,
    raw: dict[str, pa.Array],
    out: dict[str, pa.Array],
    aliases: Aliases,
    is_mfs: np.ndarray,
    is_bank: np.ndarray,
    is_post: np.ndarray,
) -> None:
    """Fields of the row's own payment channel are checked and kept; others are dropped."""
    null = pa.scalar(None, pa.string())

    def only(arr: pa.Array, mask: np.ndarray) -> pa.Array:
        return pc.if_else(pa.array(mask), arr, null)

    provider = only(raw["mfs_provider"], is_mfs)
    codes = _vocab(checks, "mfs_provider", provider, aliases.codes("mfs_provider"), MFS_PROVIDERS)
    _required(checks, "mfs_provider", codes, is_mfs)
    out["mfs_provider"] = codes

    wallet = nz.phone_field(only(raw["wallet_number"], is_mfs))
    _required(checks, "wallet_number", wallet, is_mfs)
    _digits(checks, "wallet_number", wallet, (11,), "11")
    foreign = nz.present(wallet) & ~nz.matches(wallet, "01[3-9][0-9]{8}")
    checks.flag("wallet_number", foreign, "not a Bangladesh mobile number (01[3-9]XXXXXXXX)")
    out["wallet_number"] = wallet

    account = nz.digits_field(only(raw["bank_account"], is_bank))
    _required(checks, "bank_account", account, is_bank)
    _digits(checks, "bank_account", account, tuple(range(6, 21)), "6 to 20")
    out["bank_account"] = account
    routing = nz.digits_field(only(raw["routing_number"], is_bank))
    _required(checks, "routing_number", routing, is_bank)
    _digits(checks, "routing_number", routing, (9,), "9")
    out["routing_number"] = routing

    office = nz.clean_text(nz.ascii_digits(only(raw["post_office_code"], is_post)))
    _required(checks, "post_office_code", office, is_post)
    bad_office = nz.present(office) & ~nz.matches(office, r"[A-Za-z0-9\-]{1,16}")
    checks.flag("post_office_code", bad_office, "not an office code: 1–16 of A–Z a–z 0–9 -")
    out["post_office_code"] = office


def row_hashes(table: pa.Table) -> pa.Array:
    """sha256 (hex) over the normalised stored fields (unit separator between, null as
    empty), hashing each row's UTF-8 bytes straight from the Arrow buffer."""
    n = table.num_rows
    if n == 0:
        return pa.array([], pa.string())
    parts = [table.column(name).cast(pa.string()) for name in STORED]
    joined = pc.binary_join_element_wise(
        *parts, "\x1f", null_handling="replace", null_replacement=""
    )
    ends, data = utf8_buffers(joined)
    hexed = hex_sha256(np.frombuffer(ends, dtype=np.int64), data)
    offsets = np.arange(0, HEX_DIGEST_CHARS * (n + 1), HEX_DIGEST_CHARS, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(hexed)])


def validate_all(
    chunks: Iterator[RawChunk], ctx: Context, workers: int | None = None
) -> Iterator[ChunkResult]:
    """`validate_chunk` over the chunks, in order, on a few threads: Arrow's kernels release
    the GIL, so one chunk is checked while the next is read and another hashed. At most
    `workers` + 1 chunks are held at once."""
    workers = workers or min(os.cpu_count() or 1, 4)
    if workers == 1:
        yield from (validate_chunk(c, ctx) for c in chunks)
        return
    with ThreadPoolExecutor(workers, thread_name_prefix="registry-check") as pool:
        pending: deque[Future[ChunkResult]] = deque()
        for chunk in chunks:
            pending.append(pool.submit(validate_chunk, chunk, ctx))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
