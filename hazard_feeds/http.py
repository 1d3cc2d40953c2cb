"""One HTTP layer for every feed: timeouts, retries with backoff, conditional GET, size
limit, streaming sha256, truncation checks, an overall deadline, at most MAX_REDIRECTS
redirects and none from HTTPS to plain HTTP. Every failure raises FeedError naming the URL
with its secrets redacted."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass
from importlib import metadata
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from agam.core.errors import FeedError
from agam.core.timeutil import utc_now
from hazard_feeds.contract import RawArtifact

log = logging.getLogger(__name__)

SECRET_PARAMS = re.compile(
    r"(?i)([?&;](?:key|api_?key|apikey|token|access_token|auth|secret|password|passwd|sig|"
    r"signature|client_secret)=)[^&#;]*"
)
USERINFO = re.compile(r"(?i)^([a-z][a-z0-9+.-]*://)[^/@]*@")
RETRY_STATUSES = (429, 500, 502, 503, 504)
MAX_REDIRECTS = 5


def _version() -> str:
    try:
        return metadata.version("agam")
    except metadata.PackageNotFoundError:
        return "dev"


USER_AGENT = f"Agam/{_version()} (anticipatory-action dashboard, Bangladesh; python-requests)"


def redact(url: str) -> str:
    """The URL with key/token query values and any user:password@ replaced by ***."""
    return SECRET_PARAMS.sub(r"\1***", USERINFO.sub(r"\1***@", url))


class DowngradeRefused(Exception):
    """A redirect from HTTPS to another scheme: anyone on the path could then change the
    forecast (a cyclone made up or taken away)."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


class _FeedSession(requests.Session):
    """requests.Session that refuses to follow HTTPS to plain HTTP, before asking."""

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        target = super().get_redirect_target(resp)
        if target is not None and urlsplit(resp.url).scheme == "https":
            absolute = urljoin(resp.url, target)
            if urlsplit(absolute).scheme != "https":
                raise DowngradeRefused(absolute)
        return target


@dataclass(frozen=True)
class HttpSettings:
    connect_timeout_s: float = 6.05
    read_timeout_s: float = 30.0
    total_deadline_s: float = 300.0
    retries: int = 4
    backoff_factor_s: float = 1.0
    backoff_max_s: float = 60.0
    retry_after_max_s: int = 300
    max_bytes: int = 512 * 1024 * 1024
    user_agent: str = USER_AGENT


class HttpClient:
    """A requests.Session with urllib3 Retry mounted; one per feed, reused across runs."""

    def __init__(self, settings: HttpSettings | None = None) -> None:
        self.settings = settings or HttpSettings()
        s = self.settings
        retry = Retry(
            total=s.retries,
            connect=s.retries,
            read=s.retries,
            status=s.retries,
            other=0,
            redirect=5,
            backoff_factor=s.backoff_factor_s,
            backoff_max=s.backoff_max_s,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET", "HEAD"}),
            respect_retry_after_header=True,
            retry_after_max=s.retry_after_max_s,
            raise_on_status=False,  # the last response comes back and is judged below
        )
        self.session = _FeedSession()
        self.session.max_redirects = MAX_REDIRECTS
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = s.user_agent

    def close(self) -> None:
        self.session.close()

    def get(
        self,
        url: str,
        *,
        feed_id: str,
        params: dict[str, Any] | None = None,
        since: RawArtifact | None = None,
        accept: str | None = None,
    ) -> RawArtifact:
        """GET one resource into memory with every guard; a 304 gives not_modified=True."""
        headers = {}
        if accept:
            headers["Accept"] = accept
        if since is not None and since.etag:
            headers["If-None-Match"] = since.etag
        if since is not None and since.last_modified:
            headers["If-Modified-Since"] = since.last_modified
        started = time.monotonic()
        shown = redact(url)
        log.debug("%s: GET %s (conditional=%s)", feed_id, shown, bool(headers))
        timeout = (self.settings.connect_timeout_s, self.settings.read_timeout_s)
        try:
            response = self.session.get(
                url, params=params, headers=headers, stream=True, timeout=timeout
            )
        except DowngradeRefused as exc:
            raise FeedError(
                f"{feed_id}: {shown} redirected from HTTPS to {redact(exc.target)}: refused, a "
                "forecast is never fetched unencrypted after an encrypted request; fix the "
                "feed's URL or ask its provider"
            ) from None
        except requests.TooManyRedirects:
            raise FeedError(
                f"{feed_id}: {shown} redirected more than {MAX_REDIRECTS} times: refused"
            ) from None
        except requests.exceptions.RetryError as exc:
            raise FeedError(
                f"{feed_id}: {shown} kept failing after {self.settings.retries} retries "
                f"({_reason(exc)})"
            ) from None
        except requests.Timeout:
            raise FeedError(f"{feed_id}: {shown} timed out (no answer)") from None
        except requests.RequestException as exc:
            if "timed out" in str(exc).lower():  # urllib3 wraps read timeouts after retries
                raise FeedError(f"{feed_id}: {shown} timed out after retries") from None
            raise FeedError(f"{feed_id}: {shown} unreachable ({type(exc).__name__})") from None
        with response:
            final = redact(response.url or url)
            if response.status_code == 304:
                log.info("%s: %s not modified", feed_id, final)
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
                    f"{feed_id}: HTTP {response.status_code} from {final}, still failing "
                    f"after {self.settings.retries} retries"
                )
            if response.status_code >= 400:
                raise FeedError(f"{feed_id}: HTTP {response.status_code} from {final}")
            content, digest = self._read(response, feed_id, final, started)
        log.info("%s: fetched %s (%d bytes, sha256 %s)", feed_id, final, len(content), digest[:12])
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
        """Stream the body: size limit, overall deadline, sha256, truncation check."""
        declared_text = response.headers.get("Content-Length", "")
        declared = int(declared_text) if declared_text.strip().isdigit() else None
        limit = self.settings.max_bytes
        if declared is not None and declared > limit:
            raise FeedError(f"{feed_id}: {url} is {declared:,} bytes, over the {limit:,} limit")
        digest = hashlib.sha256()
        chunks: list[bytes] = []
        size = 0
        deadline = self.settings.total_deadline_s
        try:
            for chunk in response.iter_content(chunk_size=1 << 16):
                size += len(chunk)
                if size > limit:
                    raise FeedError(f"{feed_id}: {url} exceeds the {limit:,}-byte limit")
                if time.monotonic() - started > deadline:
                    raise FeedError(f"{feed_id}: {url} took longer than the {deadline:.0f} s limit")
                digest.update(chunk)
                chunks.append(chunk)
        except requests.exceptions.ChunkedEncodingError as exc:
            raise FeedError(f"{feed_id}: {url} body truncated ({_reason(exc)})") from None
        except requests.exceptions.ContentDecodingError:
            raise FeedError(f"{feed_id}: {url} body could not be decompressed") from None
        except requests.exceptions.ConnectionError as exc:
            if "timed out" in str(exc).lower():
                raise FeedError(f"{feed_id}: {url} stalled while reading (read timeout)") from None
            raise FeedError(
                f"{feed_id}: {url} connection lost while reading ({_reason(exc)})"
            ) from None
        except requests.Timeout:
            raise FeedError(f"{feed_id}: {url} stalled while reading (read timeout)") from None
        encoding = response.headers.get("Content-Encoding", "identity").lower()
        if declared is not None and encoding == "identity" and size != declared:
            raise FeedError(f"{feed_id}: {url} body truncated ({size:,} of {declared:,} bytes)")
        return b"".join(chunks), digest.hexdigest()


def _reason(exc: BaseException) -> str:
    """A short, secret-free reason: the innermost exception's class and first words."""
    inner: BaseException = exc
    for _ in range(5):
        reason = getattr(inner, "reason", None)
        if isinstance(reason, BaseException):
            inner = reason
        elif inner.args and isinstance(inner.args[0], BaseException):
            inner = inner.args[0]
        else:
            break
    text = redact(" ".join(str(inner).split()))
    return f"{type(inner).__name__}: {text[:160]}" if text else type(inner).__name__
