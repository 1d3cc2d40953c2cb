"""The committee briefing as a PDF, in English or Bangla (fonts embedded, text shaped)."""

from __future__ import annotations

import io
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from fpdf import FPDF

from agam.pipeline.briefing import BriefingData
from dashboard.i18n import fmt_bdt, fmt_int, fmt_time, t

STAGE_COLOURS = {"readiness": "#f59e0b", "action": "#dc2626", "observational": "#7c3aed"}


def _font(name: str) -> str:
    return str(Path(str(resources.files("dashboard"))) / "static" / "fonts" / name)


def stage_map_png(districts: gpd.GeoDataFrame, alerts: list[dict[str, Any]]) -> bytes:
    """Districts coloured by their highest open alert stage."""
    stage_by_district: dict[str, str] = {}
    for a in alerts:
        current = stage_by_district.get(a["district_pcode"])
        if current is None or a["stage"] == "action":
            stage_by_district[a["district_pcode"]] = a["stage"]
    colours = districts["adm2_pcode"].map(stage_by_district).map(STAGE_COLOURS).fillna("#e5e7eb")
    fig, ax = plt.subplots(figsize=(4.2, 5.2), dpi=110)
    districts.plot(ax=ax, color=colours, edgecolor="#6b7280", linewidth=0.3)
    ax.set_axis_off()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


class _Pdf(FPDF):
    def __init__(self, lang: str) -> None:
        super().__init__(format="A4")
        self.lang = lang
        for family, regular, bold in (
            ("NotoSans", "NotoSans-Regular.ttf", "NotoSans-Bold.ttf"),
            ("NotoBn", "NotoSansBengali-Regular.ttf", "NotoSansBengali-Bold.ttf"),
        ):
            self.add_font(family, "", _font(regular))
            self.add_font(family, "B", _font(bold))
        main = "NotoBn" if lang == "bn" else "NotoSans"
        self.set_fallback_fonts(["NotoSans" if lang == "bn" else "NotoBn"])
        self.set_text_shaping(True)
        self.main_font = main
        self.set_auto_page_break(True, margin=15)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.main_font, size=8)
        self.cell(0, 6, t("briefing_footer", self.lang, page=self.page_no()), align="C")


def build_briefing_pdf(data: BriefingData, lang: str, map_png: bytes | None = None) -> bytes:
    pdf = _Pdf(lang)
    pdf.add_page()
    f = pdf.main_font
    pdf.set_font(f, "B", 16)
    pdf.multi_cell(0, 9, t("briefing_title", lang), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(f, size=10)
    pdf.multi_cell(
        0,
        6,
        t("briefing_generated", lang, at=fmt_time(data.generated_at, lang)),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    if data.synthetic:
        pdf.set_text_color(180, 0, 0)
        pdf.multi_cell(0, 6, t("briefing_synthetic", lang), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    if map_png:
        pdf.image(io.BytesIO(map_png), x=pdf.w - 80, y=30, w=65)
    _section(pdf, t("briefing_alerts", lang))
    if not data.alerts:
        pdf.multi_cell(0, 6, t("briefing_no_alerts", lang), new_x="LMARGIN", new_y="NEXT")
    for a in data.alerts:
        stage = t(f"stage_{a['stage']}", lang)
        pdf.set_font(f, "B", 10)
        pdf.multi_cell(
            120,
            6,
            f"{a['district']} ({a['district_pcode']}) — {stage}",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_font(f, size=9)
        pdf.multi_cell(
            120,
            5,
            t(
                "briefing_alert_line",
                lang,
                rule_set=a["rule_set"],
                since=fmt_time(a["opened_at"], lang),
                unions=fmt_int(a["unions"], lang),
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.multi_cell(120, 5, a["explanation"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(pdf.get_y(), 120))
    _section(pdf, t("briefing_caseload", lang))
    pdf.multi_cell(
        0,
        6,
        t(
            "briefing_caseload_line",
            lang,
            households=fmt_int(data.households, lang),
            total=fmt_bdt(data.total_bdt, lang),
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    for r in data.lists:
        if r["status"] == "superseded":
            continue
        pdf.multi_cell(
            0,
            5,
            f"{r['district'] or r['district_pcode']}: "
            f"{t('list_status_' + r['status'], lang)} · "
            f"{fmt_int(r['households'], lang)} · {fmt_bdt(r['total_bdt'], lang)}",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    _section(pdf, t("briefing_sources", lang))
    for feed in data.feeds:
        pdf.multi_cell(
            0,
            5,
            t(
                "briefing_feed_line",
                lang,
                feed=feed["feed"],
                state=t(f"health_state_{feed['state']}", lang),
                issued=fmt_time(feed["issued_at"], lang),
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.multi_cell(
        0,
        5,
        t("briefing_boundaries", lang, source=data.boundary_source),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.multi_cell(
        0,
        5,
        t(
            "briefing_audit",
            lang,
            entries=fmt_int(data.audit_entries, lang),
            head=data.audit_head[:32],
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())


def _section(pdf: _Pdf, title: str) -> None:
    pdf.ln(3)
    pdf.set_font(pdf.main_font, "B", 12)
    pdf.multi_cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.main_font, size=10)
