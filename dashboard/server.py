"""The dashboard server: `streamlit run dashboard/server.py` (what `agam serve` and
deploy/systemd/agam-dashboard.service run).

Streamlit's ASGI app (st.App) for dashboard/app.py plus Agam's own routes
(dashboard.geo_routes: cached union geometry for the Map page) and security headers on every
HTTP answer (dashboard.headers).
"""

import streamlit as st
from starlette.middleware import Middleware

from dashboard.geo_routes import routes
from dashboard.headers import SecurityHeaders

app = st.App("app.py", routes=routes(), middleware=[Middleware(SecurityHeaders)])
