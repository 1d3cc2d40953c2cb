"""Stations as a hydrologist draws them: the GloFAS ensemble as a fan against the trigger
threshold, the daily exceedance as the trigger judged it, and FFWC observed then forecast
water levels against the danger level and the trigger level."""

from __future__ import annotations

import streamlit as st

from agam.pipeline.evaluate import latest_forecasts
from dashboard import charts, loaders, station_data
from dashboard.i18n import fmt_int, fmt_num, fmt_time, t
from dashboard.page import lang, require_page
from dashboard.rule_text import describe_rule, station_name
from store import feed_repo
from triggers.model import EnsembleExceedance, WaterLevelCrossing

require_page("stations")
lg = lang()
st.header(t("nav_stations", lg))
st.caption(t("stations_intro", lg))
forecasts = latest_forecasts(loaders.app_context(), loaders.now())
glofas, ffwc = forecasts.get("glofas"), forecasts.get("ffwc")
exceedance = loaders.station_rules(EnsembleExceedance, glofas.issued_at if glofas else None)
crossing = loaders.station_rules(WaterLevelCrossing, ffwc.issued_at if ffwc else None)

st.subheader(t("stations_glofas", lg))
if glofas is None:
    st.info(t("stations_no_data", lg, feed="GloFAS"))
else:
    stations = [str(s) for s in glofas.data["station"].values]
    ruled = [s for s in stations if s in exceedance]
    station = st.selectbox(
        t("stations_pick", lg),
        ruled + [s for s in stations if s not in exceedance],
        format_func=lambda s: station_name(s, lg),
        key="glofas_station",
    )
    members = station_data.ensemble_members(glofas, station)
    fan = station_data.fan_quantiles(members)
    stage, rule = exceedance.get(station, (None, None))
    st.caption(
        t(
            "stations_issued",
            lg,
            at=fmt_time(glofas.issued_at, lg),
            members=fmt_int(int(fan["members"].max()), lg),
        )
    )
    threshold_label = ""
    if rule is not None:
        threshold_label = t(
            "chart_threshold",
            lg,
            stage=t(f"stage_{stage}", lg),
            value=fmt_num(rule.threshold_m3s, lg, 0),
        )
    st.altair_chart(
        charts.glofas_fan(
            fan,
            lg,
            threshold_m3s=rule.threshold_m3s if rule is not None else None,
            threshold_label=threshold_label,
            return_periods=station_data.return_periods(glofas, station),
        ),
        width="stretch",
    )
    if rule is None:
        st.caption(t("stations_no_rule", lg, station=station_name(station, lg)))
    else:
        st.markdown(f"**{t('stations_exceedance', lg)}**")
        st.caption(describe_rule(rule, stage, lg))
        days = station_data.exceedance_days(rule, glofas)
        if days.empty:
            st.info(t("stations_no_window", lg))
        else:
            st.altair_chart(charts.exceedance_bars(days, rule.min_probability, lg), width="stretch")

st.subheader(t("stations_ffwc", lg))
if ffwc is None:
    st.info(t("stations_no_data", lg, feed="FFWC"))
else:
    start, end = station_data.observed_window(ffwc.issued_at)
    with loaders.store().session() as session:
        runs = [r for r in feed_repo.forecasts_issued_between(session, start, end)]
        runs = [r for r in runs if r.feed_id == ffwc.feed_id]
    st.caption(t("stations_ffwc_issued", lg, at=fmt_time(ffwc.issued_at, lg)))
    codes = [str(s) for s in ffwc.data["station"].values]
    for code in sorted(codes, key=lambda c: c not in crossing):
        name = str(ffwc.data["name"].sel(station=code).values)
        danger = float(ffwc.data["danger_level_m"].sel(station=code))
        stage, rule = crossing.get(code, (None, None))
        trigger_m = round(danger + rule.offset_m, rule.level_decimals) if rule else None
        st.markdown(f"**{station_name(name, lg)}** ({code})")
        if rule is not None:
            st.caption(describe_rule(rule, stage, lg, danger_m=danger))
        st.altair_chart(
            charts.water_levels(
                station_data.observed_levels(runs, code),
                station_data.water_level_forecast(ffwc, code),
                danger,
                lg,
                trigger_m=trigger_m,
                trigger_label=(
                    t(
                        "chart_trigger_level",
                        lg,
                        stage=t(f"stage_{stage}", lg),
                        offset=fmt_num(rule.offset_m, lg, 2),
                        value=fmt_num(trigger_m, lg, 2),
                    )
                    if rule is not None and trigger_m is not None
                    else ""
                ),
            ),
            width="stretch",
        )
