"""Masking identifiers on screen: enough to tell records apart, no more."""

from __future__ import annotations


def mask_identifier(value: str, keep: int = 2) -> str:
    """``01712345678`` -> ``01*******78``."""
    if len(value) <= 2 * keep:
        return "*" * len(value)
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]
