"""BMD bulletin entry (officers): the same parser as the drop folder, then the same pipeline."""

from __future__ import annotations

import json
from datetime import datetime, time

import streamlit as st

from agam.core.errors import AgamError
from agam.core.timeutil import DHAKA
from agam.pipeline.bulletin_entry import entry_problem
from dashboard import loaders
from dashboard.i18n import fmt_time, t
from dashboard.page import lang, require_page
from dashboard.plain_text import md_literal
from dashboard.rule_text import system_name
from hazard_feeds.bmd import MODELS, SYSTEM_ORDER, parse_bulletin
from store import audit
from store.raw_artifacts import atomic_write_bytes

principal = require_page("bulletin")
lg = lang()
st.header(t("bulletin_header", lg))
st.caption(t("bulletin_help", lg))
folder = getattr(loaders.settings().feeds.get("bmd"), "drop_folder", None)

with st.form("bulletin"):
    serial = st.text_input(t("bulletin_serial", lg), key="b_serial")
    day = st.date_input(t("bulletin_issued_day", lg), key="b_day")
    hour = st.time_input(t("bulletin_issued_time", lg), value=time(9, 0), key="b_time")
    system = st.selectbox(
        t("bulletin_system", lg),
        SYSTEM_ORDER,
        index=2,
        format_func=lambda s: system_name(s, lg),
        key="b_system",
    )
    pos = st.columns(2)
    lat = pos[0].number_input(t("bulletin_lat", lg), 5.0, 25.0, 18.0, key="b_lat")
    lon = pos[1].number_input(t("bulletin_lon", lg), 80.0, 95.0, 89.5, key="b_lon")
    st.markdown(f"**{t('bulletin_landfall', lg)}**")
    cols = st.columns(3)
    lf_lat = cols[0].number_input(t("bulletin_lat", lg), 18.0, 27.0, 21.8, key="b_lf_lat")
    lf_lon = cols[1].number_input(t("bulletin_lon", lg), 86.0, 93.0, 89.6, key="b_lf_lon")
    lf_hours = cols[2].number_input(t("bulletin_hours_ahead", lg), 0, 240, 48, key="b_lf_h")
    mongla = st.number_input(
        t("bulletin_signal", lg, port=t("port_mongla", lg)), 0, 11, 0, key="b_mongla"
    )
    payra = st.number_input(
        t("bulletin_signal", lg, port=t("port_payra", lg)), 0, 11, 0, key="b_payra"
    )
    st.markdown(f"**{t('bulletin_model_winds', lg)}**")
    winds = {
        m: st.number_input(t("bulletin_model_wind", lg, model=m), 0, 400, 0, key=f"b_w_{m}")
        for m in MODELS
    }
    past_ok = st.checkbox(t("bulletin_past_ok", lg), key="b_past")
    submitted = st.form_submit_button(t("bulletin_submit", lg), type="primary")

if submitted:
    issued = datetime.combine(day, hour, tzinfo=DHAKA)
    landfall_time = issued.timestamp() + lf_hours * 3600
    valid = datetime.fromtimestamp(landfall_time, tz=DHAKA)
    averaging = {"BMD": 3, "IMD": 3, "ECMWF": 10, "GFS": 1, "JTWC": 1}
    doc = {
        "issued_at": issued.isoformat(),
        "serial": serial or "form",
        "system": {"type": system, "lat": lat, "lon": lon, "in_bay_of_bengal": True},
        "port_signals": {p: s for p, s in (("Mongla", mongla), ("Payra", payra)) if s},
        "landfall": {"lat": lf_lat, "lon": lf_lon, "time": valid.isoformat()},
        "model_winds": [
            {
                "model": m,
                "max_wind_kmh": w,
                "averaging_minutes": averaging[m],
                "valid_time": valid.isoformat(),
            }
            for m, w in winds.items()
            if w
        ],
    }
    body = json.dumps(doc, indent=1).encode()
    problem = entry_problem(loaders.store(), issued, loaders.now())
    try:
        parse_bulletin(body, "dashboard form")
        if problem is not None and not (problem.key == "older" and past_ok):
            at = {
                "issued": fmt_time(problem.issued_at, lg),
                "other": fmt_time(problem.other_at, lg),
            }
            raise AgamError(t(f"bulletin_{problem.key}", lg, **at))
        if not folder:
            raise AgamError("[feeds.bmd].drop_folder is not configured")
        from pathlib import Path

        name = f"bulletin-{issued.astimezone(DHAKA):%Y%m%dT%H%M}-{principal.username}.json"
        atomic_write_bytes(Path(folder) / name, body)
        with loaders.store().session() as session:
            audit.append(
                session,
                at=loaders.now(),
                actor=principal.username,
                action="bulletin.enter",
                entity="bmd_bulletin",
                entity_id=name,
                payload={"serial": doc["serial"], "system": system},
            )
        st.success(t("bulletin_saved", lg, name=name))
    except AgamError as exc:
        st.error(md_literal(str(exc)))
