"""Who may talk to the web panel.

Bound to a loopback address (the default) the panel trusts the machine's own users, as a terminal
does, but still refuses two browser attacks on local servers: DNS rebinding (the ``Host`` header
must name a loopback host) and cross-site form posts (an unsafe method's ``Origin`` must be ours).

Bound to any other address, a random token printed at start-up guards every request, static files
included: ``?token=`` once sets an HttpOnly, SameSite=Strict cookie and redirects to the same URL
without the token (so it stays out of the history, referrers and access logs); comparisons are
constant-time. The token is never logged. That redirect goes to a path of this server only, whatever
the request's path (``//evil.example/...`` stays here).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import secrets
from http.cookies import SimpleCookie
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

log = logging.getLogger(__name__)

COOKIE = "sim2real_token"
LOOPBACK_NAMES = ("localhost",)
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
PATH_SAFE = "/-._~!$&'()*+,;=:@"  # RFC 3986 pchar (unreserved, sub-delims, ':' '@') and '/'

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``: addresses only this machine can reach."""
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    """128 bits from the OS's CSPRNG, URL-safe."""
    return secrets.token_urlsafe(16)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _cookie(headers: dict[str, str]) -> str | None:
    jar = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header is the same as none
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel else None


def _host_name(value: str) -> str:
    return urlsplit(f"//{value}").hostname or ""


class Guard:
    """ASGI middleware enforcing the rules above in front of the whole application."""

    def __init__(self, app: Callable[..., Awaitable[None]], token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        if self.token is None:
            if not is_loopback(_host_name(headers.get("host", ""))):
                await _refuse(scope, send, 403, "forbidden: this panel answers only to a loopback host name")
                return
        else:
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
            offered = query.get("token")
            if offered is not None:
                if _same(offered, self.token):
                    await _redirect_setting_cookie(scope, send, query, self.token)
                else:
                    await _refuse(scope, send, 401, "unauthorized: wrong token")
                return
            cookie = _cookie(headers)
            if cookie is None or not _same(cookie, self.token):
                await _refuse(scope, send, 401, "unauthorized: open the URL with ?token=... printed when `sim2real ui` started")
                return
        if scope.get("method", "GET") in UNSAFE and not _same_origin(headers):
            await _refuse(scope, send, 403, "forbidden: cross-origin request")
            return
        await self.app(scope, receive, send)


def _same_origin(headers: dict[str, str]) -> bool:
    """An unsafe request must come from our own pages: its Origin (when the browser sends one)
    must be this server's host. Scripts without Origin (curl) pass; browsers always send it on POST."""
    origin = headers.get("origin")
    if origin is None:
        return True
    parts = urlsplit(origin)
    return parts.netloc.lower() == headers.get("host", "").lower()


async def _refuse(scope: Scope, send: Send, status: int, text: str) -> None:
    # the path only, never the query string: it may hold a (wrong or right) token
    log.warning("%s %s -> %d (%s)", scope.get("method", "WS"), scope.get("path", ""), status, text.split(":")[0])
    await _plain(send, status, text)


async def _plain(send: Send, status: int, text: str) -> None:
    body = (text + "\n").encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})


def local_location(path: str, query: dict[str, str]) -> str:
    """A ``Location`` that can only name a page of this server: one leading slash (a browser reads
    ``//host/...`` and ``/\\host/...`` as another site), and every byte outside a URL path's own
    characters percent-encoded (no control characters, spaces, backslashes, ``?`` or ``#``)."""
    clean = "/" + path.lstrip("/\\")
    return quote(clean, safe=PATH_SAFE) + (f"?{urlencode(query)}" if query else "")


async def _redirect_setting_cookie(scope: Scope, send: Send, query: dict[str, str], token: str) -> None:
    location = local_location(scope.get("path", "/"), {k: v for k, v in query.items() if k != "token"})
    cookie = f"{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/"
    await send({"type": "http.response.start", "status": 303,
                "headers": [(b"location", location.encode()), (b"set-cookie", cookie.encode()),
                            (b"cache-control", b"no-store"), (b"content-length", b"0"),
                            (b"referrer-policy", b"no-referrer")]})
    await send({"type": "http.response.body", "body": b""})
