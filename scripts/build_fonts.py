"""Derive the web fonts and the symbol subset shipped in dashboard/static/fonts/.

Sources are Debian's `fonts-noto-core` 20201225-1 (SIL OFL 1.1; Noto has no Reserved Font
Name, so subsets may keep it):

    apt-get download fonts-noto-core && dpkg-deb -x fonts-noto-core_*.deb noto
    pip install -e '.[build-data]'
    python scripts/build_fonts.py noto/usr/share/fonts/truetype/noto

Writes NotoSansBengali-{Regular,Bold}.woff2 (the same glyphs as the .ttf files, compressed for
browsers) and NotoSansMath-Agam.{ttf,woff2}: the arrows, mathematical operators and signs
(≥ ≤ → ± − × ≈ …) that Noto Sans lacks, for the briefing PDF and the web pages.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

FONTS = Path(__file__).resolve().parents[1] / "dashboard" / "static" / "fonts"
MATH_RANGES = [(0x2190, 0x21FF), (0x2200, 0x22FF), (0x25CC, 0x25CC)]
MATH_EXTRA = [0x00B1, 0x00D7, 0x00F7, 0x2212]


def woff2(source: Path, target: Path) -> None:
    font = TTFont(source)
    font.flavor = "woff2"
    font.save(target)


def math_subset(source: Path) -> None:
    codepoints = [c for lo, hi in MATH_RANGES for c in range(lo, hi + 1)] + MATH_EXTRA
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    font = TTFont(source)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[c for c in codepoints if c in font.getBestCmap()])
    subsetter.subset(font)
    font.save(FONTS / "NotoSansMath-Agam.ttf")
    font.flavor = "woff2"
    font.save(FONTS / "NotoSansMath-Agam.woff2")


def main(noto_dir: Path) -> None:
    for style in ("Regular", "Bold"):
        woff2(FONTS / f"NotoSansBengali-{style}.ttf", FONTS / f"NotoSansBengali-{style}.woff2")
    math_subset(noto_dir / "NotoSansMath-Regular.ttf")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
