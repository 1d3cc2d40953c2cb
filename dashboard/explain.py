"""Alert explanations in the reader's language, rebuilt from the structured evidence.

The engine stores one English sentence per evaluation (the audit trail) and, next to it, the
evidence of every rule it ran (`Evaluation.observed`, keyed by rule id). Here each rule kind
has a template in the catalogue; the rule's parameters come from its rule set version (as the
store recorded it at its first use, so an old evaluation reads right after its file was
replaced), its facts from the evidence. Rule ids follow the engine's paths: the stage id for
the stage's rule, "<path>.<i>" for the i-th part of a combinator, "<stage id>.targeting" for
targeting, unless a rule names its own `id`. When the rule set version or the evidence is
missing, the stored English sentence is shown, marked as such: an explanation is never
invented.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any

from dashboard.i18n import fmt_num, fmt_pct, t
from dashboard.rule_text import cmp_symbol, cmp_words, day_label, station_name, system_name


class Missing(Exception):
    """The evidence or the rule definition needed for a template is not there."""


def rule_paths(stage: Any) -> dict[str, Any]:
    """rule id -> rule for a stage's rule tree and its targeting tree."""
    out: dict[str, Any] = {}

    def visit(rule: Any, path: str) -> None:
        out[rule.id or path] = rule
        for i, child in enumerate(getattr(rule, "rules", ()) or ()):
            visit(child, f"{path}.{i}")

    visit(stage.rule, stage.id)
    if stage.targeting is not None:
        visit(stage.targeting, f"{stage.id}.targeting")
    return out


def _need(obs: dict[str, Any], *keys: str) -> None:
    if any(k not in obs for k in keys):
        raise Missing(keys)


def _ensemble(rule: Any, obs: dict[str, Any], lang: str) -> str:
    _need(obs, "days")
    days = obs["days"]
    if not days:
        raise Missing("days")
    peak = max(days, key=lambda d: (d["probability"], -d["lead_day"]))
    return t(
        "ex_ensemble",
        lang,
        station=station_name(rule.station, lang),
        above=fmt_num(peak["members_above"], lang, 0),
        valid=fmt_num(peak["valid_members"], lang, 0),
        share=fmt_pct(peak["probability"], lang),
        cmp=cmp_words(rule.comparison, lang),
        threshold=fmt_num(rule.threshold_m3s, lang, 0),
        day=day_label(peak["date"], lang),
        need=t(
            f"prob_{rule.probability_comparison}",
            lang,
            share=fmt_pct(rule.min_probability, lang),
        ),
        days=fmt_num(rule.consecutive_days, lang, 0),
        longest=fmt_num(obs.get("longest_run_days", 0), lang, 0),
    )


def _trend(obs: dict[str, Any], lang: str) -> str:
    medians = obs.get("median_m3s") or {}
    values = list(medians.values())
    shown = " → ".join("?" if v is None else fmt_num(v, lang, 0) for v in values)
    falls = any(
        a is not None and b is not None and b < a * (1 - float(obs.get("tolerance_fraction", 0)))
        for a, b in itertools.pairwise(values)
    )
    state = "unknown" if None in values else "fall" if falls else "hold"
    return t(f"ex_trend_{state}", lang, station=station_name(obs["station"], lang), series=shown)


def _level(rule: Any, obs: dict[str, Any], lang: str) -> str:
    _need(obs, "danger_level_m", "trigger_level_m", "daily_max_level_m")
    daily = obs["daily_max_level_m"]
    crossing = obs.get("crossing_dates") or []
    name = station_name(obs.get("station_name") or rule.station, lang)
    values = dict(
        above=t(f"above_{obs.get('comparison', rule.comparison)}", lang),
        danger=fmt_num(obs["danger_level_m"], lang, 2),
        offset=fmt_num(obs.get("offset_m", rule.offset_m), lang, 2),
        trigger=fmt_num(obs["trigger_level_m"], lang, 2),
        station=name,
    )
    if crossing:
        day = crossing[0]
        text = t(
            "ex_level_cross",
            lang,
            level=fmt_num(daily[day], lang, 2),
            day=day_label(day, lang),
            **values,
        )
    elif daily:
        text = t("ex_level_peak", lang, level=fmt_num(max(daily.values()), lang, 2), **values)
    else:
        raise Missing("daily_max_level_m")
    if isinstance(obs.get("trend"), dict) and obs["trend"].get("median_m3s"):
        text += t("ex_and", lang) + _trend(obs["trend"], lang)
    return text


def _models(rule: Any, obs: dict[str, Any], lang: str) -> str:
    _need(obs, "model_winds_kmh", "agreeing_models")
    winds = ", ".join(
        f"{m} {fmt_num(w, lang, 0)}"
        for m, w in obs["model_winds_kmh"].items()
        if isinstance(w, int | float)
    )
    text = t(
        "ex_models",
        lang,
        agree=fmt_num(len(obs["agreeing_models"]), lang, 0),
        total=fmt_num(len(rule.models), lang, 0),
        sym=cmp_symbol(rule.comparison),
        threshold=fmt_num(rule.threshold_kmh, lang, 0),
        winds=winds or t("ex_no_wind", lang),
        need=fmt_num(rule.min_models, lang, 0),
    )
    if obs.get("system"):
        text += t("ex_and", lang) + t("ex_system", lang, system=system_name(obs["system"], lang))
    return text


def _decay(rule: Any, obs: dict[str, Any], lang: str) -> str:
    _need(obs, "landfall_wind_kmh", "union_wind_kmh", "landfall_lat", "landfall_lon")
    winds = obs["union_wind_kmh"]
    from triggers.results import compare

    hit = [c for c, w in winds.items() if compare(w, rule.threshold_kmh, rule.comparison)]
    return t(
        "ex_decay",
        lang,
        wind=fmt_num(obs["landfall_wind_kmh"], lang, 0),
        lat=fmt_num(obs["landfall_lat"], lang, 2),
        lon=fmt_num(obs["landfall_lon"], lang, 2),
        sym=cmp_symbol(rule.comparison),
        threshold=fmt_num(rule.threshold_kmh, lang, 0),
        hit=fmt_num(len(hit), lang, 0),
        total=fmt_num(len(winds), lang, 0),
    )


def _footprint(rule: Any, obs: dict[str, Any], lang: str) -> str:
    _need(obs, "union_share")
    from triggers.results import compare

    shares = obs["union_share"]
    hit = [c for c, s in shares.items() if compare(s, rule.min_share, rule.share_comparison)]
    return t(
        "ex_footprint",
        lang,
        hit=fmt_num(len(hit), lang, 0),
        sym=cmp_symbol(rule.share_comparison),
        share=fmt_pct(rule.min_share, lang),
        wind=fmt_num(rule.min_wind_kmh, lang, 0),
    )


def _signal(rule: Any, obs: dict[str, Any], lang: str) -> str:
    _need(obs, "max_signal")
    return t(
        "ex_signal",
        lang,
        top=fmt_num(obs["max_signal"] or 0, lang, 0),
        sym=cmp_symbol(rule.comparison),
        need=fmt_num(rule.min_signal, lang, 0),
    )


def _landfall(rule: Any, obs: dict[str, Any], lang: str) -> str:
    _need(obs, "observed_landfall_kmh")
    reports = obs["observed_landfall_kmh"]
    if not reports:
        return t("ex_landfall_none", lang)
    shown = ", ".join(f"{s} {fmt_num(w, lang, 0)}" for s, w in reports.items())
    return t(
        "ex_landfall",
        lang,
        winds=shown,
        sym=cmp_symbol(rule.comparison),
        threshold=fmt_num(rule.threshold_kmh, lang, 0),
    )


CLAUSES: dict[str, Callable[[Any, dict[str, Any], str], str]] = {
    "ensemble_exceedance": _ensemble,
    "water_level_crossing": _level,
    "model_agreement": _models,
    "union_wind_decay": _decay,
    "footprint_exposure": _footprint,
    "bmd_signal": _signal,
    "observed_landfall": _landfall,
}


def clause(rules: dict[str, Any], observed: dict[str, Any], rule_id: str, lang: str) -> str:
    rule = rules.get(rule_id)
    if rule is None:
        raise Missing(rule_id)
    obs = observed.get(rule_id)
    if not isinstance(obs, dict):
        raise Missing(rule_id)
    if rule.kind in ("all_of", "any_of"):
        children = list((obs.get("parts") or {}).keys())
        if not children:
            raise Missing("parts")
        joiner = t("ex_and" if rule.kind == "all_of" else "ex_or", lang)
        return joiner.join(clause(rules, observed, c, lang) for c in children)
    render = CLAUSES.get(rule.kind)
    if render is None:
        raise Missing(rule.kind)
    try:
        return render(rule, obs, lang)
    except Missing:  # the rule was unknown: its forecast was missing, stale or partial
        return t("ex_no_data", lang, what=t(f"kind_{rule.kind}", lang))


def evaluation_text(
    evaluation: Any, stage: Any, lang: str, stage_word: str | None = None
) -> str | None:
    """The evaluation as one sentence in `lang`; None when it cannot be rebuilt."""
    if stage is None:
        return None
    rules = rule_paths(stage)
    observed = dict(evaluation.observed or {})
    try:
        text = clause(rules, observed, stage.id, lang)
        if stage.targeting is not None and f"{stage.id}.targeting" in observed:
            text += t("ex_then", lang) + clause(rules, observed, f"{stage.id}.targeting", lang)
    except (Missing, KeyError, TypeError, ValueError):
        return None
    return t(
        "ex_sentence",
        lang,
        clause=text,
        stage=stage_word or t(f"stage_{stage.stage}", lang),
        verdict=t(f"verdict_{evaluation.state}", lang),
    )


def find_stage(rule_sets: Iterable[Any], rule_set_id: str, version: str, stage_id: str) -> Any:
    for rule_set in rule_sets:
        if rule_set.id == rule_set_id and rule_set.version == version:
            return next((s for s in rule_set.stages if s.id == stage_id), None)
    return None


def event_text(event: dict[str, Any], evaluation: Any, stage: Any, lang: str) -> tuple[str, bool]:
    """(text, translated) for one alert event: stand-downs and closures have their own
    templates; raised/escalated events are rebuilt from their evaluation."""
    if lang == "en":
        return event["explanation"], True
    if event["to"] == "stood_down":
        return t("ex_stood_down", lang), True
    if event["to"] == "closed":
        return t("ex_closed", lang, user=event["actor"], reason=event.get("reason") or ""), True
    if evaluation is not None:
        text = evaluation_text(evaluation, stage, lang)
        if text is not None:
            return text, True
    return event["explanation"], False
