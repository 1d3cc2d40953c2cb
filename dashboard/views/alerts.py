"""Alerts: the timeline per district with each evaluation's explanation and evidence."""

from __future__ import annotations

import streamlit as st

from dashboard import data, loaders
from dashboard.i18n import fmt_int, fmt_time, t
from dashboard.page import lang, require_page

principal = require_page("alerts")
lg = lang()
st.header(t("nav_alerts", lg))
names = loaders.district_names(loaders.union_layer().source.fingerprint, lg)
alerts = data.alerts_table(principal)
if not alerts:
    st.info(t("alerts_none", lg))
    st.stop()
statuses = st.multiselect(
    t("lists_filter_status", lg),
    ["open", "stood_down", "closed"],
    default=["open"],
    key="alert_status",
)
for a in [a for a in alerts if not statuses or a["status"] in statuses]:
    title = (
        f"{names.get(a['district'], a['district'])} · {t('stage_' + a['stage'], lg)} · "
        f"{a['rule_set']} · {a['status']}"
    )
    with st.expander(title, expanded=a["status"] == "open"):
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
            st.markdown(
                f"**{fmt_time(e['at'], lg)}** · {e['from'] or '—'} → **{e['to']}** ({e['actor']})"
            )
            st.text(e["explanation"])
