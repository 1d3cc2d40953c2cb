"""Free text people type (names, reasons): refused when it holds characters that make it show
as something else than it is, wherever it is shown or written later."""

from __future__ import annotations

import re

# NUL and every other control character (C0, DEL, C1); the bidirectional marks, overrides and
# isolates that make "LTR" display as "RTL"; line and paragraph separators (a line break
# inside a cell); and tag characters (invisible text). ZWJ and ZWNJ (Bangla needs them) pass.
CONTROL_CHARS = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
    r"\U000e0000-\U000e007f]"
)
MAX_REASON_CHARS = 1000  # a decision's reason; the audit log keeps it whole


def hidden_characters(text: str) -> bool:
    """Does `text` hold a control or text-direction character?"""
    return CONTROL_CHARS.search(text) is not None
