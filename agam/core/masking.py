"""Masking identifiers on screen: enough to tell records apart, no more."""

from __future__ import annotations

import re


def mask_identifier(value: str, keep: int = 2) -> str:
    """``01712345678`` -> ``01*******78``."""
    if len(value) <= 2 * keep:
        return "*" * len(value)
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]


NUMBER_RUN = re.compile(r"[0-9০-৯](?:[\s\-]?[0-9০-৯]){5,}")  # six digits or more, spaced or not


def mask_numbers(text: str) -> str:
    """Free text from outside (a provider's failure reason) with every run of six digits or
    more masked: ``wallet 01712-345678 closed`` -> ``wallet 01*******78 closed``. A phone, NID
    or account number quoted there would otherwise be stored, and audited, for good."""

    def masked(match: re.Match[str]) -> str:
        return mask_identifier("".join(c for c in match.group() if c.isdigit()))

    return NUMBER_RUN.sub(masked, text)
