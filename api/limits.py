"""Request body size limit: a pure ASGI middleware.

A body over the limit is refused with 413 and a GraphQL-shaped JSON error, whether it
announces itself with ``Content-Length`` or arrives in chunks (``Transfer-Encoding:
chunked``), so no client can make the server buffer an unbounded request. WebSockets and
lifespan pass through untouched.
"""

from __future__ import annotations

import json
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import bounds

DEFAULT_MAX_BODY_BYTES: Final = bounds.MAX_BODY_BYTES
PAYLOAD_TOO_LARGE: Final = "PAYLOAD_TOO_LARGE"


class _TooLarge(Exception):
    """Raised from ``receive`` once the streamed body passes the limit."""


class BodySizeLimit:
    """Refuse HTTP request bodies larger than ``max_bytes`` with ``413 Payload Too Large``."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _declared_length(scope) > self.max_bytes:
            await self._refuse(send)
            return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if started:  # too late for a clean answer; let the server drop the connection
                raise
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {
                "errors": [
                    {
                        "message": f"request body is larger than {self.max_bytes} bytes",
                        "extensions": {"code": PAYLOAD_TOO_LARGE},
                    }
                ]
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    # The rest of the body is never read: don't keep the connection.
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _declared_length(scope: Scope) -> int:
    """The Content-Length header's value; 0 when absent or malformed (then we count)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0
