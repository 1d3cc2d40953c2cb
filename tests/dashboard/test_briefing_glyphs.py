"""No glyph of the briefing falls back to an empty box: every character of the message
catalogue (English and Bangla) and of the numbers and symbols the briefing prints is drawn
by one of the embedded fonts, and the PDF's own text holds the symbols that used to vanish."""

from __future__ import annotations

import io
import logging

import pypdf
import pytest

from dashboard import briefing_pdf
from dashboard.briefing_pdf import BriefingPdf
from dashboard.i18n import catalog

# Printed by code rather than the catalogue: digits, money, units, arrows, degrees, P-codes.
DYNAMIC = (
    "0123456789 ০১২৩৪৫৬৭৮৯ ≥ ≤ → ± ³ ² × − ° · – — … % ‘ ’ “ ” « » "
    "m³/s km/h BD5549 ECMWF IMD JTWC GFS BMD"
)
SYMBOLS = "≥≤→±³"


def catalogue_text() -> str:
    texts = [DYNAMIC]
    for entry in catalog().values():
        texts.extend(entry.en)
        texts.extend(entry.bn)
    return "\n".join(texts)


def render(lang: str, text: str) -> tuple[BriefingPdf, bytes]:
    pdf = BriefingPdf(lang)
    pdf.add_page()
    for style in ("", "B"):
        pdf.set_font(pdf.main_font, style, 9)
        pdf.multi_cell(0, 5, text, align="L", new_x="LMARGIN", new_y="NEXT")
    return pdf, bytes(pdf.output())


IGNORED = {0x200C, 0x200D}  # zero-width (non-)joiners steer shaping, draw nothing


def drawn(pdf: BriefingPdf) -> set[str]:
    """Every character some embedded font drew a real glyph for (not .notdef)."""
    out: set[str] = set()
    for font in pdf.fonts.values():
        for glyph, _ in font.subset.items():
            if glyph is None or glyph.glyph_id == 0:
                continue
            codes = glyph.unicode if isinstance(glyph.unicode, tuple) else (glyph.unicode,)
            out |= {chr(c) for c in codes}
    return out


def missing(pdf: BriefingPdf, text: str) -> set[str]:
    wanted = {c for c in text if not c.isspace() and ord(c) not in IGNORED}
    notdef = {
        chr(c)
        for font in pdf.fonts.values()
        for glyph, _ in font.subset.items()
        if glyph is not None and glyph.glyph_id == 0
        for c in (glyph.unicode if isinstance(glyph.unicode, tuple) else (glyph.unicode,))
    }
    recorded = {chr(c) for font in pdf.fonts.values() for c in font.missing_glyphs}
    return (wanted - drawn(pdf)) | notdef | recorded


@pytest.mark.parametrize("lang", ["en", "bn"])
def test_every_catalogue_character_has_a_glyph(lang: str, caplog: pytest.LogCaptureFixture) -> None:
    text = catalogue_text()
    with caplog.at_level(logging.WARNING, logger="fpdf"):
        pdf, body = render(lang, text)
    assert missing(pdf, text) == set()
    assert not [r for r in caplog.records if "missing the following glyphs" in r.getMessage()]
    extracted = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(body)).pages)
    for symbol in SYMBOLS:
        assert symbol in extracted, symbol
    fonts = {
        str(font["/BaseFont"])
        for page in pypdf.PdfReader(io.BytesIO(body)).pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert any("NotoSansMath" in f for f in fonts), fonts  # the symbols' fallback is embedded
    assert any("Bengali" in f for f in fonts), fonts


def test_the_check_catches_a_missing_font(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the symbol subset, ≥ and → have no glyph: the same check must say so."""
    fonts = {k: v for k, v in briefing_pdf.FONT_FILES.items() if k != "NotoMath"}
    monkeypatch.setattr(briefing_pdf, "FONT_FILES", fonts)
    text = "forecast ≥ 118 km/h, 114,916 → 115,501"
    pdf, _ = render("en", text)
    assert missing(pdf, text) == {"≥", "→"}
