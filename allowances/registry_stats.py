"""Registry statistics for people and dashboards: aggregates only, never a personal value."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import func, select, true

from allowances.exposure import ALL_PROGRAMMES, exposure_by_union
from allowances.registry_write import find_duplicates
from boundaries.layer import UnionLayer
from store.db import Store
from store.models import Beneficiary, RegistryImport

FLAG_COLUMNS = {
    "female_headed": "households_female_headed",
    "disability": "households_disability",
    "elderly": "households_elderly",
    "pregnant_lactating": "households_pregnant_lactating",
    "children_under5": "households_children_under5",
    "char_resident": "households_char_resident",
}


def registry_stats(store: Store, union_layer: UnionLayer | None = None) -> dict[str, Any]:
    """Counts by programme, district and flag, duplicates and the synthetic share.

    Flag counts are households with at least one member having the flag, from union_exposure
    (elderly as of its ``as_of_year``). District names come from the union layer when given.
    """
    b = Beneficiary
    with store.engine.connect() as conn:
        total = int(conn.scalar(select(func.count()).select_from(b)) or 0)
        households = int(conn.scalar(select(func.count(b.household_id.distinct()))) or 0)
        synthetic_rows = int(
            conn.scalar(
                select(func.count())
                .select_from(b)
                .join(RegistryImport, RegistryImport.id == b.import_id)
                .where(RegistryImport.synthetic == true())
            )
            or 0
        )
        imports = int(conn.scalar(select(func.count()).select_from(RegistryImport)) or 0)
        duplicates = find_duplicates(conn, limit=0).counts
    # every union_exposure row (each import keeps them in its transaction): per union over
    # all programmes, and per programme, which gives the counts by programme
    every = exposure_by_union(store, programme=None)
    is_all = every["programme"] == ALL_PROGRAMMES
    exposure = every[is_all].reset_index(drop=True)
    per_programme = every[~is_all].groupby("programme")["beneficiaries"].sum().sort_index()
    by_programme = {str(p): int(n) for p, n in per_programme.items()}
    flags = {flag: int(exposure[col].sum()) for flag, col in FLAG_COLUMNS.items()}
    return {
        "beneficiaries": total,
        "households": households,
        "unions": len(exposure),
        "imports": imports,
        "by_programme": by_programme,
        "by_district": _by_district(exposure, union_layer),
        "flags_households": flags,
        "as_of_year": int(exposure["as_of_year"].max()) if len(exposure) else None,
        "duplicates": duplicates,
        "synthetic_share": synthetic_rows / total if total else 0.0,
    }


def _by_district(exposure: pd.DataFrame, union_layer: UnionLayer | None) -> list[dict[str, Any]]:
    if exposure.empty:
        return []
    frame = exposure[["adm4_pcode", "beneficiaries", "households"]].copy()
    names: dict[str, str] = {}
    if union_layer is not None:
        units = union_layer.frame[["adm4_pcode", "adm2_pcode", "adm2_en"]]
        parents = units.set_index("adm4_pcode")["adm2_pcode"]
        frame["adm2_pcode"] = frame["adm4_pcode"].map(parents)
        names = dict(zip(units["adm2_pcode"], units["adm2_en"], strict=True))
    frame["adm2_pcode"] = frame.get("adm2_pcode", frame["adm4_pcode"].str[:6]).fillna(
        frame["adm4_pcode"].str[:6]
    )
    grouped = frame.groupby("adm2_pcode", sort=True)[["beneficiaries", "households"]].sum()
    return [
        {
            "adm2_pcode": str(code),
            "name": names.get(str(code), ""),
            "beneficiaries": int(row["beneficiaries"]),
            "households": int(row["households"]),
        }
        for code, row in grouped.iterrows()
    ]
