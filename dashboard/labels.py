"""Domain words in the reader's language: statuses, next steps, reasons, rule sets, feeds."""

from __future__ import annotations

import re
from typing import Any

from agam.pipeline.run_notes import behind_events, not_used_times
from allowances import reasons
from dashboard.i18n import catalog, digits, fmt_int, fmt_num, fmt_time, t
from store.payee_repo import REMOVED

_WIND = re.compile(r"^(?P<kmh>[0-9]+(?:\.[0-9]+)?) km/h$")
_FLOODED = re.compile(r"^(?P<percent>[0-9]+)% of the area flooded$")
_MEMBERS = re.compile(r"^(?P<percent>[0-9]+)% of members at (?P<station>.+)$")
_CAP = re.compile(r"^beyond the district cap of (?P<cap>[0-9,]+) households$")
_EXCLUSIONS = {
    "already paid in this activation": "exclusion_paid",
    "no payable channel (MFS wallet, bank or post)": "exclusion_channel",
}


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


def config_version_name(kind: str, config_id: str, lang: str) -> str:
    """A recorded rule set by its name in the reader's language with its id (what files and
    the store call it); a policy by its id."""
    named = rule_set(config_id, lang) if kind == "rule_set" else config_id
    return config_id if named == config_id else f"{named} ({config_id})"


def feed(feed_id: str, lang: str) -> str:
    return t(f"feed_{feed_id}", lang) if known(f"feed_{feed_id}") else feed_id


def role(role_id: str, lang: str) -> str:
    return t(f"role_{role_id}", lang) if known(f"role_{role_id}") else role_id


def reason(stored: str, lang: str) -> str:
    """A line's stored reason (a code, or an older line's English sentence) in `lang`:
    'disability:3' -> 'প্রতিবন্ধী ব্যক্তি (+৩)'; text not understood unchanged."""
    said = reasons.parse(stored)
    if not said.term or not known(f"reason_{said.term}"):
        return reasons.english(stored)
    points = "+" + _points(said.points, lang)
    if said.term != reasons.HAZARD:
        return f"{t(f'reason_{said.term}', lang)} ({points})"
    value = fmt_num(float(said.intensity or 0.0), lang, 2)
    if not said.evidence:
        return t("reason_hazard", lang, value=value, points=points)
    source = evidence(said.evidence, lang)
    return t("reason_hazard_from", lang, value=value, evidence=source, points=points)


def _points(points: float, lang: str) -> str:
    """3 -> '3', 1.6 -> '1.6', 0.08 -> '0.08' (trailing zeros dropped before the digits are
    written in `lang`)."""
    decimals = len(f"{points:.2f}".rstrip("0").partition(".")[2])
    return fmt_num(points, lang, decimals)


def evidence(text: str, lang: str) -> str:
    """What a union's hazard intensity was measured from, as the evaluation recorded it in
    English ('160.0 km/h', '45% of the area flooded', '60% of members at SW46.9L'), in
    `lang`; other text unchanged."""
    wind = _WIND.match(text)
    if wind is not None:
        return t("evidence_wind_kmh", lang, speed=fmt_num(float(wind["kmh"]), lang, 1))
    flooded = _FLOODED.match(text)
    if flooded is not None:
        share = fmt_int(int(flooded["percent"]), lang)
        return t("evidence_area_flooded", lang, percent=share)
    members = _MEMBERS.match(text)
    if members is not None:
        share = fmt_int(int(members["percent"]), lang)
        where = station(members["station"], lang)
        return t("evidence_members", lang, percent=share, station=where)
    return text


def exclusion(text: object, lang: str) -> str:
    """Why a line is not paid, in `lang`; "" for a paid line (None, or NaN from pandas)."""
    if not isinstance(text, str) or not text:
        return ""
    if text in _EXCLUSIONS:
        return t(_EXCLUSIONS[text], lang)
    cap = _CAP.match(text)
    if cap is not None:
        return t("exclusion_cap", lang, cap=fmt_int(int(cap["cap"].replace(",", "")), lang))
    return text


def payee(channel: str, provider: str, account: str, routing: str, office: str, lang: str) -> str:
    """A pinned payee in `lang` from its masked fields (`store.payee_repo.MASKED_PAYEE`); the
    masked numbers and codes stay as they are. "" for a line without one."""
    if channel == "mfs":
        key = f"mfs_provider_{provider}"  # a known brand says MFS by itself in Bangla
        name = t(key, lang) if known(key) else t("mfs_provider_unknown", lang, code=provider or "?")
        return t("payee_mfs", lang, provider=name, account=account)
    if channel == "bank":
        return t("payee_bank", lang, account=account, routing=routing)
    if channel == "post":
        return t("payee_post", lang, office=office).strip()
    return f"{channel} {office}".strip()


def payee_changes(text: object, lang: str) -> str:
    """What the registry changed in a pinned payee since the list pinned it ('nid,
    wallet_number', or that the record was removed), in `lang`; "" when nothing did."""
    if not isinstance(text, str) or not text:
        return ""
    if text == REMOVED:
        return t("payee_removed", lang)
    words = []
    for name in (f.strip() for f in text.split(",")):
        key = f"payee_field_{name}"
        words.append(t(key, lang) if known(key) else name)
    return ", ".join(words)


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


def run_note(error: str | None, lacking: list[dict[str, str]] | None, lang: str) -> str:
    """A feed run's "error or note" in the reader's language: a forecast stored but not used
    (`agam.pipeline.run_notes`) and what a partial forecast lacks, in words; any other text
    (an upstream failure) as the run recorded it."""
    shown = []
    times = not_used_times(error)
    if times is not None:
        issued, in_force = (fmt_time(x, lang, zone=False) for x in times)
        shown.append(t("health_not_used", lang, issued=issued, in_force=in_force))
    behind = behind_events(error)
    if behind:
        events = " | ".join(
            t("health_behind_event", lang, name=e.name, event=digits(str(e.event_id), lang),
              episode=fmt_int(e.episode, lang), in_force=fmt_int(e.in_force_episode, lang))
            for e in behind
        )  # fmt: skip
        shown.append(t("health_behind", lang, events=events))
    if lacking is not None:
        shown.append(quality_issues(lacking, lang))
    elif times is None and not behind and error:
        shown.append(error)
    return "; ".join(shown)


def station(name: str, lang: str) -> str:
    from dashboard.rule_text import station_name

    return station_name(name, lang)
