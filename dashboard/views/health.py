"""Data health: feed freshness, recent runs and failures, the rule set and policy versions
used, the audit chain."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from agam.pipeline.health import feed_health, scheduler_health
from dashboard import labels, loaders
from dashboard.i18n import fmt_int, fmt_time, t, zone_label
from dashboard.page import lang, require_page
from dashboard.widgets import feed_state_word, stale_warning
from store import audit, config_versions, feed_repo

require_page("health")
lg = lang()
st.header(t("health_header", lg))
scheduler = scheduler_health(loaders.app_context())
if scheduler.state == "not_running":
    st.error(t("health_scheduler_down", lg, since=fmt_time(scheduler.beat_at, lg)))
st.caption(t("health_times", lg, zone=zone_label(lg)))


rows = feed_health(loaders.app_context())
if not rows:
    st.info(t("health_no_feeds", lg))
else:
    table = pd.DataFrame(
        [
            {
                t("health_feed", lg): labels.feed(r.feed_id, lg),
                t("health_state", lg): feed_state_word(r, lg)[1],
                t("health_issued", lg): fmt_time(r.latest_issued_at, lg, zone=False),
                t("health_last_success", lg): fmt_time(r.last_success_at, lg, zone=False),
                t("health_last_failure", lg): fmt_time(r.last_failure_at, lg, zone=False),
                t("health_error", lg): r.last_error or "",
            }
            for r in rows
        ]
    )
    st.dataframe(table, hide_index=True, width="stretch")
    stale_warning(rows, lg)

st.subheader(t("health_runs", lg))
with loaders.store().session() as session:
    runs = feed_repo.recent_runs(session, limit=100)
    lacking = feed_repo.quality_of_runs(session, runs)
    run_rows = [
        {
            t("health_feed", lg): labels.feed(r.feed_id, lg),
            t("health_started", lg): fmt_time(r.started_at, lg, zone=False),
            t("health_outcome", lg): labels.outcome(r.outcome, lg),
            t("health_issued", lg): fmt_time(r.issued_at, lg, zone=False),
            t("health_run_note", lg): labels.run_note(r.error, lacking.get(r.id), lg),
        }
        for r in runs
    ]
st.dataframe(pd.DataFrame(run_rows), hide_index=True, width="stretch")


st.subheader(t("health_versions", lg))
st.caption(t("health_versions_note", lg))
with loaders.store().read() as session:
    version_rows = [
        {
            t("health_version_kind", lg): t(f"config_kind_{v.kind}", lg),
            t("health_version_id", lg): labels.config_version_name(v.kind, v.config_id, lg),
            t("health_version", lg): v.version,
            t("health_version_first_used", lg): fmt_time(v.first_used_at, lg, zone=False),
            "sha256": v.content_sha256[:16],
        }
        for v in config_versions.recorded(session)
    ]
if version_rows:
    st.dataframe(pd.DataFrame(version_rows), hide_index=True, width="stretch")
else:
    st.info(t("health_versions_none", lg))

st.subheader(t("health_audit", lg))
if st.button(t("health_verify", lg), key="verify_audit"):
    with loaders.store().session() as session:
        report = audit.verify(session)
    if report.ok:
        st.success(
            t("health_audit_ok", lg, entries=fmt_int(report.entries, lg), head=report.head[:16])
        )
    else:
        st.error(t("health_audit_broken", lg, row=report.bad_id, reason=report.reason))
