"""Pure ASGI middleware that bounds what one request or socket may cost (besides the body
size limit in api.limits), and the response headers every answer carries.

- ``RequestDeadline``: an HTTP request has ``seconds`` from its first byte of body to its last
  byte of response, and its work is cancelled the moment its client goes away (uvicorn keeps
  running a handler whose client hung up: three abandoned costly queries once burnt 54 s of
  CPU). Cancelling the handler cancels its resolvers and their SQL (asyncpg cancels a query
  whose task is cancelled).
- ``SocketMessageRate``: a WebSocket may send ``per_second`` messages a second on average
  (bursts of twice that); past it the socket is closed with 4429. A flood of ``ping``
  messages on one socket raised a bystander's latency 150-fold.
- ``StandardHeaders``: ``X-Content-Type-Options: nosniff`` on every response, and a request's
  media type compared case-insensitively (RFC 9110 says it is; Strawberry compares bytes).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from contextlib import suppress
from contextvars import ContextVar
from typing import Final
from uuid import uuid4

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TIMEOUT: Final = "TIMEOUT"
#: graphql-transport-ws reserves 4429 for "too many initialisation requests"; a flood of
#: messages is the same complaint.
TOO_MANY_MESSAGES: Final = 4429


# Set in a request's scope by RequestDeadline before it stops the request (api.metrics).
DEADLINE_PASSED: Final = "frontline.deadline_passed"


class RequestDeadline:
    """Give each HTTP request ``seconds``; stop its work when its client disconnects. A
    subscription over Server-Sent Events (``Accept: text/event-stream``) lives as long as
    its client wants, like one over a WebSocket: it gets no deadline, only the cancelling."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        seconds = None if _wants_event_stream(scope) else self.seconds
        gone = asyncio.Event()
        started = finished = False
        watcher: asyncio.Task[None] | None = None

        async def watch() -> None:
            # The request's body is read: from now on the server's next message is
            # http.disconnect, when the client leaves or once the response is complete.
            await receive()
            gone.set()
            if not finished:
                handler.cancel()

        async def app_receive() -> Message:
            nonlocal watcher
            if watcher is not None:  # the app listens for a disconnect after its body
                await gone.wait()
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.disconnect":
                gone.set()
            elif not message.get("more_body", False):
                watcher = asyncio.create_task(watch())
            return message

        async def app_send(message: Message) -> None:
            nonlocal started, finished
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                finished = True  # before sending: the watcher wakes as it completes
            await send(message)

        app = self.app(scope, app_receive, app_send)
        handler: asyncio.Future[None] = asyncio.ensure_future(app)
        try:
            done, _ = await asyncio.wait({handler}, timeout=seconds)
            if handler not in done:
                scope[DEADLINE_PASSED] = True  # for /metrics: a TIMEOUT, not a hang-up
                handler.cancel()
                with suppress(asyncio.CancelledError):
                    await handler
                if not started and not gone.is_set():
                    await _send_timeout(send, self.seconds)
            elif not handler.cancelled():
                with suppress(ClientDisconnect):  # hung up mid-body: nobody to answer
                    handler.result()  # the app's own errors propagate as without us
        except asyncio.CancelledError:  # the server itself is stopping
            handler.cancel()
            raise
        finally:
            if watcher is not None:
                watcher.cancel()


def _wants_event_stream(scope: Scope) -> bool:
    accept = next((v for k, v in scope["headers"] if k == b"accept"), b"")
    return any(
        part.split(b";", 1)[0].strip().lower() == b"text/event-stream"
        for part in accept.split(b",")
    )


async def _send_timeout(send: Send, seconds: float) -> None:
    body = json.dumps(
        {
            "errors": [
                {
                    "message": f"the request did not complete within {seconds:g} s",
                    "extensions": {"code": TIMEOUT},
                }
            ]
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", b"1"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class SocketMessageRate:
    """At most ``per_second`` WebSocket messages a second per socket (a token bucket holding
    twice that); past it, the socket is closed with 4429 and the app sees a disconnect. And
    at most ``max_sockets`` sockets at once in this process, keyed or not, initialised or
    not: past it a new socket is refused before it is accepted (an HTTP 403), so sockets
    can never take all of the server's connections from its HTTP clients."""

    def __init__(self, app: ASGIApp, per_second: float, max_sockets: int) -> None:
        self.app = app
        self.rate = per_second
        self.burst = 2 * per_second
        self.max_sockets = max_sockets
        self.open = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        if self.open >= self.max_sockets:
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1013, "reason": "try again later"})
            return
        self.open += 1
        try:
            await self._rated(scope, receive, send)
        finally:
            self.open -= 1

    async def _rated(self, scope: Scope, receive: Receive, send: Send) -> None:
        tokens = self.burst
        last = time.monotonic()
        closed = False

        async def limited_receive() -> Message:
            nonlocal tokens, last, closed
            if closed:
                return {"type": "websocket.disconnect", "code": TOO_MANY_MESSAGES}
            message = await receive()
            if message["type"] == "websocket.receive":
                now = time.monotonic()
                tokens = min(self.burst, tokens + (now - last) * self.rate)
                last = now
                if tokens < 1:
                    closed = True
                    with suppress(Exception):  # the client may be gone already
                        await send(
                            {
                                "type": "websocket.close",
                                "code": TOO_MANY_MESSAGES,
                                "reason": "too many messages",
                            }
                        )
                    return {"type": "websocket.disconnect", "code": TOO_MANY_MESSAGES}
                tokens -= 1
            return message

        async def guarded_send(message: Message) -> None:
            if closed:
                return  # the app has not noticed yet; nothing more goes out
            await send(message)

        await self.app(scope, limited_receive, guarded_send)


class StandardHeaders:
    """``nosniff`` on every HTTP response; request media types in lower case; and a request
    id for every request and socket (``REQUEST_ID``, in each log line of JSON logs): the
    client's ``X-Request-Id`` when it is 1 to 64 of ``A-Z a-z 0-9 . _ : -`` (a proxy's
    trace id), else a new one, sent back in ``X-Request-Id``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in {"http", "websocket"}:
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope["headers"])
        REQUEST_ID.set(request_id)
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope["headers"] = [
            (name, _lower_media_type(value) if name == b"content-type" else value)
            for name, value in scope["headers"]
        ]
        echoed = request_id.encode()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"x-request-id", echoed))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


# The request or socket being served, for log lines (frontline.logs); None outside one.
REQUEST_ID: ContextVar[str | None] = ContextVar("frontline_request_id", default=None)
_REQUEST_ID: Final = re.compile(rb"[A-Za-z0-9._:-]{1,64}")


def _request_id(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == b"x-request-id" and _REQUEST_ID.fullmatch(value):
            return value.decode()
    return uuid4().hex


def _lower_media_type(value: bytes) -> bytes:
    """``APPLICATION/JSON; charset=UTF-8`` → ``application/json; charset=UTF-8``: the type and
    subtype are case-insensitive, parameter values need not be."""
    media_type, separator, parameters = value.partition(b";")
    return media_type.strip().lower() + separator + parameters
