"""Cell styles under which a value cannot be seen, read from a workbook's styles and theme.

A row need not be hidden to go unseen: its text can be the colour of its fill (white on
white, or a grey too faint to read) or its number format can show nothing (`;;;`). Excel
keeps such styles in the styles part (`cellXfs`: a font, a fill and a number format each),
with theme colours defined in the theme part. Here each style is judged once for text and
for numbers: unseen when the format's section for that kind of value is empty, or when the
text colour (the format's `[Color]`, else the font's) has less contrast with the fill than
`[unseen] min_text_contrast_ratio` in `data/spreadsheet_limits.toml` (WCAG's ratio: 1 for
the same colour, 21 for black on white), or when its font is smaller than `min_font_points`.
Colours this cannot resolve count as seen.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.parsers import expat

from allowances.spreadsheet_guard import unseen_limits

MAIN = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)
DRAWING = "http://schemas.openxmlformats.org/drawingml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
WHITE, BLACK = "FFFFFF", "000000"
INDEXED = {0: BLACK, 1: WHITE, 8: BLACK, 9: WHITE, 64: BLACK, 65: WHITE}  # the fixed ones
THEME_ORDER = ("lt1", "dk1", "lt2", "dk2", "accent1", "accent2", "accent3", "accent4",
               "accent5", "accent6", "hlink", "folHlink")  # fmt: skip  # Excel's theme="n"
DEFAULT_THEME = {"lt1": WHITE, "dk1": BLACK}
FORMAT_COLOURS = {"black": BLACK, "white": WHITE, "red": "FF0000", "green": "00FF00",
                  "blue": "0000FF", "yellow": "FFFF00", "magenta": "FF00FF",
                  "cyan": "00FFFF"}  # fmt: skip


@dataclass(frozen=True)
class Unseen:
    """Style indexes (a cell's `s`) under which text, or numbers, cannot be seen."""

    text: frozenset[int] = frozenset()
    numbers: frozenset[int] = frozenset()
    conditional: frozenset[int] = frozenset()  # differential styles (`dxfId`) that hide
    theme: tuple[tuple[str, str], ...] = tuple(DEFAULT_THEME.items())  # to judge inline dxfs
    palette: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.text or self.numbers or self.conditional)

    def inline_hides(self, dxf: Dxf) -> bool:
        """Whether a rule's own differential style (Excel 2010's `x14:dxf`) hides."""
        ratio = unseen_limits().min_text_contrast_ratio
        return _dxf_hides(dxf, dict(self.theme), list(self.palette), ratio)

    def hides(self, style: int, cell_type: str) -> bool:
        texts = cell_type in ("s", "str", "inlineStr")
        return style in (self.text if texts else self.numbers)


@dataclass
class _Colour:
    rgb: str | None = None  # RRGGBB; None: automatic (the font's black)
    theme: int | None = None
    indexed: int | None = None
    tint: float = 0.0


@dataclass
class _Styles:
    formats: dict[int, str] = field(default_factory=dict)
    fonts: list[_Colour] = field(default_factory=list)
    sizes: list[float] = field(default_factory=list)  # each font's size in points
    fills: list[_Colour | None] = field(default_factory=list)  # None: no solid fill
    xfs: list[tuple[int, int, int]] = field(default_factory=list)  # format, font, fill
    palette: list[str] = field(default_factory=list)  # the workbook's own indexed colours
    dxfs: list[Dxf] = field(default_factory=list)  # conditional formatting's styles


@dataclass
class Dxf:
    """What a conditional format changes: text colour, fill, number format (None: unchanged)."""

    ink: _Colour | None = None
    fill: _Colour | None = None
    format: str | None = None


def unseen_styles(archive: zipfile.ZipFile) -> Unseen:
    """The workbook's unseen styles; none when it has no styles part."""
    targets = _workbook_parts(archive)
    styles_part = targets.get("styles")
    theme = dict(DEFAULT_THEME)
    theme_part = targets.get("theme")
    if theme_part is not None and theme_part in archive.NameToInfo:
        with archive.open(theme_part) as stream:
            theme.update(_theme_colours(stream.read()))
    if styles_part is None or styles_part not in archive.NameToInfo:
        return Unseen(theme=tuple(theme.items()))
    with archive.open(styles_part) as stream:
        styles = _read_styles(stream.read())
    return _judge(styles, theme)


def _workbook_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """The workbook's related parts by kind ("styles", "theme"), as zip member names."""
    rels = "xl/_rels/workbook.xml.rels"
    if rels not in archive.NameToInfo:
        return {}
    found: dict[str, str] = {}

    def start(name: str, attrs: dict[str, str]) -> None:
        if name != f"{RELATIONSHIPS} Relationship" or attrs.get("TargetMode") == "External":
            return
        kind = attrs.get("Type", "").rsplit("/", 1)[-1]
        target = attrs.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        found.setdefault(kind, posixpath.normpath(path))

    _parse(archive.read(rels), start)
    return found


def _parse(data: bytes, start: Callable[[str, dict[str, str]], None]) -> None:
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    parser.Parse(data, True)


def _theme_colours(data: bytes) -> dict[str, str]:
    colours: dict[str, str] = {}
    current: list[str] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        local = name.rsplit(" ", 1)[-1]
        if name.startswith(DRAWING) and local in THEME_ORDER:
            current[:] = [local]
        elif current and local in ("srgbClr", "sysClr"):
            value = attrs.get("val") if local == "srgbClr" else attrs.get("lastClr")
            if value and current[0] not in colours:
                colours[current[0]] = value[-6:].upper()

    _parse(data, start)
    return colours


def _colour(attrs: dict[str, str]) -> _Colour:
    tint = _float(attrs.get("tint"), 0.0)
    if attrs.get("rgb"):
        return _Colour(rgb=attrs["rgb"][-6:].upper(), tint=tint)
    if "indexed" in attrs:
        return _Colour(indexed=int(_float(attrs["indexed"], -1)), tint=tint)
    if "theme" in attrs:
        return _Colour(theme=int(_float(attrs["theme"], -1)), tint=tint)
    return _Colour()  # automatic (`auto="1"` or nothing said)


def _read_styles(data: bytes) -> _Styles:
    styles = _Styles()
    where: list[str] = []  # the open list: fonts, fills or cellXfs
    pattern: list[str] = [""]
    part: list[str] = [""]  # within a dxf: font, fill, border …

    def start(name: str, attrs: dict[str, str]) -> None:
        if not name.startswith(MAIN):
            return
        local = name.rsplit(" ", 1)[-1]
        if local in ("fonts", "fills", "cellXfs", "cellStyleXfs", "dxfs", "indexedColors"):
            where[:] = [local]
        elif where == ["dxfs"]:
            dxf_part(styles.dxfs, part, local, attrs)
        elif where == ["indexedColors"] and local == "rgbColor":
            styles.palette.append(attrs.get("rgb", "")[-6:].upper())
        elif local == "numFmt":
            styles.formats[int(_float(attrs.get("numFmtId"), -1))] = attrs.get("formatCode", "")
        elif where == ["fonts"] and local == "font":
            styles.fonts.append(_Colour())
            styles.sizes.append(11.0)  # Excel's default when the font gives none
        elif where == ["fonts"] and local == "sz" and styles.sizes:
            styles.sizes[-1] = _float(attrs.get("val"), 11.0)
        elif where == ["fonts"] and local == "color" and styles.fonts:
            styles.fonts[-1] = _colour(attrs)
        elif where == ["fills"] and local == "fill":
            styles.fills.append(None)
        elif where == ["fills"] and local == "patternFill":
            pattern[0] = attrs.get("patternType", "none")
            if pattern[0] == "solid" and styles.fills:
                styles.fills[-1] = _Colour(rgb=BLACK)  # a solid fill of no colour: black
        elif where == ["fills"] and local == "fgColor" and pattern[0] == "solid" and styles.fills:
            styles.fills[-1] = _colour(attrs)
        elif where == ["cellXfs"] and local == "xf":
            ids = (attrs.get(k) for k in ("numFmtId", "fontId", "fillId"))
            fmt, font, fill = (int(_float(v, 0)) for v in ids)
            styles.xfs.append((fmt, font, fill))

    _parse(data, start)
    return styles


def dxf_part(dxfs: list[Dxf], part: list[str], local: str, attrs: dict[str, str]) -> None:
    if local == "dxf":
        dxfs.append(Dxf())
    elif not dxfs:
        return
    elif local in ("font", "fill", "border", "numFmt", "alignment", "protection"):
        part[0] = local
        if local == "numFmt":
            dxfs[-1].format = attrs.get("formatCode", "")
    elif part[0] == "font" and local == "color":
        dxfs[-1].ink = _colour(attrs)
    elif part[0] == "fill" and local == "patternFill":
        if attrs.get("patternType", "solid") == "solid":  # a dxf's fill is solid unless said
            dxfs[-1].fill = _Colour(rgb=BLACK)  # of no colour: black, as a cell's
    elif part[0] == "fill" and local == "bgColor" and dxfs[-1].fill is not None:
        dxfs[-1].fill = _colour(attrs)  # a solid dxf fill shows its bgColor


def _judge(styles: _Styles, theme: dict[str, str]) -> Unseen:
    limits = unseen_limits()
    text: set[int] = set()
    numbers: set[int] = set()
    for index, (fmt, font_id, fill_id) in enumerate(styles.xfs):
        sections = _sections(styles.formats.get(fmt, ""))
        has_font = 0 <= font_id < len(styles.fonts)
        font = styles.fonts[font_id] if has_font else _Colour()
        fill = styles.fills[fill_id] if 0 <= fill_id < len(styles.fills) else None
        background = _rgb(fill, theme, styles.palette, WHITE) if fill is not None else WHITE
        if has_font and styles.sizes[font_id] < limits.min_font_points:
            text.add(index)  # too small to read, whatever its colour
            numbers.add(index)
            continue
        for kind, section, into in (("text", 3, text), ("numbers", 0, numbers)):
            shown = sections[section] if section < len(sections) else None
            if kind == "text" and shown is None:
                shown = ""  # no text section: text shows as typed, in the font's colour
            elif shown is not None and _shows_nothing(shown):
                into.add(index)  # the format shows nothing for this kind of value
                continue
            ink = _format_colour(shown or "") or _rgb(font, theme, styles.palette, BLACK)
            if ink and background and _contrast(ink, background) < limits.min_text_contrast_ratio:
                into.add(index)
    ratio = limits.min_text_contrast_ratio  # conditional formats' styles that hide
    hiding = (
        i for i, dxf in enumerate(styles.dxfs) if _dxf_hides(dxf, theme, styles.palette, ratio)
    )
    conditional = frozenset(hiding)
    colours = tuple(theme.items())
    return Unseen(frozenset(text), frozenset(numbers), conditional, colours, tuple(styles.palette))


def _dxf_hides(dxf: Dxf, theme: dict[str, str], palette: list[str], ratio: float) -> bool:
    """A differential style that hides what it applies to: a format that shows nothing, or
    text and fill too close (what it leaves unchanged taken as black text on white)."""
    sections = _sections(dxf.format or "")
    if sections and all(_shows_nothing(part) for part in sections):
        return True
    if dxf.ink is None and dxf.fill is None:
        return False
    ink = _rgb(dxf.ink, theme, palette, BLACK) if dxf.ink else BLACK
    background = _rgb(dxf.fill, theme, palette, WHITE) if dxf.fill else WHITE
    return bool(ink and background and _contrast(ink, background) < ratio)


def _sections(code: str) -> list[str]:
    """A number format's sections (positive; negative; zero; text), split on unquoted `;`."""
    if not code:
        return []
    parts, current, quoted, escaped = [], [], False, False
    for char in code:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char == '"':
            current.append(char)
            quoted = not quoted
        elif char == ";" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _shows_nothing(section: str) -> bool:
    """A format section that prints nothing visible: once its colour and condition tags
    (`[White]`, `[>0]`), empty or blank literals (`""`, `" "`), padding (`_x`), a space
    repeated (`* `) and escaped spaces are taken away, nothing is left (`;;;`,
    `"";"";"";""`, `_-;_-`)."""
    rest = re.sub(r'\[[^\]]*\]|"\s*"|_.|\* |\\ ', "", section)
    return not rest.strip()


def _format_colour(section: str) -> str | None:
    match = re.search(r"\[(\w+)\]", section)
    return FORMAT_COLOURS.get(match.group(1).lower()) if match else None


def _rgb(colour: _Colour, theme: dict[str, str], palette: list[str], automatic: str) -> str | None:
    """The colour as RRGGBB with its tint; `automatic` when none is set; None if unknown."""
    base = colour.rgb
    if colour.theme is not None:
        name = THEME_ORDER[colour.theme] if 0 <= colour.theme < len(THEME_ORDER) else ""
        base = theme.get(name)
    elif colour.indexed is not None:
        index = colour.indexed
        own = palette[index] if 0 <= index < len(palette) and index < 64 else None
        base = own or INDEXED.get(index)
    elif base is None:
        return automatic
    if base is None or not re.fullmatch(r"[0-9A-F]{6}", base):
        return None
    return _tinted(base, colour.tint)


def _tinted(rgb: str, tint: float) -> str:
    """Excel's tint, applied per channel (lighter towards white, darker towards black)."""
    channels = [int(rgb[i : i + 2], 16) for i in (0, 2, 4)]
    if tint > 0:
        channels = [round(c + (255 - c) * tint) for c in channels]
    elif tint < 0:
        channels = [round(c * (1 + tint)) for c in channels]
    return "".join(f"{max(0, min(255, c)):02X}" for c in channels)


def _luminance(rgb: str) -> float:
    def linear(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(rgb[i : i + 2], 16)) for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(one: str, other: str) -> float:
    high, low = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _float(value: str | None, default: float) -> float:
    try:
        return float(value) if value is not None else default
    except ValueError:
        return default
