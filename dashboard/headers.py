"""Security headers the dashboard sets on every HTTP answer itself, so they hold without the
reverse proxy too (`agam demo`, `agam serve --address ...` on a LAN):

- no other site may frame a page (clickjacking the approve button); the dashboard frames its
  own components (the map), hence 'self' and not 'none';
- no content-type sniffing, and no full address in the Referer sent to other sites;
- files Streamlit serves from memory under /media/ (payment files with wallet numbers,
  briefings) are never kept by a browser or proxy cache.

nginx (deploy/nginx/agam.conf) hides the first four and sends its fuller set instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"content-security-policy", b"frame-ancestors 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
)
NO_STORE = (b"cache-control", b"no-store")


def _is_media(path: str) -> bool:
    """Streamlit's in-memory files: /media/<id>, under any server.baseUrlPath."""
    return "/media/" in path


class SecurityHeaders:
    """ASGI middleware: the headers above on every HTTP response (websockets untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = list(HEADERS)
        if _is_media(str(scope.get("path", ""))):
            added.append(NO_STORE)
        names = {name for name, _ in added}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + added}
            await send(message)

        await self.app(scope, receive, send_with_headers)
