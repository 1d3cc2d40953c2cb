"""Monitoring and evaluation per activation: how early payments came before the hazard's
peak, whom they reached, what failed. Aggregates only, for the committee and the officers."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy import select

from agam.core.timeutil import parse_utc
from agam.pipeline.me_report import activation_report
from allowances.me_stats import REACH_GROUPS
from dashboard import loaders
from dashboard.i18n import fmt_bdt, fmt_int, fmt_num, fmt_pct, fmt_time, t
from dashboard.me_words import activation_title, localized_table, peak_basis
from dashboard.page import lang, require_page
from store.models import Activation

require_page("me")
lg = lang()
st.header(t("me_header", lg))

with loaders.store().read() as session:
    activations = [
        (a.id, a.hazard, a.label, a.opened_at)
        for a in session.scalars(select(Activation).order_by(Activation.opened_at.desc()))
    ]
if not activations:
    st.info(t("me_none", lg))
    st.stop()

labels = {i: activation_title(hazard, label, at, lg) for i, hazard, label, at in activations}
choice = st.selectbox(t("me_activation", lg), list(labels), format_func=labels.__getitem__)
report = activation_report(loaders.app_context(), int(choice))
if report["synthetic"]:
    st.warning(t("me_synthetic", lg))


def when(value: str | None) -> str:
    return fmt_time(parse_utc(value), lg) if value else "–"


def hours(value: float | None) -> str:
    return t("me_hours", lg, hours=fmt_num(value, lg, 1)) if value is not None else "–"


timeline, coverage = report["timeline"], report["coverage"]
cols = st.columns(4)
cols[0].metric(t("me_households_paid", lg), fmt_int(coverage["households_paid"], lg))
share = coverage["share"]
cols[1].metric(t("me_coverage", lg), fmt_pct(share, lg) if share is not None else "–")
cols[2].metric(t("me_paid_bdt", lg), fmt_bdt(report["paid_bdt"], lg))
before = timeline["share_paid_before_peak"]
cols[3].metric(t("me_before_peak", lg), fmt_pct(before, lg) if before is not None else "–")

st.subheader(t("me_timeline", lg))
steps: list[tuple[str, str]] = [
    (t("me_triggered", lg), when(timeline["triggered_at"])),
    (t("me_first_approval", lg), when(timeline["first_approval_at"])),
    (t("me_first_payment", lg), when(timeline["first_payment_at"])),
    (t("me_last_payment", lg), when(timeline["last_payment_at"])),
    (t("me_peak", lg), when(report["peak"]["at"])),
    (t("me_lead_first", lg), hours(timeline["lead_hours_first_payment"])),
    (t("me_lead_last", lg), hours(timeline["lead_hours_last_payment"])),
]
st.table(pd.DataFrame(steps, columns=[t("me_step", lg), t("me_when", lg)]))
st.caption(peak_basis(report["peak"], lg))

st.subheader(t("me_reach", lg))
paid = report["reach"]["households"]
reach = [
    (t(f"me_reach_{group}", lg), fmt_int(report["reach"][group], lg),
     fmt_pct(report["reach"][group] / paid, lg) if paid else "–")
    for group in REACH_GROUPS
]  # fmt: skip
st.table(
    pd.DataFrame(reach, columns=[t("me_group", lg), t("me_households", lg), t("me_share", lg)])
)

failures = [
    (t(f"me_kind_{kind}", lg), reason, fmt_int(n, lg))
    for kind, reasons in report["not_paid_by_reason"].items()
    for reason, n in reasons.items()
]
st.subheader(t("me_not_paid", lg))
if failures:
    st.table(
        pd.DataFrame(failures, columns=[t("me_kind", lg), t("me_reason", lg), t("me_count", lg)])
    )
else:
    st.info(t("me_no_failures", lg))

st.subheader(t("me_by_district", lg))
st.dataframe(
    localized_table(report["by_district"], lg, loaders.names(lg)), hide_index=True, width="stretch"
)
if report["grievances"]:
    st.subheader(t("me_grievances", lg))
    st.dataframe(
        localized_table(report["grievances"], lg, loaders.names(lg)),
        hide_index=True,
        width="stretch",
    )
