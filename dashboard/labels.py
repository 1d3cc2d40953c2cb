"""Domain words in the reader's language: statuses, next steps, reasons, rule sets, feeds."""

from __future__ import annotations

import re
from typing import Any

from allowances.targeting import FLAG_LABELS
from dashboard.i18n import catalog, fmt_int, fmt_num, t

_REASON = re.compile(r"^(?P<label>.+) \(\+(?P<points>[0-9.]+)\)$")
_HAZARD = re.compile(r"^hazard intensity (?P<value>[0-9.]+) in the union$")
_CAP = re.compile(r"^beyond the district cap of (?P<cap>[0-9,]+) households$")
_EXCLUSIONS = {
    "already paid in this activation": "exclusion_paid",
    "no payable channel (MFS wallet, bank or post)": "exclusion_channel",
}
_FLAG_BY_LABEL = {label: flag for flag, label in FLAG_LABELS.items()}


def known(key: str) -> bool:
    return key in catalog()


def stage(stage_id: str | None, lang: str) -> str:
    return t(f"stage_{stage_id}", lang) if stage_id and known(f"stage_{stage_id}") else "—"


def alert_status(status: str, lang: str) -> str:
    return t(f"alert_status_{status}", lang) if known(f"alert_status_{status}") else status


def list_status(status: str, lang: str) -> str:
    return t(f"list_status_{status}", lang) if known(f"list_status_{status}") else status


def next_step(row: Any, lang: str, second_approval: bool = False) -> str:
    """Who acts next on a list, and what they do (from its status and approvals)."""
    status = row["status"]
    if status == "submitted" and second_approval and row.get("approved_by"):
        return t("next_second_approval", lang)
    return t(f"next_{status}", lang) if known(f"next_{status}") else "—"


def change(from_stage: str | None, to_stage: str, lang: str) -> str:
    """'raised: action', 'readiness → action', 'stood down', 'closed'."""
    if to_stage in ("stood_down", "closed"):
        return alert_status(to_stage, lang)
    if from_stage is None:
        return t("change_raised", lang, stage=stage(to_stage, lang))
    return f"{stage(from_stage, lang)} → {stage(to_stage, lang)}"


def rule_set(rule_set_id: str, lang: str, titles: dict[str, str] | None = None) -> str:
    key = f"ruleset_{rule_set_id}"
    if known(key):
        return t(key, lang)
    return (titles or {}).get(rule_set_id, rule_set_id)


def feed(feed_id: str, lang: str) -> str:
    return t(f"feed_{feed_id}", lang) if known(f"feed_{feed_id}") else feed_id


def role(role_id: str, lang: str) -> str:
    return t(f"role_{role_id}", lang) if known(f"role_{role_id}") else role_id


def reason(text: str, lang: str) -> str:
    """'person with disability (+3)' -> 'প্রতিবন্ধী ব্যক্তি (+৩)'; unknown text unchanged."""
    match = _REASON.match(text)
    if match is None:
        return text
    points = "+" + fmt_num(float(match["points"]), lang, 2).rstrip("0").rstrip(".")
    label = match["label"]
    hazard = _HAZARD.match(label)
    if hazard is not None:
        return t(
            "reason_hazard", lang, value=fmt_num(float(hazard["value"]), lang, 2), points=points
        )
    flag = _FLAG_BY_LABEL.get(label)
    if flag is None or not known(f"reason_{flag}"):
        return text
    return f"{t(f'reason_{flag}', lang)} ({points})"


def exclusion(text: str | None, lang: str) -> str:
    if not text:
        return ""
    if text in _EXCLUSIONS:
        return t(_EXCLUSIONS[text], lang)
    cap = _CAP.match(text)
    if cap is not None:
        return t("exclusion_cap", lang, cap=fmt_int(int(cap["cap"].replace(",", "")), lang))
    return text


def scenario_title(name: str | None, title: str, lang: str) -> str:
    key = f"scenario_{name}"
    return t(key, lang) if name and known(key) else title


def outcome(value: str, lang: str) -> str:
    """A feed run's outcome (success, partial, unchanged, not_modified, failed)."""
    return t(f"outcome_{value}", lang) if known(f"outcome_{value}") else value


def quality_issues(issues: list[dict[str, str]], lang: str, limit: int = 3) -> str:
    """What a partial forecast lacks, in words: "SW93.5L: station missing; …". The feed's
    own message (English, from upstream) stays on the CLI and in the log."""
    shown = []
    for issue in issues[:limit]:
        code = str(issue.get("code", ""))
        word = t(f"quality_{code}", lang) if known(f"quality_{code}") else code
        subject = str(issue.get("subject") or "")
        if known(f"quality_subject_{subject}"):  # a word, not an identifier (station, event)
            subject = t(f"quality_subject_{subject}", lang)
        shown.append(f"{subject}: {word}" if subject else word)
    more = len(issues) - limit
    if more > 0:
        shown.append(t("quality_more", lang, n=fmt_int(more, lang)))
    return "; ".join(shown)


def station(name: str, lang: str) -> str:
    from dashboard.rule_text import station_name

    return station_name(name, lang)
