"""Column names of the union layer: one row per ADM4 P-code, EPSG:4326."""

from __future__ import annotations

LEVELS = (1, 2, 3, 4)
LEVEL_NAMES = {1: "division", 2: "district", 3: "upazila", 4: "union"}
STORAGE_CRS = "EPSG:4326"
DISTANCE_CRS = "EPSG:32646"  # UTM 46N, for distances in metres
EQUAL_AREA_CRS = "EPSG:6933"  # for areas in km²
# Rough envelope of Bangladesh with a margin: catches swapped or projected coordinates.
BANGLADESH_BOUNDS = (87.5, 20.0, 93.0, 27.0)


def pcode(level: int) -> str:
    return f"adm{level}_pcode"


def name_en(level: int) -> str:
    return f"adm{level}_en"


def name_bn(level: int) -> str:
    return f"adm{level}_bn"


UNION_COLUMNS = [
    col for level in (4, 3, 2, 1) for col in (pcode(level), name_en(level), name_bn(level))
] + ["area_km2", "geometry"]
