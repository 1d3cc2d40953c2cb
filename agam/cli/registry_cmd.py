"""`agam registry …`: import, inspect and generate beneficiary registries.

Output never carries personal data: errors name file, row, field and reason; duplicates show
beneficiary ids, programmes and masked identifiers; stats are aggregates.
"""

from __future__ import annotations

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
from agam.cli.credentials import UserOption, sign_in
from agam.core.errors import RegistryError
from agam.pipeline.context import AppContext
from allowances.registry_import import import_registry
from allowances.registry_schema import ImportReport
from allowances.registry_stats import registry_stats
from allowances.synthetic import generate_registry
from store import audit

app = typer.Typer(help="Beneficiary registry: import, stats, synthetic data.", no_args_is_help=True)
MAX_TABLE_ERRORS = 200


class GenerateFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"


def _print_report(report: ImportReport) -> None:
    counts = report.to_dict(max_errors=0)["counts"]
    label = " [SYNTHETIC]" if report.synthetic else ""
    console.print(
        f"{report.file_name}: {report.status}{label} · "
        + " · ".join(f"{k} {v:,}" for k, v in counts.items()),
        markup=False,
    )
    if report.errors:
        table = Table("row", "field", "reason", title=f"{report.errors_total:,} error(s)")
        for error in report.errors[:MAX_TABLE_ERRORS]:
            table.add_row(str(error.row), error.field, error.reason)
        console.print(table)
        if report.errors_total > MAX_TABLE_ERRORS:
            listed = len(report.errors)
            json_lists = (
                "all of them" if listed >= report.errors_total else f"the first {listed:,}, by row"
            )
            more = report.errors_total - MAX_TABLE_ERRORS
            console.print(f"… {more:,} more (--json lists {json_lists})")
    dup = report.duplicate_counts
    if dup.get("nid") or dup.get("wallet"):
        console.print(
            f"warning: {dup.get('nid', 0):,} NID(s) and {dup.get('wallet', 0):,} wallet(s) "
            "appear on more than one record "
            f"({dup.get('nid_cross_programme', 0):,} / {dup.get('wallet_cross_programme', 0):,} "
            "across programmes)",
            markup=False,
        )
        table = Table("kind", "identifier", "records (beneficiary id: programme)")
        for group in report.duplicates[:50]:
            records = ", ".join(f"{b}: {p}" for b, p in group.records)
            if group.size > len(group.records):
                records += f" … {group.size - len(group.records):,} more ({group.size:,} in all)"
            table.add_row(group.kind, group.masked, records)
        console.print(table)


@app.command("import")
@handle_errors
def import_cmd(
    file: Annotated[Path, typer.Argument(help="registry extract: .csv, .xlsx or .parquet")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="check and report, change nothing")
    ] = False,
    quarantine: Annotated[
        bool, typer.Option("--quarantine", help="import the valid rows, record the bad ones")
    ] = False,
    user: UserOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Validate and import a registry extract (admins, signed in); all or nothing unless
    --quarantine. Rows are staged, owner-only, in the data directory."""
    ctx = AppContext(settings_for(config))
    principal = sign_in(ctx, user)
    with audit.refusals_recorded(
        ctx.store,
        at=ctx.now(),
        actor=principal.username,
        action="registry.import",
        entity="registry_import",
        entity_id=file.name,
    ):
        report = import_registry(
            ctx.store,
            file,
            ctx.union_layer(),
            principal=principal,
            staging_dir=ctx.settings.data_dir / "staging",
            dry_run=dry_run,
            quarantine=quarantine,
            at=ctx.now(),
        )
    if as_json:
        emit_json(report.to_dict())
    else:
        _print_report(report)
    if report.errors_total and not quarantine:
        what = "nothing imported" if not dry_run else "an import would be rejected"
        raise RegistryError(
            f"{report.file_name}: {report.errors_total:,} error(s); {what} "
            "(fix the rows listed, or use --quarantine)"
        )


@app.command("stats")
@handle_errors
def stats(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Counts by programme, district and flag; duplicates; synthetic share (aggregates only)."""
    ctx = AppContext(settings_for(config))
    ctx.store.upgrade()
    data = registry_stats(ctx.store, ctx.union_layer())
    if as_json:
        emit_json(data)
        return
    synthetic = f" · synthetic share {data['synthetic_share']:.0%}" if data["beneficiaries"] else ""
    console.print(
        f"{data['beneficiaries']:,} beneficiaries in {data['households']:,} households, "
        f"{data['unions']:,} unions, {data['imports']:,} import(s){synthetic}",
        markup=False,
    )
    table = Table("programme", "beneficiaries")
    for programme, count in data["by_programme"].items():
        table.add_row(programme, f"{count:,}")
    console.print(table)
    table = Table("flag", "households")
    for flag, count in data["flags_households"].items():
        table.add_row(flag, f"{count:,}")
    console.print(table)
    table = Table("district", "name", "beneficiaries", "households")
    for row in data["by_district"]:
        table.add_row(
            row["adm2_pcode"], row["name"], f"{row['beneficiaries']:,}", f"{row['households']:,}"
        )
    console.print(table)
    dup = data["duplicates"]
    console.print(
        f"shared NIDs {dup.get('nid', 0):,} ({dup.get('nid_cross_programme', 0):,} across "
        f"programmes) · shared wallets {dup.get('wallet', 0):,} "
        f"({dup.get('wallet_cross_programme', 0):,} across programmes)",
        markup=False,
    )


def _generate_format(out: Path, fmt: GenerateFormat | None) -> GenerateFormat:
    """The file name's extension decides; --format is for other names and must not contradict."""
    by_suffix = {f".{f.value}": f for f in GenerateFormat}.get(out.suffix.lower())
    if by_suffix is not None and fmt is not None and fmt is not by_suffix:
        raise typer.BadParameter(
            f"{out.name} is a {by_suffix.value} name but --format {fmt.value} was given",
            param_hint="--format",
        )
    chosen = by_suffix or fmt
    if chosen is None:
        raise typer.BadParameter(
            f"{out.name}: name the file .parquet or .csv, or give --format", param_hint="OUT"
        )
    return chosen


@app.command("generate")
@handle_errors
def generate(
    out: Annotated[Path, typer.Argument(help="output file (.parquet or .csv)")],
    households: Annotated[int, typer.Option("--households", min=1, help="number of households")],
    seed: Annotated[int, typer.Option("--seed")] = 1,
    fmt: Annotated[
        GenerateFormat | None,
        typer.Option("--format", help="only for a name without .csv/.parquet; must agree"),
    ] = None,
    year: Annotated[int | None, typer.Option("--year", help="ages are as of this year")] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write a SYNTHETIC registry sized by union population (never real people)."""
    fmt = _generate_format(out, fmt)
    ctx = AppContext(settings_for(config))
    result = generate_registry(
        ctx.union_layer(),
        households,
        seed,
        out,
        fmt=fmt.value,  # type: ignore[arg-type]
        year=year or ctx.now().year,
    )
    data = {
        "path": str(result.path),
        "households": result.households,
        "rows": result.rows,
        "seed": result.seed,
        "format": result.format,
        "synthetic": True,
    }
    if as_json:
        emit_json(data)
        return
    console.print(
        f"wrote SYNTHETIC registry {result.path}: {result.households:,} households, "
        f"{result.rows:,} rows (seed {result.seed})",
        markup=False,
    )
