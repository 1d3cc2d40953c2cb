"""The committee briefing as a PDF a committee can table, in English or Bangla.

Page 1 is the summary: headline figures, a map of districts by stage, a table of districts ×
stage × households × BDT (proposed and approved kept apart, rejected lists not counted), what
changed since the last briefing for this scope, and data freshness. Details follow: each
alert with its explanation, each list with its next step, sources and the audit chain.

Fonts are embedded and text is shaped (uharfbuzz): Noto Sans, Noto Sans Bengali and a Noto
Sans Math subset for ≥ ≤ → ± and the like, each the fallback of the others, so no glyph falls
back to an empty box (tests/dashboard/test_briefing_glyphs.py checks every catalogue string).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from fpdf import FPDF, FontFace

from agam.pipeline.briefing import BriefingData
from dashboard import labels
from dashboard.explain import evaluation_text, find_stage
from dashboard.i18n import fmt_bdt, fmt_int, fmt_num, fmt_pct, fmt_time, t
from dashboard.stages import NO_ALERT, STAGE_COLOURS, STAGE_FILLS

FONT_FILES = {
    "NotoSans": ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf"),
    "NotoBn": ("NotoSansBengali-Regular.ttf", "NotoSansBengali-Bold.ttf"),
    "NotoMath": ("NotoSansMath-Agam.ttf", "NotoSansMath-Agam.ttf"),
}
SUMMARY_ROWS = 12  # more districts than this continue in the details
CHANGES_SHOWN = 6
GREY = (90, 90, 90)


def _font(name: str) -> str:
    return str(Path(str(resources.files("dashboard"))) / "static" / "fonts" / name)


def stage_map_png(districts: gpd.GeoDataFrame, alerts: list[dict[str, Any]]) -> bytes:
    """Districts filled by their highest open alert stage (grey: none)."""
    rank = {"readiness": 1, "observational": 2, "action": 3}
    top: dict[str, str] = {}
    for a in alerts:
        if rank.get(a["stage"], 0) > rank.get(top.get(a["district_pcode"], ""), 0):
            top[a["district_pcode"]] = a["stage"]
    colours = districts["adm2_pcode"].map(top).map(STAGE_FILLS).fillna(NO_ALERT)
    fig, ax = plt.subplots(figsize=(3.6, 4.4), dpi=130)
    districts.plot(ax=ax, color=colours, edgecolor="#6b7280", linewidth=0.3)
    ax.set_axis_off()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight", pad_inches=0.02)
    plt.close(fig)
    return buffer.getvalue()


class BriefingPdf(FPDF):
    """A4, fonts for every script the catalogue uses, footer 'page n' in the language."""

    def __init__(self, lang: str) -> None:
        super().__init__(format="A4")
        self.lang = lang
        for family, (regular, bold) in FONT_FILES.items():
            self.add_font(family, "", _font(regular))
            self.add_font(family, "B", _font(bold))
        self.main_font = "NotoBn" if lang == "bn" else "NotoSans"
        others = [f for f in FONT_FILES if f != self.main_font]
        self.set_fallback_fonts(others, exact_match=False)
        self.set_text_shaping(True)
        self.set_auto_page_break(True, margin=16)
        self.set_margins(14, 14, 14)

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font(self.main_font, size=8)
        self.set_text_color(*GREY)
        page = t("briefing_footer", self.lang, page=fmt_int(self.page_no(), self.lang))
        self.cell(0, 5, page, align="C")
        self.set_text_color(0, 0, 0)

    def para(self, text: str, size: float = 9.5, bold: bool = False, height: float = 5) -> None:
        self.set_font(self.main_font, "B" if bold else "", size)
        self.multi_cell(0, height, text, align="L", new_x="LMARGIN", new_y="NEXT")

    def section(self, title: str) -> None:
        self.ln(2.5)
        self.para(title, size=11.5, bold=True, height=6.5)


def _explanation(item: dict[str, Any], lang: str, rule_sets: Sequence[Any]) -> str:
    evaluation = item.get("evaluation")
    if lang == "en" or not evaluation:
        return str(item["explanation"])
    observed = evaluation.get("observed") or {}
    stage = find_stage(
        rule_sets,
        evaluation["rule_set_id"],
        evaluation["rule_set_version"],
        str(observed.get("trigger_id", "")),
    )
    text = evaluation_text(
        SimpleNamespace(observed=observed, state=evaluation["state"]), stage, lang
    )
    return text if text is not None else f"{t('ex_english_only', lang)} {item['explanation']}"


def _headline(pdf: BriefingPdf, data: BriefingData, lang: str) -> None:
    stages = [r["stage"] for r in data.district_rows() if r["stage"]]
    pdf.para(
        t(
            "briefing_alert_counts",
            lang,
            action=fmt_int(sum(s != "readiness" for s in stages), lang),
            readiness=fmt_int(sum(s == "readiness" for s in stages), lang),
        ),
        bold=True,
    )
    for key, totals in (("briefing_proposed", data.proposed), ("briefing_approved", data.approved)):
        pdf.para(
            t(
                key,
                lang,
                households=fmt_int(totals.households, lang),
                total=fmt_bdt(totals.total_bdt, lang),
                lists=fmt_int(totals.lists, lang),
            )
        )
    pdf.para(t("briefing_rejected", lang, lists=fmt_int(data.rejected.lists, lang)))


def _district_table(pdf: BriefingPdf, data: BriefingData, lang: str, names: dict[str, str]) -> None:
    rows = data.district_rows()
    if not rows:
        pdf.para(t("briefing_no_alerts", lang))
        return
    head = FontFace(emphasis="BOLD", fill_color=(238, 238, 238))
    pdf.set_font(pdf.main_font, size=8.5)
    with pdf.table(
        col_widths=(34, 24, 28, 32, 28, 36),
        text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=head,
        line_height=4.4,
        padding=0.8,
    ) as table:
        header = table.row()
        for key in ("col_district", "col_stage", "briefing_col_proposed_hh",
                    "briefing_col_proposed_bdt", "briefing_col_approved_hh",
                    "briefing_col_approved_bdt"):  # fmt: skip
            header.cell(t(key, lang))
        for r in rows[:SUMMARY_ROWS]:
            row = table.row()
            row.cell(names.get(r["district_pcode"], r["district"]))
            colour = STAGE_COLOURS.get(r["stage"] or "")
            row.cell(
                labels.stage(r["stage"], lang),
                style=FontFace(color=_rgb(colour), emphasis="BOLD") if colour else None,
            )
            row.cell(fmt_int(r["proposed"].households, lang))
            row.cell(fmt_bdt(r["proposed"].total_bdt, lang))
            row.cell(fmt_int(r["approved"].households, lang))
            row.cell(fmt_bdt(r["approved"].total_bdt, lang))
        total = table.row(style=FontFace(emphasis="BOLD"))
        total.cell(t("briefing_total", lang))
        total.cell("")
        total.cell(fmt_int(data.proposed.households, lang))
        total.cell(fmt_bdt(data.proposed.total_bdt, lang))
        total.cell(fmt_int(data.approved.households, lang))
        total.cell(fmt_bdt(data.approved.total_bdt, lang))
    if len(rows) > SUMMARY_ROWS:
        pdf.para(t("briefing_more_districts", lang, n=fmt_int(len(rows) - SUMMARY_ROWS, lang)))


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _changes(pdf: BriefingPdf, data: BriefingData, lang: str, names: dict[str, str]) -> None:
    if data.last_briefing_at is None:
        pdf.section(t("briefing_changes_first", lang))
    else:
        pdf.section(t("briefing_changes", lang, at=fmt_time(data.last_briefing_at, lang)))
    if not data.changes:
        pdf.para(t("overview_no_changes", lang))
    for c in data.changes[:CHANGES_SHOWN]:
        district = names.get(c["district_pcode"], c["district"])
        change = labels.change(c["from"], c["to"], lang)
        pdf.para(f"{fmt_time(c['at'], lang, zone=False)} · {district} · {change}")
    if len(data.changes) > CHANGES_SHOWN:
        more = fmt_int(len(data.changes) - CHANGES_SHOWN, lang)
        pdf.para(t("briefing_more_changes", lang, n=more))


def _freshness(pdf: BriefingPdf, data: BriefingData, lang: str, scenarios: dict[str, str]) -> None:
    pdf.section(t("briefing_sources", lang))
    for feed in data.feeds:
        state = scenarios.get(feed["feed"]) or t(f"health_state_{feed['state']}", lang)
        pdf.para(
            t(
                "briefing_feed_line",
                lang,
                feed=labels.feed(feed["feed"], lang),
                state=state,
                issued=fmt_time(feed["issued_at"], lang),
            ),
            size=8.5,
            height=4.5,
        )


def _details(
    pdf: BriefingPdf,
    data: BriefingData,
    lang: str,
    names: dict[str, str],
    rule_sets: Sequence[Any],
) -> None:
    pdf.add_page()
    pdf.para(t("briefing_details", lang), size=14, bold=True, height=8)
    pdf.section(t("briefing_alerts", lang))
    if not data.alerts:
        pdf.para(t("briefing_no_alerts", lang))
    for a in data.alerts:
        pdf.para(
            f"{names.get(a['district_pcode'], a['district'])} · {labels.stage(a['stage'], lang)}"
            f" · {labels.rule_set(a['rule_set'], lang)}",
            bold=True,
        )
        pdf.para(
            t(
                "briefing_alert_line",
                lang,
                since=fmt_time(a["opened_at"], lang),
                unions=fmt_int(a["unions"], lang),
            ),
            size=8.5,
        )
        pdf.para(_explanation(a, lang, rule_sets), size=8.5)
        pdf.ln(1.5)
    pdf.section(t("nav_lists", lang))
    for r in data.lists:
        pdf.para(
            t(
                "briefing_list_line",
                lang,
                id=fmt_int(r["list_id"], lang),
                district=names.get(r["district_pcode"], r["district"]),
                status=labels.list_status(r["status"], lang),
                households=fmt_int(r["households"], lang),
                total=fmt_bdt(r["total_bdt"], lang),
                next=labels.next_step(r, lang),
            ),
            size=8.5,
        )
    _me(pdf, data, lang)
    pdf.section(t("briefing_provenance", lang))
    pdf.para(t("briefing_boundaries", lang, source=data.boundary_source), size=8.5)
    pdf.para(
        t(
            "briefing_audit",
            lang,
            entries=fmt_int(data.audit_entries, lang),
            head=data.audit_head[:32],
        ),
        size=8.5,
    )


def _me(pdf: BriefingPdf, data: BriefingData, lang: str) -> None:
    """Monitoring and evaluation: per activation with payment results, aggregates only."""
    if not data.me:
        return
    pdf.section(t("briefing_me", lang))
    for m in data.me:
        before = m["share_paid_before_peak"]
        lead = m["lead_hours_first_payment"]
        pdf.para(
            t(
                "briefing_me_line",
                lang,
                label=m["label"] + (" (SYNTHETIC)" if m["synthetic"] else ""),
                paid=fmt_int(m["households_paid"], lang),
                rolls=fmt_int(m["households_on_rolls"], lang),
                total=fmt_bdt(m["paid_bdt"], lang),
                before=fmt_pct(before, lang) if before is not None else "–",
                lead=fmt_num(lead, lang, 1) if lead is not None else "–",
                failed=fmt_int(m["failed"], lang),
                reversed=fmt_int(m["reversed"], lang),
            ),
            size=8.5,
        )


def build_briefing_pdf(
    data: BriefingData,
    lang: str,
    map_png: bytes | None = None,
    *,
    names: dict[str, str] | None = None,
    rule_sets: Sequence[Any] = (),
    scenarios: dict[str, str] | None = None,
) -> bytes:
    """`names`: district names in `lang` (else the layer's English); `scenarios`: feed ->
    'scenario data (played for …)' for feeds holding demo scenario data."""
    names = names or data.district_names
    pdf = BriefingPdf(lang)
    pdf.add_page()
    pdf.para(t("briefing_title", lang), size=15, bold=True, height=7.5)
    scope = (
        ", ".join(names.get(d, d) for d in data.scope)
        if data.scope
        else t("overview_scope_national", lang)
    )
    pdf.set_text_color(*GREY)
    pdf.para(t("briefing_generated", lang, at=fmt_time(data.generated_at, lang), scope=scope))
    pdf.set_text_color(0, 0, 0)
    if data.synthetic:
        pdf.set_text_color(180, 0, 0)
        pdf.para(t("briefing_synthetic", lang), bold=True)
        pdf.set_text_color(0, 0, 0)
    top = pdf.get_y() + 2
    if map_png:
        pdf.image(io.BytesIO(map_png), x=pdf.w - 14 - 58, y=top, w=58)
    pdf.set_y(top)
    pdf.set_right_margin(14 + 62)
    _headline(pdf, data, lang)
    pdf.set_right_margin(14)
    pdf.set_y(max(pdf.get_y() + 3, top + 74 if map_png else 0))
    _district_table(pdf, data, lang, names)
    _changes(pdf, data, lang, names)
    _freshness(pdf, data, lang, scenarios or {})
    _details(pdf, data, lang, names, rule_sets)
    return bytes(pdf.output())
