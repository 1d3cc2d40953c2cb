"""HTTP routes next to Streamlit (st.App): the union geometry as cached static files.

`GET /agam/geo/<key>/<name>` serves `<cache_dir>/geo/<key>/<name>` built by the Map page
(boundaries.topology). Only public boundary geometry is ever written there: no registry data,
no personal data. The names are checked against fixed patterns (no path can leave the folder)
and the files are content-keyed, so browsers may keep them for a year ("immutable"); Streamlit's
gzip middleware compresses them on the way out.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

CACHE_CONTROL = "public, max-age=31536000, immutable"
# Folder: layer fingerprint + schema + simplification (hex); files: the national layer, one
# district at full detail, or a hazard overlay named by its content hash.
FOLDER = re.compile(r"^[0-9a-f]{16,64}$")
ASSET_NAME = re.compile(r"^(national|district-BD\d{4}|hazard-[0-9a-f]{16})\.json$")


@lru_cache(maxsize=1)
def _geo_root() -> Path:
    # The feed models check the config's [feeds.*]; without them a request reaching this route
    # before any page has run (a fresh server) failed with a 500.
    import hazard_feeds.registry  # noqa: F401
    from agam.core.settings import load_settings

    return (load_settings().cache_dir / "geo").resolve()


async def geo_file(request: Request) -> Response:
    key, name = request.path_params["key"], request.path_params["name"]
    if FOLDER.match(key) is None or ASSET_NAME.match(name) is None:
        return Response("not found", status_code=404)
    path = _geo_root() / key / name
    if not path.is_file():
        return Response("not found", status_code=404)
    response = FileResponse(path, media_type="application/json")
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def routes() -> list[Route]:
    return [Route("/agam/geo/{key}/{name}", geo_file, methods=["GET"])]
