"""`agam boundaries …`: the national union layer."""

from __future__ import annotations

import math
import os
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from agam.cli.common import (
    ConfigOption,
    JsonOption,
    console,
    emit_json,
    handle_errors,
    settings_for,
)
from agam.core.errors import AgamError, NotFound
from agam.pipeline.context import AppContext
from boundaries.crosswalk import crosswalk_rows

app = typer.Typer(help="The national union (ADM4) layer.", no_args_is_help=True)


class ExportFormat(StrEnum):
    geojson = "geojson"
    gpkg = "gpkg"
    parquet = "parquet"


@app.command("info")
@handle_errors
def info(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Counts per level, source, version and which codes are official."""
    layer = AppContext(settings_for(config)).union_layer()
    data = layer.info()
    if as_json:
        emit_json(data)
        return
    src = data["source"]
    console.print(f"[bold]{src['name']}[/bold]\nversion {src['version']} · {src['path']}")
    table = Table("level", "units", "Bangla names")
    for level, count in data["counts"].items():
        table.add_row(level, f"{count:,}", f"{data['bangla_name_share'][level]:.0%}")
    console.print(table)
    console.print(
        f"{data['adm4_with_all_parents']:,} of {data['adm4_total']:,} unions have all three "
        f"parents · {data['area_km2_total']:,} km²"
    )


@app.command("find")
@handle_errors
def find(
    lon: Annotated[float, typer.Argument(help="longitude, degrees east")],
    lat: Annotated[float, typer.Argument(help="latitude, degrees north")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """The union containing a point, with its upazila, district and division."""
    context = AppContext(settings_for(config))
    hit = context.find_union(lon, lat) if _degrees(lon, lat) else None
    if hit is None:
        swapped = context.find_union(lat, lon) if _degrees(lat, lon) else None
        where = f"lon {lon}, lat {lat}"
        if swapped is not None:
            raise NotFound(
                f"no union at {where}; swapped, lon {lat}, lat {lon} is in "
                f"{swapped['adm4']['name_en']}, {swapped['adm2']['name_en']} (give lon first)"
            )
        for name, value, limit in (("lon", lon, 180), ("lat", lat, 90)):
            if not (math.isfinite(value) and abs(value) <= limit):
                raise typer.BadParameter(
                    f"{value} is not {-limit} to {limit} degrees", param_hint=name
                )
        raise NotFound(f"no union at {where} (outside Bangladesh's unions)")
    if as_json:
        emit_json(hit)
        return
    for level, label in (
        ("adm4", "union"),
        ("adm3", "upazila"),
        ("adm2", "district"),
        ("adm1", "division"),
    ):
        unit = hit[level]
        bn = f" ({unit['name_bn']})" if unit["name_bn"] else ""
        console.print(f"{label:9} {unit['pcode']:12} {unit['name_en']}{bn}", markup=False)


def _degrees(lon: float, lat: float) -> bool:
    """A point on the globe (NaN and infinities are not)."""
    return math.isfinite(lon) and math.isfinite(lat) and abs(lon) <= 180 and abs(lat) <= 90


@app.command("export")
@handle_errors
def export(
    out: Annotated[Path, typer.Argument(help="output file")],
    level: Annotated[int, typer.Option("--level", min=1, max=4, help="1 division … 4 union")] = 4,
    fmt: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.geojson,
    config: ConfigOption = None,
) -> None:
    """Write one level of the layer as GeoJSON (RFC 7946), GeoPackage or GeoParquet."""
    if out.is_dir():
        raise typer.BadParameter(f"{out} is a folder; give a file name", param_hint="OUT")
    units = AppContext(settings_for(config)).union_layer().units(level)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=f".{fmt.value}")
    os.close(fd)
    tmp = Path(name)
    try:
        if fmt is ExportFormat.parquet:
            units.to_parquet(tmp, compression="zstd")
        elif fmt is ExportFormat.gpkg:
            tmp.unlink()
            units.to_file(tmp, driver="GPKG", layer=f"agam_adm{level}", engine="pyogrio")
        else:
            tmp.unlink()
            units.to_file(tmp, driver="GeoJSON", engine="pyogrio", RFC7946="YES")
        os.replace(tmp, out)
    except AgamError:
        raise
    finally:
        tmp.unlink(missing_ok=True)
    console.print(f"wrote {len(units):,} level-{level} units to {out}", markup=False)


@app.command("crosswalk")
@handle_errors
def crosswalk(
    code: Annotated[str | None, typer.Argument(help="an ADM3 P-code of either scheme")] = None,
    as_json: JsonOption = False,
) -> None:
    """ADM3 P-codes: BBS 2020 (BD554909) <-> COD-AB 2025 (BD55490009)."""
    rows = [r.__dict__ for r in crosswalk_rows()]
    if code:
        wanted = code.strip().upper()
        rows = [r for r in rows if wanted in (r["adm3_pcode_2020"], r["adm3_pcode_2025"])]
        if not rows:
            raise NotFound(f"no upazila with P-code {code!r} in the crosswalk")
    if as_json:
        emit_json(rows)
        return
    table = Table("2020", "name 2020", "2025", "name 2025", "match")
    for r in rows:
        table.add_row(
            r["adm3_pcode_2020"],
            r["adm3_en_2020"],
            r["adm3_pcode_2025"],
            r["adm3_en_2025"],
            r["match"],
        )
    console.print(table)
