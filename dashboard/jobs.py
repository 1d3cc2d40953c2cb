"""Background work the dashboard must not block on (large XLSX payment files).

One small thread pool per server process; jobs are keyed by (username, list id), so a user
only ever sees their own export. The page polls with a fragment.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import streamlit as st

from allowances.payment_files import export_payment_files
from dashboard import loaders
from store.identity import Principal


@st.cache_resource(show_spinner=False)
def _pool() -> tuple[ThreadPoolExecutor, dict[tuple[str, int], Future[Any]]]:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="agam-export"), {}


def _export(
    principal: Principal, list_id: int, fmt: Literal["csv", "xlsx"], outdir: Path
) -> dict[str, Any]:
    result = export_payment_files(loaders.store(), list_id, principal, fmt, outdir, loaders.now())
    return {"folder": str(result.folder), "manifest": result.manifest}


def start_export(principal: Principal, list_id: int, fmt: Literal["csv", "xlsx"]) -> None:
    pool, jobs = _pool()
    key = (principal.username, list_id)
    if key in jobs and not jobs[key].done():
        return
    outdir = loaders.settings().data_dir / "payments"
    jobs[key] = pool.submit(_export, principal, list_id, fmt, outdir)


def export_state(principal: Principal, list_id: int) -> tuple[str, Any]:
    """("none"|"running"|"done"|"failed", result or error)."""
    _, jobs = _pool()
    job = jobs.get((principal.username, list_id))
    if job is None:
        return "none", None
    if not job.done():
        return "running", None
    error = job.exception()
    return ("failed", error) if error else ("done", job.result())
