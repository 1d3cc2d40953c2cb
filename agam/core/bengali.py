"""Bengali digits (CLDR numbering system "beng"): how every text in Bangla writes a number."""

from __future__ import annotations

BENGALI_DIGITS = str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯")


def digits(text: str, lang: str) -> str:
    """Western digits in `text` written as `lang` writes them."""
    return text.translate(BENGALI_DIGITS) if lang == "bn" else text
