"""Stations: the GloFAS ensemble plume against the trigger threshold with the exceedance
probability per lead day exactly as the engine judges it (quorum, lead window, configured rule
sets), and the FFWC forecast against the danger and trigger levels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from agam.pipeline.evaluate import latest_forecasts
from dashboard import loaders
from dashboard.i18n import fmt_time, t
from dashboard.page import lang, require_page
from triggers.engine import station_rules
from triggers.exceedance import station_exceedance
from triggers.model import EnsembleExceedance, WaterLevelCrossing

require_page("stations")
lg = lang()
st.header(t("nav_stations", lg))
forecasts = latest_forecasts(loaders.app_context(), loaders.now())
rules = [r for found in station_rules(loaders.active_rule_sets()).values() for r in found]
exceedance = {r.station: r for r in rules if isinstance(r, EnsembleExceedance)}
crossing = {r.station: r for r in rules if isinstance(r, WaterLevelCrossing)}

glofas = forecasts.get("glofas")
st.subheader(t("stations_glofas", lg))
if glofas is None:
    st.info(t("stations_no_data", lg, feed="GloFAS"))
else:
    stations = [str(s) for s in glofas.data["station"].values]
    station = st.selectbox(t("stations_pick", lg), stations, key="glofas_station")
    cube = glofas.data["discharge_m3s"].sel(station=station).transpose("valid_time", "member")
    plume = pd.DataFrame(
        cube.values,
        index=pd.to_datetime(cube["valid_time"].values),
        columns=[f"m{int(m)}" for m in cube["member"].values],
    )
    rule = exceedance.get(station)
    if rule is not None:
        plume["threshold"] = rule.threshold_m3s
        days, _ = station_exceedance(rule, glofas)  # the engine's own numbers
        # A day under the quorum is unknown to the engine: shown empty, never as 0.
        probability = pd.Series(
            [d.probability if d.day_state != "unknown" else np.nan for d in days],
            index=pd.to_datetime([d.date for d in days]),
        )
        st.caption(
            t(
                "stations_threshold",
                lg,
                value=f"{rule.threshold_m3s:,.0f}",
                source=rule.threshold_source,
            )
        )
    st.caption(
        t(
            "stations_issued",
            lg,
            at=fmt_time(glofas.issued_at, lg),
            members=int(cube.sizes["member"]),
        )
    )
    st.line_chart(plume, height=320)
    if rule is not None:
        st.bar_chart(
            pd.DataFrame({t("stations_probability", lg): probability}, index=probability.index),
            height=180,
        )

ffwc = forecasts.get("ffwc")
st.subheader(t("stations_ffwc", lg))
if ffwc is None:
    st.info(t("stations_no_data", lg, feed="FFWC"))
else:
    for code in [str(s) for s in ffwc.data["station"].values]:
        level = ffwc.data["water_level_m"].sel(station=code).isel(member=0).to_series()
        danger = float(ffwc.data["danger_level_m"].sel(station=code))
        frame = pd.DataFrame({"forecast_m": level, "danger_level_m": danger})
        if code in crossing:
            frame["trigger_level_m"] = danger + crossing[code].offset_m
        name = str(ffwc.data["name"].sel(station=code).values)
        st.markdown(f"**{name} ({code})** · {t('stations_danger', lg, value=f'{danger:.2f}')}")
        st.line_chart(frame, height=220)
