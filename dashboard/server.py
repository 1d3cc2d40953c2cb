"""The dashboard server: `streamlit run dashboard/server.py` (what `agam serve` runs).

Streamlit's ASGI app (st.App) for dashboard/app.py plus Agam's own routes
(dashboard.geo_routes: cached union geometry for the Map page).
"""

import streamlit as st

from dashboard.geo_routes import routes

app = st.App("app.py", routes=routes())
