"""Pure Altair (Vega-Lite) builders for the Stations page: frames in, charts out.

- `glofas_fan`: the ensemble as a fan (min–max, 10–90 %, 25–75 %, median), return-period
  lines where known and the trigger threshold, labelled.
- `exceedance_bars`: the daily share of members above the threshold, as the rule judged
  it, with the required probability line and the rule's lead window shaded.
- `water_levels`: FFWC observed then forecast, the danger level and the trigger level
  (e.g. DL + 0.85 m), with the y-axis fitted to the data and the crossing marked.

Times on the x-axis are Bangladesh wall-clock times (scale type "utc", so the browser's own
time zone never shifts them). Axis numbers, months and digits follow the page language
through Vega's locale config.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
from babel.dates import get_day_names, get_month_names

from dashboard.i18n import BABEL_LOCALE, fmt_day, fmt_num, fmt_pct, t
from dashboard.stages import DANGER_LEVEL, FAN_SHADES, FORECAST, OBSERVED, STAGE_COLOURS

BENGALI_NUMERALS = list("০১২৩৪৫৬৭৮৯")


def vega_locale(lang: str) -> dict[str, Any]:
    """d3 number and time locale: lakh grouping both ways, Bengali digits and months."""
    number: dict[str, Any] = {
        "decimal": ".",
        "thousands": ",",
        "grouping": [3, 2, 2, 2, 2, 2, 2],
        "currency": ["", ""],
    }
    locale = BABEL_LOCALE[lang]
    months = [str(get_month_names("wide", locale=locale)[m]) for m in range(1, 13)]
    short = (
        months
        if lang == "bn"
        else [str(get_month_names("abbreviated", locale=locale)[m]) for m in range(1, 13)]
    )
    names = get_day_names("wide", locale=locale)
    days = [str(names[(d + 6) % 7]) for d in range(7)]  # d3 starts on Sunday, Babel on Monday
    if lang == "bn":
        number["numerals"] = BENGALI_NUMERALS
    time = {
        "dateTime": "%e %B %Y, %H:%M",
        "date": "%d/%m/%Y",
        "time": "%H:%M",
        "periods": ["AM", "PM"],
        "days": days,
        "shortDays": days,
        "months": months,
        "shortMonths": short,
    }
    return {"number": number, "time": time}


def _finish(chart: Any, lang: str, height: int) -> Any:
    return (
        chart.properties(height=height, width="container")
        .configure(locale=vega_locale(lang))
        .configure_legend(orient="bottom", labelLimit=320, title=None)
        .configure_axis(labelFontSize=12, titleFontSize=12)
    )


def _digit_expr(lang: str) -> str | None:
    """A Vega label expression writing d3-time-format's Western digits as Bengali ones (d3's
    number locale has numerals, its time locale has none)."""
    if lang != "bn":
        return None
    expr = "datum.label"
    for western, bengali in enumerate(BENGALI_NUMERALS):
        expr = f"replace({expr}, regexp('{western}', 'g'), '{bengali}')"
    return expr


def _time_axis(lang: str, field: str = "time", fmt: str = "%e %b") -> alt.X:
    axis = alt.Axis(format=fmt, labelAngle=0, labelOverlap=True)
    if (expr := _digit_expr(lang)) is not None:
        axis = alt.Axis(format=fmt, labelAngle=0, labelOverlap=True, labelExpr=expr)
    return alt.X(
        f"{field}:T", scale=alt.Scale(type="utc"), axis=axis, title=t("chart_time_axis", lang)
    )


def _hline(value: float, colour: str, label: str, dash: list[int], right: bool = False) -> Any:
    """A horizontal line across the chart, labelled above it at the left (or right) end."""
    frame = pd.DataFrame({"y": [value], "label": [label]})
    base = alt.Chart(frame)
    rule = base.mark_rule(color=colour, strokeDash=dash, strokeWidth=2).encode(y="y:Q")
    text = base.mark_text(
        align="right" if right else "left",
        baseline="bottom",
        dx=-4 if right else 4,
        dy=-3,
        color=colour,
        fontWeight="bold",
    ).encode(y="y:Q", x=alt.value("width") if right else alt.value(0), text="label:N")
    return alt.layer(rule, text)


def glofas_fan(
    fan: pd.DataFrame,
    lang: str,
    threshold_m3s: float | None = None,
    threshold_label: str = "",
    return_periods: dict[float, float] | None = None,
    height: int = 340,
) -> Any:
    """`fan` has time, min, q10, q25, median, q75, q90, max (m³/s)."""
    bands = [
        ("min", "max", t("chart_fan_minmax", lang), FAN_SHADES[0]),
        ("q10", "q90", t("chart_fan_10_90", lang), FAN_SHADES[1]),
        ("q25", "q75", t("chart_fan_25_75", lang), FAN_SHADES[2]),
    ]
    labels = [b[2] for b in bands] + [t("chart_fan_median", lang)]
    fan = fan.assign(when=fan["time"].map(lambda v: fmt_day(v, lang)))
    colour = alt.Color(
        "series:N",
        scale=alt.Scale(domain=labels, range=[*FAN_SHADES, OBSERVED]),
    )
    x = _time_axis(lang)
    y_title = t("chart_discharge_axis", lang)
    layers: list[Any] = []
    for lower, upper, label, _shade in bands:
        layers.append(
            alt.Chart(fan.assign(series=label))
            .mark_area(opacity=1)
            .encode(x=x, y=alt.Y(f"{lower}:Q", title=y_title), y2=f"{upper}:Q", color=colour)
        )
    layers.append(
        alt.Chart(fan.assign(series=labels[-1]))
        .mark_line(strokeWidth=2.5, point=True)
        .encode(
            x=x,
            y="median:Q",
            color=colour,
            tooltip=[
                alt.Tooltip("when:N", title=t("chart_day", lang)),
                alt.Tooltip("median:Q", format=",.0f", title=labels[-1]),
                alt.Tooltip("q90:Q", format=",.0f", title="90 %"),
                alt.Tooltip("max:Q", format=",.0f", title=t("chart_fan_max", lang)),
            ],
        )
    )
    highs = [float(fan["max"].max())]
    for years, value in (return_periods or {}).items():
        if threshold_m3s is not None and abs(value - threshold_m3s) < 1:
            continue  # the threshold line says it already
        label = t("chart_return_period", lang, years=fmt_num(years, lang, 0))
        layers.append(_hline(value, "#6b7280", f"{label}: {fmt_num(value, lang, 0)}", [2, 3]))
        highs.append(value)
    if threshold_m3s is not None:
        layers.append(
            _hline(threshold_m3s, STAGE_COLOURS["readiness"], threshold_label, [6, 3], right=True)
        )
        highs.append(threshold_m3s)
    low = float(fan["min"].min())
    top = max(highs)
    domain = [max(0.0, low - 0.08 * (top - low)), top + 0.08 * (top - low)]
    chart = alt.layer(*layers).encode(y=alt.Y(scale=alt.Scale(domain=domain, zero=False)))
    return _finish(chart, lang, height)


def exceedance_bars(
    days: pd.DataFrame, min_probability: float, lang: str, height: int = 220
) -> Any:
    """`days`: date, probability, members_above, valid_members, day_state (the rule's days,
    which are exactly its lead window)."""
    states = ["above", "below", "unknown"]
    names = [t(f"chart_day_{s}", lang) for s in states]
    frame = days.assign(
        when=days["date"].map(lambda v: fmt_day(v, lang)),
        state=days["day_state"].map(dict(zip(states, names, strict=True))),
        shown=days["probability"].map(lambda p: fmt_pct(p, lang)),
        start=days["date"] - pd.Timedelta(hours=11),
        end=days["date"] + pd.Timedelta(hours=11),
    )
    window = pd.DataFrame(
        {
            "start": [frame["date"].min() - pd.Timedelta(hours=12)],
            "end": [frame["date"].max() + pd.Timedelta(hours=12)],
            "label": [t("chart_lead_window", lang)],
        }
    )
    shade = alt.Chart(window).mark_rect(color="#dbeafe", opacity=0.6)
    shade = shade.encode(
        x=alt.X("start:T", scale=alt.Scale(type="utc")), x2="end:T", tooltip="label:N"
    )
    shade_label = (
        alt.Chart(window)
        .mark_text(align="left", baseline="top", dx=3, dy=2, color="#1e40af")
        .encode(x=alt.X("start:T", scale=alt.Scale(type="utc")), y=alt.value(0), text="label:N")
    )
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=_time_axis(lang, "start"),
            x2="end:T",
            y=alt.Y(
                "probability:Q",
                scale=alt.Scale(domain=[0, 1.15]),
                axis=alt.Axis(format="%", values=[0, 0.25, 0.5, 0.75, 1]),
                title=t("chart_probability_axis", lang),
            ),
            y2=alt.datum(0),
            color=alt.Color(
                "state:N",
                scale=alt.Scale(
                    domain=names, range=[STAGE_COLOURS["readiness"], "#9ca3af", "#e5e7eb"]
                ),
            ),
            tooltip=[
                alt.Tooltip("when:N", title=t("chart_day", lang)),
                alt.Tooltip("shown:N", title=t("chart_probability_axis", lang)),
                alt.Tooltip("members_above:Q", title=t("chart_members_above", lang)),
                alt.Tooltip("valid_members:Q", title=t("chart_valid_members", lang)),
            ],
        )
    )
    line = _hline(
        min_probability,
        "#111827",
        t("chart_probability_line", lang, share=fmt_pct(min_probability, lang)),
        [5, 3],
        right=True,
    )
    return _finish(alt.layer(shade, shade_label, bars, line), lang, height)


def water_levels(
    observed: pd.DataFrame,
    forecast: pd.DataFrame,
    danger_m: float,
    lang: str,
    trigger_m: float | None = None,
    trigger_label: str = "",
    height: int = 300,
) -> Any:
    """`observed`, `forecast`: time, water_level_m. The y-axis spans the data and the lines,
    not zero, so a crossing of the danger level is visible."""
    obs_label, fc_label = t("chart_observed", lang), t("chart_forecast", lang)
    frame = pd.concat(
        [observed.assign(series=obs_label), forecast.assign(series=fc_label)], ignore_index=True
    )
    frame["when"] = frame["time"].map(lambda v: fmt_day(v, lang, hours=True))
    colour = alt.Color(
        "series:N", scale=alt.Scale(domain=[obs_label, fc_label], range=[OBSERVED, FORECAST])
    )
    x = _time_axis(lang)
    levels = [float(frame["water_level_m"].min()), float(frame["water_level_m"].max()), danger_m]
    if trigger_m is not None:
        levels.append(trigger_m)
    low, high = min(levels), max(levels)
    pad = max(0.15, 0.08 * (high - low))
    y = alt.Y(
        "water_level_m:Q",
        scale=alt.Scale(domain=[low - pad, high + pad], zero=False),
        title=t("chart_level_axis", lang),
    )
    lines = (
        alt.Chart(frame)
        .mark_line(strokeWidth=2.5)
        .encode(
            x=x,
            y=y,
            color=colour,
            strokeDash=alt.StrokeDash(
                "series:N",
                scale=alt.Scale(domain=[obs_label, fc_label], range=[[1, 0], [6, 3]]),
                legend=None,
            ),
            tooltip=[
                alt.Tooltip("when:N", title=t("chart_day", lang)),
                alt.Tooltip("water_level_m:Q", format=".2f", title=t("chart_level_axis", lang)),
                alt.Tooltip("series:N", title=t("chart_series", lang)),
            ],
        )
    )
    danger_label = t("chart_danger_level", lang, value=fmt_num(danger_m, lang, 2))
    layers: list[Any] = [lines, _hline(danger_m, DANGER_LEVEL, danger_label, [4, 4])]
    if trigger_m is not None:
        layers.append(_hline(trigger_m, STAGE_COLOURS["action"], trigger_label, [8, 3]))
        above = forecast[forecast["water_level_m"] >= trigger_m]
        if not above.empty:
            first = above.iloc[[0]].assign(label=t("chart_crossing", lang))
            layers.append(
                alt.Chart(first)
                .mark_point(shape="diamond", size=220, filled=True, color=STAGE_COLOURS["action"])
                .encode(x=x, y="water_level_m:Q")
            )
            layers.append(
                alt.Chart(first)
                .mark_text(align="right", dx=-10, dy=-12, color=STAGE_COLOURS["action"])
                .encode(x=x, y="water_level_m:Q", text="label:N")
            )
    return _finish(alt.layer(*layers), lang, height)
