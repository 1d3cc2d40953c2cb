"""A SYNTHETIC payment round for the demo: one proposed list is submitted, approved and
exported through the real decisions by the demo accounts, a provider's return file is
invented for it (labelled SYNTHETIC in every reason and transaction id) and imported through
the real `agam payments import-results` path. Played once: a list with results is left alone.
"""

from __future__ import annotations

import csv
import os
import random
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agam.core.private_files import OWNER_ONLY_FILE
from agam.core.timeutil import ensure_utc, to_dhaka
from agam.pipeline.context import AppContext
from agam.pipeline.demo import DEMO_ACCOUNTS
from allowances.lists import decide_list
from allowances.payment_files import export_payment_files
from allowances.payment_results import import_results
from store import approval_policy, list_repo, user_repo
from store.identity import Principal

CONFIG = Path(__file__).resolve().parent / "data" / "payment_round.toml"


class RoundSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    schema_version: int = Field(ge=1, le=1)
    seed: int
    submit_after_hours: int = Field(ge=0)
    approve_after_hours: int = Field(ge=0)
    export_after_hours: int = Field(ge=0)
    first_payment_hours: int = Field(ge=0)
    last_payment_hours: int = Field(ge=1)
    import_after_hours: int = Field(ge=0)
    failed_share: float = Field(ge=0, le=1)
    reversed_share: float = Field(ge=0, le=1)
    failure_reasons: list[str] = Field(min_length=1)
    reversal_reasons: list[str] = Field(min_length=1)


def load_spec(path: Path = CONFIG) -> RoundSpec:
    return RoundSpec.model_validate(tomllib.loads(path.read_text("utf-8")))


@dataclass(frozen=True)
class RoundResult:
    list_id: int
    return_file: Path
    summary: dict[str, Any]


def _sign_in(ctx: AppContext, username: str, password: str) -> Principal | None:
    with ctx.store.session() as session:
        result = user_repo.authenticate(session, username, password, ctx.now(), "demo")
    return result.principal


def _pairs(passwords: dict[str, str]) -> list[tuple[str, str, str]]:
    """(district, officer, district administrator) the demo can act for with these passwords."""
    officers = {d[0]: u for u, role, d, _ in DEMO_ACCOUNTS if role == "officer"}
    admins = {d[0]: u for u, role, d, _ in DEMO_ACCOUNTS if role == "district_admin"}
    return [
        (district, officer, admins[district])
        for district, officer in officers.items()
        if district in admins and officer in passwords and admins[district] in passwords
    ]


def _candidate(ctx: AppContext, districts: list[str]) -> int | None:
    """The first untouched draft proposal of those districts, in the order given."""
    with ctx.store.read() as session:
        rows = list_repo.lists_for(session, districts)
        for district in districts:
            for row in sorted(rows, key=lambda r: r.id):
                untouched = row.status == "draft" and row.kind == "proposal" and row.households
                if row.district_pcode == district and untouched:
                    return row.id
    return None


def play_payment_round(
    ctx: AppContext, passwords: dict[str, str], folder: Path, spec: RoundSpec | None = None
) -> RoundResult | None:
    """Play the round for one list, or None when there is no list to pay or the demo
    accounts' passwords are not known (they are only at the run that created them)."""
    spec = spec or load_spec()
    pairs = _pairs(passwords)
    list_id = _candidate(ctx, [d for d, _, _ in pairs])
    if list_id is None or ctx.settings.allowances.second_approval:
        return None
    with ctx.store.read() as session:  # the store may require two approvals whatever the config
        if approval_policy.approvals_required(session) > 1:
            return None
    with ctx.store.read() as session:
        row = list_repo.get_list(session, list_id)
        created, district = ensure_utc(row.created_at), row.district_pcode
    _, officer_name, admin_name = next(p for p in pairs if p[0] == district)
    officer = _sign_in(ctx, officer_name, passwords[officer_name])
    admin = _sign_in(ctx, admin_name, passwords[admin_name])
    if officer is None or admin is None:
        return None
    submitted = created + timedelta(hours=spec.submit_after_hours)
    approved = submitted + timedelta(hours=spec.approve_after_hours)
    decide_list(ctx.store, list_id, officer, "submit", submitted)
    decide_list(ctx.store, list_id, admin, "approve", approved)
    export = export_payment_files(
        ctx.store,
        list_id,
        admin,
        "csv",
        folder / "exports",
        approved + timedelta(hours=spec.export_after_hours),
    )
    rows: list[dict[str, str]] = []
    for item in export.manifest["files"]:
        with (export.folder / item["file"]).open(encoding="utf-8", newline="") as handle:
            rows.extend(csv.DictReader(handle))
    path = folder / f"SYNTHETIC_return_L{list_id}.csv"
    last = _write_return(path, rows, approved, spec)
    report = import_results(
        ctx.store, list_id, officer, path, last + timedelta(hours=spec.import_after_hours)
    )
    return RoundResult(list_id, path, report.as_json())


def _write_return(
    path: Path, rows: list[dict[str, str]], approved: datetime, spec: RoundSpec
) -> datetime:
    """The invented return file; returns the last payment time in it."""
    rng = random.Random(spec.seed)  # noqa: S311 (synthetic demo data, not security)
    span = (spec.last_payment_hours - spec.first_payment_hours) * 3600
    last = approved
    fields = [*rows[0], "status", "provider_txn_id", "paid_at", "failure_reason"] if rows else []
    path.parent.mkdir(parents=True, exist_ok=True)
    # owner-only from the start, like the payment files it answers: it holds their payees
    fd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, OWNER_ONLY_FILE)
    os.chmod(path, OWNER_ONLY_FILE)  # os.open's mode passes through the umask
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for number, row in enumerate(rows, start=1):
            draw = rng.random()
            at = approved + timedelta(
                hours=spec.first_payment_hours, seconds=rng.randrange(max(span, 1))
            )
            status = "paid"
            reason = ""
            if draw < spec.failed_share:
                status, reason = "failed", rng.choice(spec.failure_reasons)
            elif draw < spec.failed_share + spec.reversed_share:
                status, reason = "reversed", rng.choice(spec.reversal_reasons)
            if status != "failed":
                last = max(last, at)
            writer.writerow(
                row
                | {
                    "status": status,
                    "provider_txn_id": "" if status == "failed" else f"SYNTHETIC-{number:07d}",
                    "paid_at": "" if status == "failed" else to_dhaka(at).isoformat(),
                    "failure_reason": reason,
                }
            )
    return last
