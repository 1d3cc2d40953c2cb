"""Briefing: a one-click PDF pack for the committee, in English and Bangla."""

from __future__ import annotations

import streamlit as st

from agam.pipeline.briefing import gather
from dashboard import loaders
from dashboard.briefing_pdf import build_briefing_pdf, stage_map_png
from dashboard.i18n import fmt_bdt, fmt_int, t
from dashboard.page import lang, require_page


@st.cache_data(show_spinner=False, max_entries=4)
def district_shapes(fingerprint: str):  # type: ignore[no-untyped-def]
    del fingerprint
    return loaders.union_layer().units(2).assign(geometry=lambda f: f.geometry.simplify(0.01))


require_page("briefing")
lg = lang()
st.header(t("briefing_header", lg))
data = gather(loaders.app_context())
cols = st.columns(3)
cols[0].metric(t("briefing_alerts", lg), fmt_int(len(data.alerts), lg))
cols[1].metric(t("nav_lists", lg), fmt_int(data.households, lg))
cols[2].metric(t("briefing_caseload", lg), fmt_bdt(data.total_bdt, lg))
shapes = district_shapes(loaders.union_layer().source.fingerprint)
png = stage_map_png(shapes, data.alerts)
st.image(png, width=360)
for code in ("en", "bn"):
    st.download_button(
        f"{t('briefing_download', code)} · {'English' if code == 'en' else 'বাংলা'}",
        data=build_briefing_pdf(data, code, png),
        file_name=f"agam-briefing-{data.generated_at:%Y%m%dT%H%M}Z-{code}.pdf",
        mime="application/pdf",
        key=f"briefing_{code}",
    )
