"""Overview: alerts by stage and district, caseload and budget, what changed, freshness."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from agam.pipeline.health import feed_health
from dashboard import data, labels, loaders
from dashboard.i18n import fmt_bdt, fmt_bdt_short, fmt_int, fmt_time, t, zone_label
from dashboard.page import lang, require_page
from dashboard.stages import STAGE_ORDER
from dashboard.widgets import feed_line, stage_badge, stage_table, stale_warning
from store import alert_repo

principal = require_page("overview")
lg = lang()
st.header(t("nav_overview", lg))
names = loaders.names(lg)
scope = data.visible_districts(principal)
st.caption(
    t("overview_scope_districts", lg, names=", ".join(names.get(d, d) for d in scope))
    if scope
    else t("overview_scope_national", lg)
)

alerts = [a for a in data.alerts_table(principal) if a["status"] == "open"]
top: dict[str, str] = {}
for a in alerts:
    if STAGE_ORDER[a["stage"]] > STAGE_ORDER.get(top.get(a["district"], ""), 0):
        top[a["district"]] = a["stage"]
lists = data.lists_table(principal)
totals = data.list_totals(lists)
households, budget = totals["current"]
cols = st.columns([1, 1, 1, 1.5])
cols[0].metric(
    t("overview_readiness", lg), fmt_int(sum(s == "readiness" for s in top.values()), lg)
)
cols[1].metric(t("overview_action", lg), fmt_int(sum(s != "readiness" for s in top.values()), lg))
cols[2].metric(t("overview_households", lg), fmt_int(households, lg))
cols[3].metric(t("overview_budget", lg), fmt_bdt_short(budget, lg), help=fmt_bdt(budget, lg))
st.caption(
    t(
        "overview_totals_split",
        lg,
        proposed_households=fmt_int(totals["proposed"][0], lg),
        proposed=fmt_bdt(totals["proposed"][1], lg),
        approved_households=fmt_int(totals["approved"][0], lg),
        approved=fmt_bdt(totals["approved"][1], lg),
    )
)

st.subheader(t("overview_alerts", lg))
latest_list = (
    lists[lists["status"] != "superseded"].sort_values("list_id").groupby("alert_id").last()
    if not lists.empty
    else pd.DataFrame()
)
if alerts:
    rows = []
    ordered = sorted(alerts, key=lambda a: (-STAGE_ORDER[a["stage"]], names.get(a["district"], "")))
    for a in ordered:
        step = (
            labels.next_step(latest_list.loc[a["alert_id"]], lg)
            if a["alert_id"] in latest_list.index
            else t("next_no_list", lg)
        )
        rows.append(
            {
                t("col_district", lg): names.get(a["district"], a["district"]),
                t("col_stage", lg): labels.stage(a["stage"], lg),
                t("col_rule_set", lg): labels.rule_set(a["rule_set"], lg),
                t("col_since", lg, zone=zone_label(lg, short=True)): fmt_time(
                    a["opened_at"], lg, zone=False
                ),
                t("col_unions", lg): fmt_int(a["unions"], lg),
                t("col_next_step", lg): step,
            }
        )
    table = stage_table(pd.DataFrame(rows), t("col_stage", lg), [a["stage"] for a in ordered])
    st.dataframe(table, hide_index=True, width="stretch")
else:
    st.success(t("briefing_no_alerts", lg), icon=":material/check_circle:")

st.subheader(t("overview_changes", lg))
since = data.previous_sign_in(principal.username)
if since is None:
    st.caption(t("overview_first_visit", lg))
    for a in alerts:
        event = a["events"][-1] if a["events"] else None
        if event is None:
            continue
        text, _ = data.explain_event(event, lg)
        st.markdown(
            f"{stage_badge(a['stage'], lg)} **{names.get(a['district'], a['district'])}** · "
            f"{t('overview_open_since', lg, at=fmt_time(a['opened_at'], lg))}"
        )
        st.caption(text)
else:
    with loaders.store().session() as session:
        changes = [
            (e.at, a.district_pcode, e.from_stage, e.to_stage, e.explanation, e.evaluation_id,
             e.actor, a.closed_reason)
            for e, a in alert_repo.events_since(session, since, scope)
        ]  # fmt: skip
    st.caption(t("overview_since_visit", lg, at=fmt_time(since, lg)))
    if changes:
        table = []
        for at, district, before, after, english, evaluation_id, actor, reason in changes:
            event = {
                "to": after,
                "explanation": english,
                "evaluation_id": evaluation_id,
                "actor": actor,
                "reason": reason,
            }
            table.append(
                {
                    t("col_time", lg, zone=zone_label(lg, short=True)): fmt_time(
                        at, lg, zone=False
                    ),
                    t("col_district", lg): names.get(district, district),
                    t("col_change", lg): labels.change(before, after, lg),
                    t("col_why", lg): data.explain_event(event, lg)[0],
                }
            )
        st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch")
    else:
        st.caption(t("overview_no_changes", lg))

st.subheader(t("overview_freshness", lg))
health = feed_health(loaders.app_context())
for h in health:
    if data.watched(h):
        st.markdown(feed_line(h, lg))
stale_warning(health, lg)
