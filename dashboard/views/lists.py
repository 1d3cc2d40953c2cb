"""Allowance lists: what each list is waiting for and who acts next; review the lines with
their reasons; the decisions this person may take; payment files once approved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from agam.core.errors import AgamError
from agam.core.typed_text import MAX_REASON_CHARS
from allowances.lists import decide_list
from dashboard import data, jobs, labels, loaders
from dashboard.i18n import fmt_bdt, fmt_int, fmt_num, fmt_time, t, zone_label
from dashboard.page import lang, require_page
from dashboard.plain_text import md_literal
from dashboard.stages import LIST_BADGE, badge
from store.payee_repo import MASKED_PAYEE

SHOWN_LINES = 5000  # lines a review table holds; only these are read

principal = require_page("lists")
lg = lang()
st.header(t("lists_header", lg))
table = data.lists_table(principal)
if table.empty:
    st.info(t("lists_none", lg))
    st.stop()
names = loaders.names(lg)
second = loaders.settings().allowances.second_approval  # raises the store's number
two_approvals = second or data.approvals_required() == 2
if table["synthetic"].any():
    st.warning(t("lists_synthetic", lg), icon=":material/science:")

statuses = sorted(table["status"].unique())
status_filter = st.multiselect(
    t("lists_filter_status", lg),
    statuses,
    format_func=lambda s: labels.list_status(s, lg),
    placeholder=t("filter_all_statuses", lg),
    key="lists_status",
)
shown = table[table["status"].isin(status_filter)] if status_filter else table
summary = pd.DataFrame(
    {
        t("col_list", lg): shown["list_id"].map(lambda n: fmt_int(n, lg)),
        t("col_district", lg): shown["district"].map(lambda c: names.get(c, c)),
        t("col_status", lg): shown["status"].map(lambda s: labels.list_status(s, lg)),
        t("col_next_step", lg): [
            labels.next_step(r, lg, two_approvals) for r in shown.to_dict("records")
        ],
        t("col_households", lg): shown["households"].map(lambda n: fmt_int(n, lg)),
        t("col_total", lg): shown["total_bdt"].map(lambda n: fmt_bdt(n, lg)),
        t("col_prepared", lg, zone=zone_label(lg, short=True)): shown["created_at"].map(
            lambda v: fmt_time(v, lg, zone=False)
        ),
    }
)
st.dataframe(summary, hide_index=True, width="stretch")

list_id = st.selectbox(
    t("lists_pick", lg),
    shown["list_id"].tolist(),
    format_func=lambda i: t(
        "lists_option",
        lg,
        id=fmt_int(i, lg),
        district=names.get(str(table.set_index("list_id").at[i, "district"]), ""),
    ),
    key="list_pick",
)
if list_id is None:
    st.stop()
list_id = int(list_id)
row: dict[str, Any] = {str(k): v for k, v in shown[shown["list_id"] == list_id].iloc[0].items()}
record = {"status": row["status"], "approved_by": row["approved_by"]}
st.subheader(
    t(
        "lists_detail",
        lg,
        id=fmt_int(list_id, lg),
        district=names.get(row["district"], row["district"]),
    )
)
st.markdown(
    f"{badge(LIST_BADGE.get(row['status'], 'gray'), labels.list_status(row['status'], lg))} "
    f"{labels.next_step(record, lg, two_approvals)}"
)
st.caption(
    t(
        "lists_totals",
        lg,
        households=fmt_int(int(row["households"]), lg),
        total=fmt_bdt(int(row["total_bdt"]), lg),
    )
)
rejected = data.rejection(list_id) if row["status"] == "rejected" else None
if rejected is not None and principal.role != "committee":  # a reason may name people
    by, when, why = rejected
    st.warning(t("lists_rejected_by", lg, by=by, at=fmt_time(when, lg), reason=md_literal(why)))

if flash := st.session_state.pop("lists_flash", None):
    st.success(flash)
actions = data.allowed_actions(principal, int(list_id))
if actions:
    # a shared office PC: the browser's last sign-in is the one that decides
    who = md_literal(f"{principal.display_name or principal.username} ({principal.username})")
    st.caption(t("lists_deciding_as", lg, name=who))
    reason = (
        st.text_input(t("lists_reason", lg), key="decision_reason", max_chars=MAX_REASON_CHARS)
        if "reject" in actions
        else ""
    )
    cols = st.columns(len(actions) + 1)
    for col, action in zip(cols, actions, strict=False):
        label = t(f"lists_{action}", lg)
        if not col.button(
            label,
            key=f"do_{action}",
            type="primary" if action in ("approve", "submit") else "secondary",
        ):
            continue
        if action == "reject" and not reason.strip():
            st.error(t("lists_reason_needed", lg))
            continue
        try:
            decide_list(
                loaders.store(),
                int(list_id),
                principal,
                action,
                loaders.now(),
                reason or None,
                second_approval=second,
            )
            # shown after the rerun, which redraws the page for the list's new status
            st.session_state["lists_flash"] = t(
                f"lists_done_{action}", lg, id=fmt_int(int(list_id), lg)
            )
            st.rerun()
        except AgamError as exc:
            st.error(md_literal(str(exc)))


def _reasons_words(view: pd.DataFrame) -> list[str]:
    """Each line's reasons in the page's language, worded once per distinct list (lines of a
    union with the same flags share theirs: 5,000 lines took a second worded one by one)."""
    worded: dict[tuple[str, ...], str] = {}
    out = []
    for stored in view["reasons"]:
        key = tuple(stored)
        text = worded.get(key)
        if text is None:
            text = worded[key] = "; ".join(labels.reason(r, lg) for r in key)
        out.append(text)
    return out


def _lines_table(view: pd.DataFrame) -> pd.DataFrame:
    """The lines as the reviewer reads them, in the page's language."""
    return pd.DataFrame(
        {
            t("col_rank", lg): view["rank"].map(lambda n: fmt_int(n, lg)),
            t("col_line_ref", lg): view["line_ref"],
            t("col_household", lg): view["household_id"],
            t("col_union", lg): view["adm4_pcode"].map(lambda c: names.get(c, c)),
            t("col_score", lg): view["priority_score"].map(lambda v: fmt_num(v, lg, 1)),
            # why, beside the score it explains; a bounded width keeps the amount and
            # the payee on the page (the whole text shows when a cell is hovered)
            t("col_reasons", lg): _reasons_words(view),
            t("col_amount", lg): view["amount_bdt"].map(lambda n: fmt_bdt(n, lg)),
            t("col_payee", lg): [
                labels.payee(channel, provider, account, routing, office, lg)
                for channel, provider, account, routing, office in zip(
                    *(view[c] for c in MASKED_PAYEE), strict=True
                )
            ],
            t("col_payee_changed", lg): view["payee_changed"].map(
                lambda c: labels.payee_changes(c, lg)
            ),
            t("col_excluded", lg): view["exclusion_reason"].map(lambda r: labels.exclusion(r, lg)),
        }
    )


if principal.role == "committee":
    st.info(t("lists_committee_aggregates", lg))
else:
    only_included = st.toggle(t("lists_only_included", lg), value=True, key="only_included")
    view, changed = data.list_lines(principal, int(list_id), only_included, SHOWN_LINES)
    if changed:
        st.warning(t("lists_payees_changed", lg, count=fmt_int(changed, lg)))
    if not view.empty:
        st.dataframe(
            _lines_table(view),
            hide_index=True,
            width="stretch",
            column_config={t("col_reasons", lg): st.column_config.TextColumn(width=280)},
        )


def _may_export(history: data.ExportHistory) -> bool:
    """Not after the provider answered (the store refuses it too); again only when the
    person says the provider did not receive the earlier file."""
    if history.results_returned:
        st.info(t("lists_results_returned", lg, count=fmt_int(history.results_returned, lg)))
        return False
    if not history.count:
        return True
    when = fmt_time(history.last_at, lg)
    count = fmt_int(history.count, lg)
    st.warning(t("lists_exported_before", lg, count=count, at=when, by=history.last_by))
    return st.checkbox(t("lists_export_again_confirm", lg), key=f"again_{list_id}")


if principal.role == "district_admin" and row["status"] in ("approved", "exported"):
    history = data.export_history(int(list_id))
    if _may_export(history):
        fmt = st.radio(t("lists_format", lg), ("csv", "xlsx"), horizontal=True, key="pay_fmt")
        if st.button(t("lists_prepare_download", lg), key="prepare_download"):
            jobs.start_export(principal, int(list_id), "xlsx" if fmt == "xlsx" else "csv")
    polling = jobs.export_state(principal, int(list_id))[0] == "running"

    @st.fragment(run_every=2 if polling else None)
    def payment_files() -> None:
        state, result = jobs.export_state(principal, int(list_id))
        if polling and state != "running":
            st.rerun()  # the whole page: the history above and no more polling
        if state == "running":
            st.info(t("lists_preparing", lg))
        elif state == "failed":
            st.error(md_literal(str(result)))
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
