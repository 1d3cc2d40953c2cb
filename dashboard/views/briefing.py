"""Briefing: the committee's PDF pack in English and Bangla, scoped like the person's
Overview (all Bangladesh, or their districts), with what changed since the last one."""

from __future__ import annotations

import streamlit as st

from agam.pipeline.briefing import gather, record_issued
from agam.pipeline.health import feed_health
from dashboard import data as page_data
from dashboard import loaders
from dashboard.briefing_pdf import build_briefing_pdf, stage_map_png
from dashboard.i18n import fmt_bdt, fmt_bdt_short, fmt_int, t
from dashboard.page import lang, require_page
from dashboard.widgets import feed_state_word


@st.cache_data(show_spinner=False, max_entries=4)
def district_shapes(fingerprint: str):  # type: ignore[no-untyped-def]
    del fingerprint
    return loaders.union_layer().units(2).assign(geometry=lambda f: f.geometry.simplify(0.01))


principal = require_page("briefing")
lg = lang()
st.header(t("briefing_header", lg))
scope = page_data.visible_districts(principal)
brief = gather(loaders.app_context(), scope)
names = {"en": loaders.names("en"), "bn": loaders.names("bn")}
st.caption(
    t("overview_scope_districts", lg, names=", ".join(loaders.names(lg).get(d, d) for d in scope))
    if scope
    else t("overview_scope_national", lg)
)
cols = st.columns([1, 1.4, 1.4])
cols[0].metric(t("briefing_alerts", lg), fmt_int(len(brief.alerts), lg))
cols[1].metric(
    t("briefing_metric_proposed", lg, households=fmt_int(brief.proposed.households, lg)),
    fmt_bdt_short(brief.proposed.total_bdt, lg),
    help=fmt_bdt(brief.proposed.total_bdt, lg),
)
cols[2].metric(
    t("briefing_metric_approved", lg, households=fmt_int(brief.approved.households, lg)),
    fmt_bdt_short(brief.approved.total_bdt, lg),
    help=fmt_bdt(brief.approved.total_bdt, lg),
)
png = stage_map_png(district_shapes(loaders.union_layer().source.fingerprint), brief.alerts)
st.image(png, width=320)
health = {h.feed_id: h for h in feed_health(loaders.app_context())}
for code in ("en", "bn"):
    scenarios = {
        feed: feed_state_word(h, code)[1]
        for feed, h in health.items()
        if page_data.feed_state(h)[0] == "scenario"
    }
    pdf = build_briefing_pdf(
        brief,
        code,
        png,
        names=names[code],
        rule_sets=loaders.rule_sets_as_used(),
        scenarios=scenarios,
    )
    st.download_button(
        # in the page's language; each PDF's language by its own name, as language pickers do
        f"{t('briefing_download', lg)} · {'English' if code == 'en' else 'বাংলা'}",
        data=pdf,
        file_name=f"agam-briefing-{brief.generated_at:%Y%m%dT%H%M}Z-{code}.pdf",
        mime="application/pdf",
        key=f"briefing_{code}",
        on_click=record_issued,
        args=(loaders.app_context(), brief, principal.username, code),
    )
