"""What `agam demo` prepares on a fresh machine: store, boundaries, demo accounts and a
SYNTHETIC registry. Re-running is safe: existing accounts and registries are left alone."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

from agam.pipeline.context import AppContext
from allowances.registry_import import import_registry
from allowances.synthetic import generate_registry
from store import audit, list_repo, user_repo

log = logging.getLogger(__name__)

# One account per role; an officer and a district administrator for Kurigram (Jamuna flood
# scenario) and for Satkhira (cyclone scenario).
DEMO_ACCOUNTS: tuple[tuple[str, str, list[str], str], ...] = (
    ("committee.demo", "committee", [], "ASP Committee (demo)"),
    ("officer.kurigram", "officer", ["BD5549"], "DMO Kurigram (demo)"),
    ("dc.kurigram", "district_admin", ["BD5549"], "DC Kurigram (demo)"),
    ("officer.satkhira", "officer", ["BD4087"], "DMO Satkhira (demo)"),
    ("dc.satkhira", "district_admin", ["BD4087"], "DC Satkhira (demo)"),
    ("admin.demo", "admin", [], "Administrator (demo)"),
)


def ensure_demo_accounts(ctx: AppContext) -> dict[str, str]:
    """Create the demo accounts that do not exist; returns {username: password} for those
    created now (passwords are shown once and never stored in clear). A store that holds any
    other account is not a demo store: nothing is created there (no known passwords planted
    in a real deployment)."""
    created: dict[str, str] = {}
    demo_names = {username for username, *_ in DEMO_ACCOUNTS}
    with ctx.store.session() as session:
        existing = {u.username for u in user_repo.list_users(session)}
        if existing - demo_names:
            log.warning("the store has non-demo accounts; no demo accounts created")
            return created
        for username, role, districts, name in DEMO_ACCOUNTS:
            if username in existing:
                continue
            password = secrets.token_urlsafe(12)
            user_repo.add_user(
                session,
                username=username,
                role=role,
                districts=districts,
                password=password,
                display_name=name,
                at=ctx.now(),
                created_by="demo",
            )
            audit.append(
                session,
                at=ctx.now(),
                actor="demo",
                action="user.add",
                entity="user",
                entity_id=username,
                payload={"role": role, "demo": True},
            )
            created[username] = password
    return created


def ensure_synthetic_registry(ctx: AppContext, households: int, seed: int = 2024) -> dict[str, Any]:
    """Generate and import a labelled synthetic registry unless one is already imported."""
    with ctx.store.session() as session:
        if list_repo.registry_is_synthetic(session) or _has_registry(session):
            return {"status": "exists"}
    folder = Path(ctx.settings.data_dir) / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    layer = ctx.union_layer()
    generated = generate_registry(layer, households, seed, folder / "synthetic_registry.parquet")
    report = import_registry(
        ctx.store,
        generated.path,
        layer,
        user="demo",
        staging_dir=Path(ctx.settings.data_dir) / "staging",
    )
    log.info("demo registry: %s", report.status)
    return {"status": report.status, "households": households, "path": str(generated.path)}


def _has_registry(session: Any) -> bool:
    from sqlalchemy import func, select

    from store.models import RegistryImport

    return bool(session.scalar(select(func.count(RegistryImport.id))))
