"""Alerts: the timeline per district with each evaluation's explanation, in the reader's
language (rebuilt from the stored evidence; the English original is the audit record)."""

from __future__ import annotations

import streamlit as st

from dashboard import data, labels, loaders
from dashboard.i18n import fmt_int, fmt_time, t
from dashboard.page import lang, require_page
from dashboard.stages import STAGE_ORDER
from dashboard.widgets import stage_badge

principal = require_page("alerts")
lg = lang()
st.header(t("nav_alerts", lg))
names = loaders.names(lg)
alerts = data.alerts_table(principal)
if not alerts:
    st.info(t("alerts_none", lg))
    st.stop()
statuses = st.multiselect(
    t("lists_filter_status", lg),
    ["open", "stood_down", "closed"],
    default=["open"],
    format_func=lambda s: labels.alert_status(s, lg),
    placeholder=t("filter_all_statuses", lg),
    key="alert_status",
)
shown = [a for a in alerts if not statuses or a["status"] in statuses]
for a in sorted(shown, key=lambda a: (-STAGE_ORDER[a["stage"]], names.get(a["district"], ""))):
    title = " · ".join(
        [
            names.get(a["district"], a["district"]),
            labels.stage(a["stage"], lg),
            labels.rule_set(a["rule_set"], lg),
            labels.alert_status(a["status"], lg),
        ]
    )
    with st.expander(title, expanded=a["status"] == "open"):
        st.markdown(stage_badge(a["stage"], lg))
        st.caption(
            t(
                "alerts_meta",
                lg,
                since=fmt_time(a["opened_at"], lg),
                updated=fmt_time(a["updated_at"], lg),
                unions=fmt_int(a["unions"], lg),
            )
        )
        for e in a["events"]:
            actor = t("actor_system", lg) if e["actor"] == "system" else e["actor"]
            st.markdown(
                f"**{fmt_time(e['at'], lg)}** · {labels.change(e['from'], e['to'], lg)} ({actor})"
            )
            text, translated = data.explain_event(e, lg)
            if not translated:
                st.caption(t("ex_english_only", lg))
            st.text(text)
