"""Overview: alerts by stage and district, caseload and budget, freshness, what changed."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from agam.pipeline.health import feed_health
from dashboard import data, loaders
from dashboard.i18n import fmt_bdt, fmt_int, fmt_time, t
from dashboard.page import lang, require_page
from store import alert_repo, audit

principal = require_page("overview")
lg = lang()
st.header(t("nav_overview", lg))
names = loaders.district_names(loaders.union_layer().source.fingerprint, lg)

alerts = [a for a in data.alerts_table(principal) if a["status"] == "open"]
lists = data.lists_table(principal)
current = lists[lists["status"] != "superseded"] if not lists.empty else lists
cols = st.columns(4)
cols[0].metric(
    t("overview_readiness", lg), fmt_int(sum(a["stage"] == "readiness" for a in alerts), lg)
)
cols[1].metric(
    t("overview_action", lg), fmt_int(sum(a["stage"] != "readiness" for a in alerts), lg)
)
cols[2].metric(
    t("overview_households", lg),
    fmt_int(int(current["households"].sum()) if not current.empty else 0, lg),
)
cols[3].metric(
    t("overview_budget", lg),
    fmt_bdt(int(current["total_bdt"].sum()) if not current.empty else 0, lg),
)

st.subheader(t("overview_alerts", lg))
if alerts:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    t("map_district", lg): names.get(a["district"], a["district"]),
                    t("overview_stage", lg): t(f"stage_{a['stage']}", lg),
                    t("overview_rule_set", lg): a["rule_set"],
                    t("overview_since", lg): fmt_time(a["opened_at"], lg),
                    t("overview_unions", lg): fmt_int(a["unions"], lg),
                }
                for a in alerts
            ]
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.success(t("briefing_no_alerts", lg))

st.subheader(t("overview_changes", lg))
now = loaders.now()
with loaders.store().session() as session:
    since = audit.last_action_at(
        session, principal.username, "session.sign_in", st.session_state.get("signed_in_at", now)
    )
    changes = alert_repo.events_since(session, since, data.visible_districts(principal))
    rows = [
        {
            "at": fmt_time(e.at, lg),
            "district": names.get(a.district_pcode, a.district_pcode),
            "change": f"{e.from_stage or '—'} → {e.to_stage}",
            "why": e.explanation,
        }
        for e, a in changes
    ]
st.caption(
    t("overview_since_visit", lg, at=fmt_time(since, lg))
    if since
    else t("overview_first_visit", lg)
)
if rows:
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
else:
    st.caption(t("overview_no_changes", lg))

st.subheader(t("health_header", lg))
health = feed_health(loaders.app_context())
for h in health:
    icon = {"fresh": "🟢", "stale": "🔴", "never": "⚪"}[h.state]
    st.caption(
        f"{icon} {h.feed_id}: {t(f'health_state_{h.state}', lg)} · "
        f"{fmt_time(h.latest_issued_at, lg)}"
    )
