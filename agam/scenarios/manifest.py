"""What a scenario's upstream publishes, and when: one file per (route, publication time).

A route is the path (and query) a fetcher asks for, e.g. `/ffwc/data_load/observed/`; at
scenario time T the server answers with the newest publication of that route made at or
before T, as the real service would have at T. `drop/<feed>` routes are files an officer
drops into a feed's folder (BMD bulletins) instead of HTTP resources.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from agam.core.errors import AgamError
from agam.core.timeutil import ensure_utc, iso_utc
from store.raw_artifacts import atomic_write_bytes

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Publication:
    route: str
    published_at: datetime  # UTC
    path: str  # relative to the scenario folder
    content_type: str
    sha256: str


class Manifest:
    def __init__(self, folder: Path, scenario_id: str, label: str) -> None:
        self.folder = folder
        self.scenario_id = scenario_id
        self.label = label
        self.items: list[Publication] = []
        self._by_route: dict[str, list[Publication]] = {}

    def publish(
        self, route: str, at: datetime, path: str, body: bytes, content_type: str
    ) -> Publication:
        atomic_write_bytes(self.folder / path, body)
        item = Publication(
            route, ensure_utc(at), path, content_type, hashlib.sha256(body).hexdigest()
        )
        self.items.append(item)
        self._by_route.setdefault(route, []).append(item)
        self._by_route[route].sort(key=lambda p: p.published_at)
        return item

    def current(self, route: str, now: datetime) -> Publication | None:
        """The newest publication of `route` at or before `now`."""
        items = self._by_route.get(route, [])
        k = bisect_right([p.published_at for p in items], ensure_utc(now))
        return items[k - 1] if k else None

    def routes(self, prefix: str = "") -> list[str]:
        return sorted(r for r in self._by_route if r.startswith(prefix))

    def save(self) -> None:
        doc = {
            "scenario": self.scenario_id,
            "label": self.label,
            "publications": [
                {
                    "route": p.route,
                    "published_at": iso_utc(p.published_at),
                    "path": p.path,
                    "content_type": p.content_type,
                    "sha256": p.sha256,
                }
                for p in sorted(self.items, key=lambda p: (p.published_at, p.route))
            ],
        }
        body = json.dumps(doc, indent=1, ensure_ascii=False).encode("utf-8")
        atomic_write_bytes(self.folder / MANIFEST, body)

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise AgamError(f"{path}: cannot read the scenario manifest ({exc})") from None
        manifest = cls(folder, doc["scenario"], doc["label"])
        for index, p in enumerate(doc["publications"]):
            try:
                item = Publication(
                    p["route"],
                    ensure_utc(datetime.fromisoformat(p["published_at"])),
                    p["path"],
                    p["content_type"],
                    p["sha256"],
                )
            except (KeyError, ValueError) as exc:
                raise AgamError(f"{path}: publication {index}: bad field {exc}") from None
            manifest.items.append(item)
            manifest._by_route.setdefault(item.route, []).append(item)
        for items in manifest._by_route.values():
            items.sort(key=lambda p: p.published_at)
        return manifest
