"""Synthetic beneficiary registries for demos, tests and benchmarks. Never real people.

`generate_registry` writes a registry extract in the import schema (registry_schema.py) for a
given number of households, spread over unions in proportion to their estimated population:
union area_km2 x the district's 2022 census density (BBS PHC 2022 via OCHA COD-PS, shipped in
allowances/data with its provenance). Programme shares and flag rates come from
data/synthetic_assumptions.toml, names from data/synthetic_names.toml.

Everything is marked as synthetic:
- a ``synthetic`` column, true on every row (the importer then records ``synthetic=True``);
- ids start ``SYN-`` (beneficiaries) and ``SYNH-`` (households);
- NIDs and birth registration numbers are 17 digits starting ``9999``, i.e. birth year 9999,
  which no real 17-digit number can have (``99990…`` NID, ``99991…`` birth registration);
- bank accounts start ``9999``. Wallet numbers cannot be marked (every 01[3-9] number can
  exist), so only the file and import labels tell them apart: never pay a synthetic list.

Generation streams in chunks (pyarrow ParquetWriter / CSVWriter); 10 M rows never sit in memory.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from agam.core.errors import RegistryError
from allowances.registry_schema import MFS_PROVIDERS, PROGRAMMES
from boundaries.layer import UnionLayer

log = logging.getLogger(__name__)

POPULATION_FILE = "bgd_admpop_adm2_2022.csv"
CHUNK_HOUSEHOLDS = 250_000
_WALLET_STEP = 48_271_003  # coprime with 10**8: distinct counters give distinct wallet tails


@dataclass(frozen=True)
class GeneratedRegistry:
    path: Path
    households: int
    rows: int
    seed: int
    format: str


def _data(name: str) -> Any:
    return resources.files("allowances").joinpath("data", name)


@cache
def assumptions() -> dict[str, Any]:
    return tomllib.loads(_data("synthetic_assumptions.toml").read_text("utf-8"))


@cache
def _names() -> dict[str, Any]:
    return tomllib.loads(_data("synthetic_names.toml").read_text("utf-8"))


def district_population() -> pd.Series:
    """Population 2022 (T_TL) by ADM2 P-code, from the shipped COD-PS table."""
    with _data(POPULATION_FILE).open("rb") as handle:
        frame = pd.read_csv(handle, encoding="utf-8-sig", dtype={"ADM2_PCODE": str})
    population: pd.Series = frame.set_index("ADM2_PCODE")["T_TL"].astype("float64")
    return population


def union_weights(union_layer: UnionLayer) -> pd.DataFrame:
    """adm4_pcode, adm2_pcode, estimated population and weight (sums to 1) per union."""
    frame = union_layer.frame[["adm4_pcode", "adm2_pcode", "area_km2"]].copy()
    area = frame["area_km2"].astype("float64").clip(lower=0.01)
    district_area = area.groupby(frame["adm2_pcode"]).transform("sum")
    pop = frame["adm2_pcode"].map(district_population())
    national_density = float(pop.dropna().groupby(frame["adm2_pcode"]).first().sum()) / float(
        area.sum()
    )
    density = (pop / district_area).fillna(national_density)
    frame["population"] = area * density
    frame["weight"] = frame["population"] / frame["population"].sum()
    out: pd.DataFrame = frame.reset_index(drop=True)
    return out


def _pick(
    rng: np.random.Generator, shares: dict[str, float], keys: tuple[str, ...], n: int
) -> np.ndarray:
    p = np.array([float(shares.get(k, 0.0)) for k in keys])
    return rng.choice(len(keys), size=n, p=p / p.sum())


def _text(values: np.ndarray | list[str]) -> pa.Array:
    return pa.array(values, pa.string())


def _padded(numbers: np.ndarray, width: int, prefix: str) -> pa.Array:
    digits = pc.utf8_lpad(pa.array(numbers, pa.int64()).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _chunk(
    rng: np.random.Generator,
    hh_start: int,
    n_hh: int,
    person_start: int,
    unions: pd.DataFrame,
    year: int,
) -> pa.Table:
    a = assumptions()
    hh = a["household"]
    union_idx = rng.choice(len(unions), size=n_hh, p=unions["weight"].to_numpy())
    caseload = a["caseload_millions"]
    primary = _pick(rng, caseload, PROGRAMMES, n_hh)
    second = rng.random(n_hh) < hh["second_member"]
    other = (primary[second] + rng.integers(1, len(PROGRAMMES), int(second.sum()))) % len(
        PROGRAMMES
    )
    owner = np.concatenate([np.arange(n_hh), np.flatnonzero(second)])  # household of each row
    programme = np.concatenate([primary, other])
    n = len(owner)
    names = np.array(PROGRAMMES)[programme]

    female_share = np.array([a["programme"][p]["female_share"] for p in PROGRAMMES])
    female = rng.random(n) < female_share[programme]
    lo = np.array(
        [
            [a["programme"][p]["min_age_male"], a["programme"][p]["min_age_female"]]
            for p in PROGRAMMES
        ]
    )
    hi = np.array([a["programme"][p]["max_age"] for p in PROGRAMMES])
    low = lo[programme, female.astype(int)]
    age = low + (rng.beta(1.3, 2.2, n) * (hi[programme] - low + 1)).astype(int)

    fh_rate = np.full(n_hh, hh["female_headed"])
    fh_rate[primary == PROGRAMMES.index("widow")] = hh["female_headed_widow"]
    fh_rate[primary == PROGRAMMES.index("vwb")] = hh["female_headed_vwb"]
    female_headed = (rng.random(n_hh) < fh_rate)[owner]
    kids = rng.poisson(hh["children_under5_mean"], n_hh)
    kids = np.where(primary == PROGRAMMES.index("mcbp"), np.maximum(kids, 1), kids)[owner]
    disability = (names == "disability") | (rng.random(n) < hh["disability_other"])
    fertile = female & (age >= 18) & (age <= 45)
    plw = (names == "mcbp") | (fertile & (rng.random(n) < hh["pregnant_lactating_women"]))
    char_rate = unions["adm2_pcode"].map(a["char"]["districts"]).fillna(a["char"]["elsewhere"])
    char = (rng.random(n_hh) < char_rate.to_numpy()[union_idx])[owner]

    person = person_start + np.arange(n)
    adult = age >= 18
    nid = pc.if_else(pa.array(adult), _padded(person, 12, "99990"), pa.scalar(None, pa.string()))
    brn = pc.if_else(pa.array(adult), pa.scalar(None, pa.string()), _padded(person, 12, "99991"))
    n_first = n_hh
    same_nid = np.zeros(n, dtype=bool)
    same_nid[n_first:] = rng.random(n - n_first) < a["duplicates"]["same_nid"]
    same_nid &= adult & adult[owner]
    if same_nid.any():
        source = np.where(same_nid, owner, np.arange(n))  # a household's first row is its index
        nid = pc.take(nid, pa.array(source))
    name_parts = _names()
    first_f, first_m, last = (np.array(name_parts[k]) for k in ("female", "male", "surname"))
    fi = rng.integers(0, len(first_f), n)
    mi = rng.integers(0, len(first_m), n)
    li = rng.integers(0, len(last), n)
    given_en = np.where(female, first_f[fi, 0], first_m[mi, 0])
    given_bn = np.where(female, first_f[fi, 1], first_m[mi, 1])
    name_en = pc.binary_join_element_wise(_text(given_en), _text(last[li, 0]), " ")
    name_bn = pc.binary_join_element_wise(_text(given_bn), _text(last[li, 1]), " ")

    channel = np.array(["mfs", "bank", "post"])[
        _pick(rng, a["channel"], ("mfs", "bank", "post"), n)
    ]
    provider = np.array(MFS_PROVIDERS)[_pick(rng, a["mfs_provider"], MFS_PROVIDERS, n)]
    tails = (person * _WALLET_STEP) % 10**8
    operator = rng.integers(3, 10, n)
    wallet_num = 10**9 + operator * 10**8 + tails
    shared = np.zeros(n, dtype=bool)
    shared[n_first:] = rng.random(n - n_first) < a["duplicates"]["shared_wallet"]
    wallet_num = np.where(shared, wallet_num[np.where(shared, owner, np.arange(n))], wallet_num)
    is_mfs, is_bank, is_post = (channel == c for c in ("mfs", "bank", "post"))
    none = pa.scalar(None, pa.string())

    def only(mask: np.ndarray, values: pa.Array) -> pa.Array:
        return pc.if_else(pa.array(mask), values, none)

    return pa.table(
        {
            "beneficiary_id": _padded(person, 10, "SYN-"),
            "programme": _text(names),
            "household_id": _padded(hh_start + owner, 9, "SYNH-"),
            "nid": nid,
            "birth_registration": brn,
            "name_en": name_en,
            "name_bn": name_bn,
            "sex": _text(np.where(female, "female", "male")),
            "birth_year": pa.array(year - age, pa.int32()),
            "disability": pa.array(disability),
            "female_headed": pa.array(female_headed),
            "pregnant_lactating": pa.array(plw),
            "children_under5": pa.array(kids, pa.int32()),
            "char_resident": pa.array(char),
            "adm4_pcode": _text(unions["adm4_pcode"].to_numpy()[union_idx][owner]),
            "ward": pa.array(rng.integers(1, 10, n_hh)[owner], pa.int32()).cast(pa.string()),
            "village": _padded(rng.integers(1, 40, n_hh)[owner], 2, "Gram "),
            "payment_channel": _text(channel),
            "mfs_provider": only(is_mfs, _text(provider)),
            "wallet_number": only(is_mfs, _padded(wallet_num, 10, "0")),
            "bank_account": only(is_bank, _padded(person, 9, "9999")),
            "routing_number": only(is_bank, _padded(rng.integers(10**8, 10**9, n), 9, "")),
            "post_office_code": only(is_post, _padded(rng.integers(1000, 9500, n), 4, "")),
            "synthetic": pa.array(np.ones(n, dtype=bool)),
        }
    )


def _refuse_beyond_limits(households: int, fmt: str, folder: Path) -> None:
    limits = assumptions()["limits"]
    most = int(limits["max_households"])
    if households > most:
        raise RegistryError(
            f"{households:,} households is more than {most:,} (Bangladesh has about 41 M; "
            "the limit is in synthetic_assumptions.toml)"
        )
    needed = households * int(limits[f"{fmt}_bytes_per_household"])
    free = shutil.disk_usage(folder).free
    if needed > free:
        raise RegistryError(
            f"{households:,} households as {fmt} need about {_size(needed)}; "
            f"{folder} has {_size(free)} free"
        )


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 1e9:.1f} GB" if n_bytes >= 1e9 else f"{n_bytes / 1e6:.0f} MB"


def generate_registry(
    union_layer: UnionLayer,
    households: int,
    seed: int,
    out: Path,
    *,
    fmt: Literal["parquet", "csv"] = "parquet",
    year: int = 2025,
    chunk_households: int = CHUNK_HOUSEHOLDS,
) -> GeneratedRegistry:
    """Write a synthetic registry of `households` households (about 1.1 rows each) to `out`.

    Deterministic for a given (layer, households, seed, year, chunk_households). The file is
    written to a temporary name and renamed, so a crash never leaves half a registry behind.
    """
    if households <= 0:
        raise RegistryError("households must be a positive number")
    out.parent.mkdir(parents=True, exist_ok=True)
    _refuse_beyond_limits(households, fmt, out.parent)
    rng = np.random.default_rng(seed)
    unions = union_weights(union_layer)
    fd, name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    writer: pq.ParquetWriter | pcsv.CSVWriter | None = None
    rows = person = 0
    try:
        for start in range(0, households, chunk_households):
            n_hh = min(chunk_households, households - start)
            table = _chunk(rng, start, n_hh, person, unions, year)
            if writer is None:
                writer = (
                    pq.ParquetWriter(tmp, table.schema, compression="zstd")
                    if fmt == "parquet"
                    else pcsv.CSVWriter(tmp, table.schema)
                )
            writer.write_table(table)
            rows += table.num_rows
            person += table.num_rows
        if writer is not None:
            writer.close()
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("wrote synthetic registry %s: %d households, %d rows", out, households, rows)
    return GeneratedRegistry(out, households, rows, seed, fmt)
