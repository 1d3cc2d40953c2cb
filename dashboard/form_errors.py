"""A form's refusal in the page's words: field by field, never the validator's internals."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError

from dashboard.i18n import fmt_int, t

EMPTY = ("missing", "string_type", "string_too_short")


def refusal_text(exc: ValidationError, labels: Mapping[str, str], lang: str) -> str:
    """One line per refused field, named by its form label: "Phone: not a Bangladesh mobile
    number (01[3-9]XXXXXXXX)"."""
    lines = []
    for error in exc.errors(include_url=False):
        field = str(error["loc"][0]) if error["loc"] else ""
        label = labels.get(field, field)
        kind = error["type"]
        if kind in EMPTY:
            why = t("form_required", lang)
        elif kind == "string_too_long":
            limit = int((error.get("ctx") or {}).get("max_length", 0))
            why = t("form_too_long", lang, max=fmt_int(limit, lang))
        else:
            why = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"{label}: {why}")
    return "\n".join(lines)
