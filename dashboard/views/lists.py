"""Allowance lists: review with reasons; submit, approve or reject; download once approved."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from agam.core.errors import AgamError
from allowances.lists import decide_list
from dashboard import data, jobs, loaders
from dashboard.i18n import fmt_bdt, fmt_int, fmt_time, t
from dashboard.page import lang, require_page
from store import list_repo

principal = require_page("lists")
lg = lang()
st.header(t("lists_header", lg))
table = data.lists_table(principal)
if table.empty:
    st.info(t("lists_none", lg))
    st.stop()

status_filter = st.multiselect(
    t("lists_filter_status", lg), sorted(table["status"].unique()), key="lists_status"
)
shown = table[table["status"].isin(status_filter)] if status_filter else table
summary = shown.assign(
    households=shown["households"].map(lambda n: fmt_int(n, lg)),
    total=shown["total_bdt"].map(lambda n: fmt_bdt(n, lg)),
    created=shown["created_at"].map(lambda v: fmt_time(v, lg)),
)[["list_id", "district", "revision", "status", "households", "total", "created", "synthetic"]]
st.dataframe(summary, hide_index=True, width="stretch")
if shown["synthetic"].any():
    st.warning(t("lists_synthetic", lg))

list_id = st.selectbox(t("lists_pick", lg), shown["list_id"].tolist(), key="list_pick")
row = shown.set_index("list_id").loc[list_id]
st.subheader(t("lists_detail", lg, id=list_id, district=row["district"], status=row["status"]))
st.caption(
    t(
        "lists_totals",
        lg,
        households=fmt_int(int(row["households"]), lg),
        total=fmt_bdt(int(row["total_bdt"]), lg),
    )
)

lines = data.list_lines(principal, int(list_id))
if principal.role == "committee":
    st.info(t("lists_committee_aggregates", lg))
elif not lines.empty:
    changed = int((lines["payee_changed"] != "").sum())
    if changed:
        st.warning(t("lists_payees_changed", lg, count=fmt_int(changed, lg)))
    only_included = st.toggle(t("lists_only_included", lg), value=True, key="only_included")
    view = lines[lines["included"]] if only_included else lines
    view = view.assign(reasons=view["reasons"].map("; ".join))
    st.dataframe(
        view[
            [
                "rank",
                "line_ref",
                "household_id",
                "adm4_pcode",
                "priority_score",
                "amount_bdt",
                "payee",
                "payee_changed",
                "reasons",
                "exclusion_reason",
            ]
        ].head(5000),
        hide_index=True,
        width="stretch",
    )

if flash := st.session_state.pop("lists_flash", None):
    st.success(flash)
reason = st.text_input(t("lists_reason", lg), key="decision_reason")
actions = {
    "officer": [("submit", "lists_submit")],
    "admin": [("submit", "lists_submit")],
    "district_admin": [("approve", "lists_approve"), ("reject", "lists_reject")],
}.get(principal.role, [])
# Offer only what the list's status allows (the store refuses the rest anyway).
actions = [(a, label) for a, label in actions if (row["status"], a) in list_repo.LIST_TRANSITIONS]
cols = st.columns(max(len(actions), 1) + 1)
for col, (action, label) in zip(cols, actions, strict=False):
    if col.button(
        t(label, lg), key=f"do_{action}", type="primary" if action == "approve" else "secondary"
    ):
        try:
            decide_list(
                loaders.store(),
                int(list_id),
                principal,
                action,
                loaders.now(),
                reason or None,
                second_approval=loaders.settings().allowances.second_approval,
            )
            # shown after the rerun, which redraws the page for the list's new status
            st.session_state["lists_flash"] = t("lists_done", lg, action=t(label, lg))
            st.rerun()
        except AgamError as exc:
            st.error(str(exc))

if principal.role == "district_admin" and row["status"] in ("approved", "exported"):
    fmt = st.radio(t("lists_format", lg), ("csv", "xlsx"), horizontal=True, key="pay_fmt")
    if st.button(t("lists_prepare_download", lg), key="prepare_download"):
        jobs.start_export(principal, int(list_id), "xlsx" if fmt == "xlsx" else "csv")

    @st.fragment(run_every=2)
    def payment_files() -> None:
        state, result = jobs.export_state(principal, int(list_id))
        if state == "running":
            st.info(t("lists_preparing", lg))
        elif state == "failed":
            st.error(str(result))
        elif state == "done":
            folder, manifest = Path(result["folder"]), result["manifest"]
            st.caption(
                t(
                    "lists_manifest",
                    lg,
                    rows=fmt_int(manifest["rows"], lg),
                    total=fmt_bdt(manifest["total_bdt"], lg),
                )
            )
            for entry in [*manifest["files"], {"file": "manifest.json"}]:
                st.download_button(
                    t("lists_download", lg, file=entry["file"]),
                    data=(folder / entry["file"]).read_bytes(),
                    file_name=entry["file"],
                    key=f"dl_{entry['file']}",
                )

    payment_files()
