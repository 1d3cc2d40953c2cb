"""The union layer as the trigger engine sees it (triggers.results.UnionContext)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from affine import Affine

from boundaries.crosswalk import adm3_to_2020
from boundaries.layer import UnionLayer
from boundaries.overlay import DistanceMeasure, distance_to_boundary_km, footprint_shares
from boundaries.zonal import build_zone_index, zonal_stats


class LayerUnionContext:
    def __init__(self, layer: UnionLayer) -> None:
        self.layer = layer
        self.frame = layer.frame

    def district_unions(
        self, district_pcodes: Sequence[str], upazila_pcodes: Sequence[str] = ()
    ) -> list[str]:
        return self.unions_of(district_pcodes, upazila_pcodes)

    def union_names(self, pcodes: Sequence[str]) -> Mapping[str, str]:
        wanted = self.frame[self.frame["adm4_pcode"].isin(set(pcodes))]
        return {
            str(k): str(v) for k, v in zip(wanted["adm4_pcode"], wanted["adm4_en"], strict=True)
        }

    def district_names(self, pcodes: Sequence[str]) -> dict[str, str]:
        wanted = self.frame[self.frame["adm2_pcode"].isin(set(pcodes))].drop_duplicates(
            "adm2_pcode"
        )
        return {
            str(k): str(v) for k, v in zip(wanted["adm2_pcode"], wanted["adm2_en"], strict=True)
        }

    def unions_of(self, districts: Sequence[str], upazilas: Sequence[str]) -> list[str]:
        """Unions of the listed upazilas (either P-code scheme) within the districts, or of
        the whole districts when no upazila is listed."""
        if upazilas:
            codes = [adm3_to_2020(code) for code in upazilas]
            codes = [c for c in codes if any(c.startswith(d) for d in districts)]
        else:
            codes = list(districts)
        return sorted(self.layer.unions_in(codes)["adm4_pcode"])

    def _subset(self, pcodes: Sequence[str]) -> Any:
        return self.frame[self.frame["adm4_pcode"].isin(set(pcodes))]

    def distance_to_boundary_km(
        self,
        lon: float,
        lat: float,
        pcodes: Sequence[str],
        measure: DistanceMeasure = "boundary_line",
    ) -> Mapping[str, float]:
        distance = distance_to_boundary_km(self._subset(pcodes), lon, lat, measure)
        return {str(k): float(v) for k, v in distance.items()}

    def raster_share(
        self,
        grid: Any,
        pcodes: Sequence[str],
        variable: str,
        value: float,
        comparison: Literal["gt", "ge"],
    ) -> Mapping[str, float]:
        """Share of each union's valid cells above (gt) or at least (ge) `value`."""
        values = np.asarray(grid[variable].isel(valid_time=0).values, dtype="float64")
        index = build_zone_index(
            self._subset(pcodes), values.shape, Affine(*grid.attrs["transform"]), grid.attrs["crs"]
        )
        # zonal_stats counts cells strictly above its threshold; "at least" is the next float
        # below the value.
        cut = value if comparison == "gt" else float(np.nextafter(value, -np.inf))
        stats = zonal_stats(index, values, threshold=cut)
        return {str(k): float(v) for k, v in stats["frac_above"].items()}

    def footprint_shares(
        self, footprints: Any, pcodes: Sequence[str], min_wind_kmh: float
    ) -> Mapping[str, float]:
        if footprints is None or len(footprints) == 0:
            return {}
        bands = footprints[
            footprints["kind"].isin(["wind_band", "wind_swath"])
            & (footprints["wind_kmh"] >= min_wind_kmh)
        ]
        shares = footprint_shares(self._subset(pcodes), bands)
        best = shares.groupby("adm4_pcode")["share_of_union_area"].max()
        return {str(k): float(v) for k, v in best.items()}
