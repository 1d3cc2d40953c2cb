"""Free text people type (names, reasons): refused when it holds characters that make it show
as something else than it is, wherever it is shown or written later."""

from __future__ import annotations

import re

# NUL and every other control character (C0, DEL, C1); the bidirectional marks, overrides and
# isolates that make "LTR" display as "RTL"; line and paragraph separators (a line break
# inside a cell); and tag characters (invisible text). ZWJ and ZWNJ (Bangla needs them) pass.
HIDDEN_RANGES = (
    (0x00, 0x1F), (0x7F, 0x9F), (0x061C, 0x061C), (0x200E, 0x200F), (0x2028, 0x202E),
    (0x2066, 0x2069), (0xE0000, 0xE007F),
)  # fmt: skip
CONTROL_CHARS = re.compile("[" + "".join(f"{chr(a)}-{chr(b)}" for a, b in HIDDEN_RANGES) + "]")
# The same class in RE2's syntax, for Arrow's kernels over whole columns.
CONTROL_RE2 = "[" + "".join(f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in HIDDEN_RANGES) + "]"
MAX_REASON_CHARS = 1000  # a decision's reason; the audit log keeps it whole


def hidden_characters(text: str) -> bool:
    """Does `text` hold a control or text-direction character?"""
    return CONTROL_CHARS.search(text) is not None


def unfit_text(text: str, max_chars: int = MAX_REASON_CHARS) -> str | None:
    """Why `text` cannot be kept as typed (too long, or a hidden character), or None."""
    if len(text) > max_chars or hidden_characters(text):
        return f"at most {max_chars:,} characters, without control or text-direction characters"
    return None
