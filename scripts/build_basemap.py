"""Build the offline basemap: the countries around Bangladesh, from Natural Earth.

Source: npm package world-atlas 2.0.2 (`countries-50m.json`, TopoJSON of Natural Earth
1:50m Admin 0 countries; Natural Earth is public domain, world-atlas is ISC):

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python scripts/build_basemap.py package/countries-50m.json

Writes dashboard/static/basemap/neighbours.json: every country but Bangladesh (drawn from
the union layer itself) clipped to the map's box, 3 decimals (about 100 m).
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import shapely

BOX = (84.0, 18.0, 96.5, 30.0)  # W, S, E, N around Bangladesh (88.0-92.7 E, 20.6-26.6 N)
TARGET = (
    Path(__file__).resolve().parents[1] / "dashboard" / "static" / "basemap" / "neighbours.json"
)


def main(source: Path) -> None:
    countries = gpd.read_file(source, layer="countries").set_crs(4326, allow_override=True)
    near = countries[(countries["name"] != "Bangladesh") & countries.intersects(shapely.box(*BOX))]
    clipped = near.clip(shapely.box(*BOX))
    clipped["geometry"] = shapely.set_precision(clipped.geometry.to_numpy(), 0.001)
    out = clipped[~clipped.geometry.is_empty][["name", "geometry"]].sort_values("name")
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    out.to_file(TARGET, driver="GeoJSON", COORDINATE_PRECISION=3, RFC7946="YES")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
