"""Grievances: the register for those who handle them (record, follow up, close with a reason),
aggregates only for the committee. Complainant details appear only on request, audited."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from agam.core.errors import AgamError
from agam.core.timeutil import DHAKA
from allowances import grievance_register as register
from allowances.grievance_stats import grievance_summary
from allowances.grievances import (
    CATEGORIES,
    CHANNELS,
    MAX_NAME_CHARS,
    MAX_TEXT,
    TRANSITIONS,
    NewGrievance,
)
from dashboard import loaders
from dashboard.form_errors import refusal_text
from dashboard.i18n import fmt_int, fmt_time, t
from dashboard.me_words import grievance_history, localized_table
from dashboard.page import lang, require_page
from dashboard.plain_text import md_literal

principal = require_page("grievances")
lg = lang()
st.header(t("grievances_header", lg))
settings = loaders.settings().grievances
now = loaders.now()


FIELD_LABELS = {
    "adm4_pcode": t("grievances_union", lg),
    "household_id": t("grievances_household", lg),
    "description": t("grievances_description", lg),
    "complainant_name": t("grievances_name", lg),
    "complainant_phone": t("grievances_phone", lg),
    "received_at": t("grievances_received", lg),
}


COLUMN_KEYS = {"number": "grievance_id", "handler": "assigned_to"}  # the catalogue's keys


def label(prefix: str, code: str) -> str:
    return t(f"{prefix}_{code}", lg)


if principal.role == "committee":
    st.info(t("grievances_committee", lg))
    with loaders.store().session() as session:
        rows = grievance_summary(session, start=now - timedelta(days=180), end=now, as_of=now)
    if not rows:
        st.info(t("grievances_none", lg))
    else:
        st.dataframe(localized_table(rows, lg, loaders.names(lg)), hide_index=True, width="stretch")
    st.stop()

with loaders.store().session() as session:
    register_rows = register.listing(session, principal, now, settings)
table = pd.DataFrame(register_rows)
open_rows = [r for r in register_rows if r["status"] in ("open", "in_progress")]
cols = st.columns(3)
cols[0].metric(t("grievances_open", lg), fmt_int(len(open_rows), lg))
cols[1].metric(t("grievances_overdue", lg), fmt_int(sum(r["overdue"] for r in open_rows), lg))
cols[2].metric(t("grievances_due_soon", lg), fmt_int(sum(r["due_soon"] for r in open_rows), lg))

if flash := st.session_state.pop("grievances_flash", None):
    st.success(flash)

with (
    st.expander(t("grievances_record", lg), expanded=table.empty),
    st.form("record_grievance", clear_on_submit=True),
):
    channel = st.selectbox(
        t("grievances_channel", lg),
        CHANNELS,
        key="g_channel",
        format_func=lambda c: label("grievance_channel", c),
    )
    category = st.selectbox(
        t("grievances_category", lg),
        CATEGORIES,
        key="g_category",
        format_func=lambda c: label("grievance_category", c),
    )
    union = st.text_input(t("grievances_union", lg), key="g_union")
    household = st.text_input(t("grievances_household", lg), key="g_household")
    description = st.text_area(
        t("grievances_description", lg), key="g_description", max_chars=MAX_TEXT
    )
    name = st.text_input(t("grievances_name", lg), key="g_name", max_chars=MAX_NAME_CHARS)
    phone = st.text_input(t("grievances_phone", lg), key="g_phone")
    day = st.date_input(
        t("grievances_received", lg), value=now.astimezone(DHAKA).date(), key="g_day"
    )
    if st.form_submit_button(t("grievances_record_button", lg), type="primary"):
        try:
            today = now.astimezone(DHAKA).date()
            received = now if day >= today else datetime.combine(day, time(12), DHAKA)
            new = NewGrievance.model_validate(
                {
                    "received_at": received,
                    "channel": channel,
                    "category": category,
                    "adm4_pcode": union or None,
                    "household_id": household.strip() or None,
                    "description": description,
                    "complainant_name": name or None,
                    "complainant_phone": phone or None,
                }
            )
            frame = loaders.union_layer().frame
            unions = dict(zip(frame["adm4_pcode"], frame["adm2_pcode"], strict=True))
            with loaders.store().session() as session:
                recorded = register.record(session, principal, new, now, settings, unions)
            st.session_state["grievances_flash"] = t(
                "grievances_recorded", lg, id=fmt_int(recorded.id, lg)
            )
            st.rerun()
        except ValidationError as exc:
            st.error(md_literal(refusal_text(exc, FIELD_LABELS, lg)))
        except (AgamError, ValueError) as exc:
            st.error(md_literal(str(exc)))

if table.empty:
    st.info(t("grievances_none", lg))
    st.stop()

statuses = st.multiselect(
    t("lists_filter_status", lg),
    ["open", "in_progress", "resolved", "referred", "rejected"],
    default=["open", "in_progress"],
    format_func=lambda s: label("grievance_status", s),
    key="g_statuses",
)
only_overdue = st.toggle(t("grievances_only_overdue", lg), key="g_only_overdue")
shown = table[table["status"].isin(statuses)] if statuses else table
if only_overdue:
    shown = shown[shown["overdue"]]
view = shown.assign(
    received=shown["received_at"].map(lambda v: fmt_time(v, lg)),
    due=shown["due_at"].map(lambda v: fmt_time(v, lg)),
    category=shown["category"].map(lambda c: label("grievance_category", c)),
    state=shown["status"].map(lambda s: label("grievance_status", s)),
    number=shown["grievance_id"].map(lambda n: fmt_int(int(n), lg)),
    handler=shown["assigned_to"].map(lambda u: u or "—"),
)[
    [
        "number",
        "received",
        "adm4_pcode",
        "category",
        "state",
        "handler",
        "due",
        "overdue",
        "due_soon",
    ]
]
st.dataframe(
    view.rename(columns={c: t(f"col_{COLUMN_KEYS.get(c, c)}", lg) for c in view.columns}),
    hide_index=True,
    width="stretch",
)
if shown.empty:
    st.stop()

gid = int(
    st.selectbox(
        t("grievances_pick", lg),
        shown["grievance_id"].tolist(),
        format_func=lambda n: fmt_int(int(n), lg),
        key="g_pick",
    )
)
row = shown.set_index("grievance_id").loc[gid]
st.subheader(
    t(
        "grievances_detail",
        lg,
        id=fmt_int(gid, lg),
        status=label("grievance_status", str(row["status"])),
    )
)
if st.button(t("grievances_reveal", lg), key="g_reveal"):
    with loaders.store().session() as session:  # audited as grievance.details_viewed
        [full] = register.listing(session, principal, now, settings, reveal=True, ids=[gid])
    if full["details_visible"]:
        name, phone = full["complainant_name"], full["complainant_phone"]
        # plain text, not markdown: a dictated name is never a link, an image or bold
        st.text(f"{t('grievances_complainant', lg)}: {name or '—'}")
        st.text(f"{t('grievances_contact_phone', lg)}: {phone or '—'}")
        st.text(full["description"])
    else:
        st.warning(t("grievances_not_handler", lg))
with loaders.store().session() as session:
    steps = pd.DataFrame(register.history(session, principal, gid))
st.dataframe(grievance_history(steps, lg), hide_index=True)

actions = [a for (s, a) in TRANSITIONS if s == row["status"]]
if actions:
    with st.form("update_grievance"):
        action = st.selectbox(
            t("grievances_action", lg),
            ["", *actions],
            key="g_action",
            format_func=lambda a: label("grievance_action", a) if a else "—",
        )
        reason = st.text_input(t("grievances_reason", lg), key="g_reason", max_chars=MAX_TEXT)
        assign = st.text_input(t("grievances_assign", lg), key="g_assign")
        if st.form_submit_button(t("grievances_update_button", lg)):
            try:
                with loaders.store().session() as session:
                    register.update(
                        session,
                        principal,
                        gid,
                        loaders.now(),
                        action=action or None,
                        reason=reason or None,
                        assign_to=assign.strip() or None,
                    )
                st.session_state["grievances_flash"] = t(
                    "grievances_updated", lg, id=fmt_int(gid, lg)
                )
                st.rerun()
            except AgamError as exc:
                st.error(md_literal(str(exc)))
