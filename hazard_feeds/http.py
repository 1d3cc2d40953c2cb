"""One HTTP layer for every feed: timeouts, retries with backoff, conditional GET, size
limit, streaming sha256, truncation checks. Failures raise FeedError with a redacted URL."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from agam import __version__
from agam.core.errors import FeedError
from agam.core.timeutil import utc_now
from hazard_feeds.contract import RawArtifact

log = logging.getLogger(__name__)

SECRET_PARAMS = re.compile(r"(?i)([?&](?:key|api_?key|token|access_token|secret)=)[^&#]*")
RETRY_STATUSES = (429, 500, 502, 503, 504)


def redact(url: str) -> str:
    return SECRET_PARAMS.sub(r"\1***", url)


@dataclass(frozen=True)
class HttpSettings:
    connect_timeout_s: float = 6.05
    read_timeout_s: float = 30.0
    total_deadline_s: float = 300.0
    retries: int = 4
    backoff_factor_s: float = 1.0
    backoff_max_s: float = 60.0
    max_bytes: int = 512 * 1024 * 1024


class HttpClient:
    """A requests.Session with urllib3 Retry mounted; one per process, shared by all feeds."""

    def __init__(self, settings: HttpSettings | None = None) -> None:
        self.settings = settings or HttpSettings()
        retry = Retry(
            total=self.settings.retries,
            connect=self.settings.retries,
            read=self.settings.retries,
            status=self.settings.retries,
            backoff_factor=self.settings.backoff_factor_s,
            backoff_max=self.settings.backoff_max_s,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET", "HEAD"}),
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = f"Agam/{__version__} (anticipatory action, BGD)"

    def get(
        self,
        url: str,
        *,
        feed_id: str,
        params: dict[str, Any] | None = None,
        since: RawArtifact | None = None,
        accept: str | None = None,
    ) -> RawArtifact:
        """GET one resource into memory with every guard; 304 gives not_modified=True."""
        headers = {}
        if accept:
            headers["Accept"] = accept
        if since is not None and since.etag:
            headers["If-None-Match"] = since.etag
        if since is not None and since.last_modified:
            headers["If-Modified-Since"] = since.last_modified
        started = time.monotonic()
        shown = redact(url)
        try:
            response = self.session.get(
                url,
                params=params,
                headers=headers,
                stream=True,
                timeout=(self.settings.connect_timeout_s, self.settings.read_timeout_s),
            )
        except requests.exceptions.RetryError as exc:
            raise FeedError(f"{feed_id}: {shown} kept failing after retries ({exc})") from None
        except requests.Timeout:
            raise FeedError(f"{feed_id}: {shown} timed out") from None
        except requests.RequestException as exc:
            if "timed out" in str(exc).lower():  # urllib3 wraps read timeouts after retries
                raise FeedError(f"{feed_id}: {shown} timed out after retries") from None
            raise FeedError(f"{feed_id}: {shown} unreachable ({type(exc).__name__})") from None
        with response:
            final = redact(response.url or url)
            if response.status_code == 304:
                return RawArtifact(
                    feed_id=feed_id,
                    source_uri=final,
                    content=b"",
                    sha256="",
                    fetched_at=utc_now(),
                    etag=since.etag if since else None,
                    last_modified=since.last_modified if since else None,
                    not_modified=True,
                )
            if response.status_code in RETRY_STATUSES:
                raise FeedError(
                    f"{feed_id}: HTTP {response.status_code} from {final}, still "
                    f"after {self.settings.retries} retries"
                )
            if response.status_code >= 400:
                raise FeedError(f"{feed_id}: HTTP {response.status_code} from {final}")
            content, digest = self._read(response, feed_id, final, started)
        return RawArtifact(
            feed_id=feed_id,
            source_uri=final,
            content=content,
            sha256=digest,
            fetched_at=utc_now(),
            content_type=response.headers.get("Content-Type"),
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
        )

    def _read(
        self, response: requests.Response, feed_id: str, url: str, started: float
    ) -> tuple[bytes, str]:
        declared = response.headers.get("Content-Length")
        limit = self.settings.max_bytes
        if declared and declared.isdigit() and int(declared) > limit:
            raise FeedError(
                f"{feed_id}: {url} is {int(declared):,} bytes, over the {limit:,} limit"
            )
        digest = hashlib.sha256()
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(chunk_size=1 << 16):
                size += len(chunk)
                if size > limit:
                    raise FeedError(f"{feed_id}: {url} exceeds the {limit:,}-byte limit")
                if time.monotonic() - started > self.settings.total_deadline_s:
                    raise FeedError(
                        f"{feed_id}: {url} took longer than {self.settings.total_deadline_s:.0f} s"
                    )
                digest.update(chunk)
                chunks.append(chunk)
        except requests.exceptions.ChunkedEncodingError as exc:
            raise FeedError(f"{feed_id}: {url} body truncated ({exc})") from None
        except requests.exceptions.ConnectionError as exc:
            raise FeedError(f"{feed_id}: {url} connection lost while reading ({exc})") from None
        except requests.Timeout:
            raise FeedError(f"{feed_id}: {url} stalled while reading (read timeout)") from None
        encoding = response.headers.get("Content-Encoding", "identity")
        if declared and declared.isdigit() and encoding == "identity" and size != int(declared):
            raise FeedError(
                f"{feed_id}: {url} body truncated ({size:,} of {int(declared):,} bytes)"
            )
        return b"".join(chunks), digest.hexdigest()
