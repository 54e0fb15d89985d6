"""The local server's guard: what a request must show before any route sees it.

``facetwitch serve`` listens on 127.0.0.1 only, but any web page the patient opens could
send requests to it, and a hostile site can make its own name resolve to 127.0.0.1 (DNS
rebinding). So, on every request:

- **Host** must be ``127.0.0.1:PORT`` or ``localhost:PORT``: a rebound name carries the
  hostile site's name here, and is refused (so no page of another site can read ours).
- **State-changing requests** (every method but GET and HEAD, and only POST is used) need an
  **Origin** of this server (``http://127.0.0.1:PORT`` or ``http://localhost:PORT``) and the
  **session token** in the ``X-Facetwitch-Token`` header. The token is made at server start,
  written into each page, and readable only by this server's own pages; a header of this
  name cannot be sent across sites without the server's consent (CORS preflight, which it
  never gives).
- **Cross-site reads**: a GET that another site's page makes (``Sec-Fetch-Site: cross-site``,
  other than the patient following a link) is refused, and every response says
  ``Cross-Origin-Resource-Policy: same-origin``, so no other site can embed our videos.
- **Size**: a body announced larger than the route's limit is refused before it is read;
  routes count what they stream and stop at the limit too.
- Every response carries a Content-Security-Policy (scripts and everything else only from
  this server, no inline script, no framing by other sites), ``nosniff`` and no referrer.
"""

from __future__ import annotations

import hmac
import json
import secrets

TOKEN_HEADER = "x-facetwitch-token"
SAFE_METHODS = ("GET", "HEAD")
ALLOWED_METHODS = ("GET", "HEAD", "POST")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; frame-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)


def token_new() -> str:
    """Return a fresh session token (256 random bits, URL-safe)."""
    return secrets.token_urlsafe(32)


class Guard:
    """ASGI middleware enforcing the rules of the module docstring.

    Parameters
    ----------
    app : ASGI app
        The routes.
    port : int
        The port the server listens on (Host and Origin must name it).
    token : str
        The session token.
    body_limit : callable
        ``body_limit(path) -> (int, str)``: the largest body (bytes) a POST to ``path`` may
        have, and what that allows in words for the refusal ("a video of at most 2 GB").
    """

    def __init__(self, app, *, port: int, token: str, body_limit):
        self.app = app
        self.hosts = {f"127.0.0.1:{port}".encode(), f"localhost:{port}".encode()}
        self.origins = {f"http://127.0.0.1:{port}".encode(), f"http://localhost:{port}".encode()}
        self.token = token.encode()
        self.body_limit = body_limit

    async def __call__(self, scope, receive, send):
        """Handle one ASGI call: check it, then pass it to the app."""
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {}
        for k, v in scope.get("headers") or []:
            headers.setdefault(k.lower(), v)  # the first of repeated headers
        method = scope["method"]
        refused = self._refusal(scope, method, headers)
        if refused is not None:
            status, message = refused
            extra = [(b"allow", ", ".join(ALLOWED_METHODS).encode())] if status == 405 else []
            return await _send_error(send, status, message, extra)

        async def secured_send(message):
            if message["type"] == "http.response.start":
                extra = [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"cross-origin-resource-policy", b"same-origin"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                    (b"x-frame-options", b"SAMEORIGIN"),
                ]
                names = {k.lower() for k, _ in message.get("headers", [])}
                message = dict(message)
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in extra if k not in names
                ]
            await send(message)

        return await self.app(scope, receive, secured_send)

    def _refusal(self, scope, method: str, headers: dict) -> tuple[int, str] | None:
        """(status, message) when the request must be refused, else None."""
        if headers.get(b"host") not in self.hosts:
            return 403, (
                "wrong Host: this server answers only to 127.0.0.1 and localhost on its own port"
            )
        if method not in ALLOWED_METHODS:
            return 405, f"method {method} is not allowed here (only {', '.join(ALLOWED_METHODS)})"
        if method in SAFE_METHODS:
            site = headers.get(b"sec-fetch-site", b"")
            mode = headers.get(b"sec-fetch-mode", b"")
            if site == b"cross-site" and mode != b"navigate":
                return 403, "refused: a request from another site"
            return None
        if headers.get(b"origin") not in self.origins:
            return 403, "refused: the request does not come from this server's own pages"
        if headers.get(b"sec-fetch-site", b"same-origin") not in (b"same-origin", b"none"):
            return 403, "refused: a request from another site"
        given = headers.get(TOKEN_HEADER.encode(), b"")
        if not hmac.compare_digest(given, self.token):
            return 403, "refused: missing or wrong session token (reload the page)"
        length = headers.get(b"content-length")
        if length is not None:
            try:
                n = int(length)
            except ValueError:
                return 400, "bad Content-Length"
            limit, allowed = self.body_limit(scope.get("path", ""))
            if n > limit:
                return 413, f"too large: {size_words(n)} ({allowed} here)"
        return None


def size_words(n: int) -> str:
    """Return a size as the app's settings give it: KB, MB, GB of 2**10, 2**20, 2**30 bytes.

    One wording for the upload page, every refusal and ``--max-upload-mb``: they had said
    "up to 1 MB", "at most 2.1 MB" and "larger than 0.00 GB" of one setting.
    """
    for unit, size in (("GB", n / 1024**3), ("MB", n / 1024**2), ("KB", n / 1024)):
        if size >= 1:
            return f"{size:.2f}".rstrip("0").rstrip(".") + f" {unit}"
    from .._text import plural

    return plural(n, "byte")


async def _send_error(send, status: int, message: str, extra: list | None = None) -> None:
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"content-security-policy", CSP.encode()),
                (b"x-content-type-options", b"nosniff"),
                (b"cache-control", b"no-store"),
                (b"connection", b"close"),
                *(extra or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
