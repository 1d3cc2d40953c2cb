"""Text people typed (names, reasons, errors that quote them), shown as typed."""

from __future__ import annotations

MARKDOWN_SPECIALS = frozenset("\\`*_{}[]()<>#+-.!|~:$&")


def md_literal(text: str) -> str:
    """Text people typed, shown by Streamlit's markdown as the characters typed: no links,
    images, emphasis or emoji codes (every ASCII punctuation mark that could start one is
    escaped)."""
    return "".join(f"\\{c}" if c in MARKDOWN_SPECIALS else c for c in text)
