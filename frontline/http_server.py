"""The HTTP server: uvicorn, with the bounds it lacks for a public endpoint.

uvicorn (with httptools) enforces a concurrency ceiling (503 past ``limit_concurrency``), an
idle keep-alive timeout and a WebSocket message size, all set here. It does not bound a
request's *head*: httptools accepts headers of any size (ten 20 MiB ``Authorization``
headers took 300 MB), and nothing times out a client that sends its head a byte at a time
(3,000 such connections stayed open). ``BoundedHttpToolsProtocol`` adds both: a head of at
most ``max_head_bytes`` (its target and headers, counted as the parser hands them over; and
no more than that received while a head is incomplete, since httptools holds a header until
it is whole), else ``431``; within ``head_timeout`` seconds of its first byte, or of the
connection opening, else ``408``. Both are a few counters and one timer per connection.

It subclasses uvicorn's ``HttpToolsProtocol`` and relies on its hooks (``connection_made``,
``data_received``, ``on_url``, ``on_header``, ``on_headers_complete``, ``on_body``,
``on_message_complete``, ``connection_lost``) and attributes (``loop``, ``transport``,
``cycle``);
pyproject.toml pins uvicorn's range and tests/unit/test_http_server_patch.py fails if one
moves. Another server (hypercorn, granian) would have bounded heads, but not all of the rest,
and measured slower here; the subclass is ~50 lines.
"""

from __future__ import annotations

import asyncio
from importlib.util import find_spec
from typing import Any, ClassVar, Final, Literal

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from frontline.config import Settings


def _plain(status: bytes, text: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"connection: close\r\ncontent-length: " + str(len(text)).encode() + b"\r\n\r\n" + text
    )


TOO_LARGE: Final = _plain(b"431 Request Header Fields Too Large", b"request head too large")
TIMED_OUT: Final = _plain(b"408 Request Timeout", b"request head not received in time")


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a size limit and a deadline on each request head."""

    max_head_bytes: ClassVar[int] = 16 * 1024
    head_timeout: ClassVar[float] = 10.0

    _head_bytes: int
    _unparsed_bytes: int
    _too_large: bool
    _in_head: bool
    _head_timer: asyncio.TimerHandle | None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_timer = None
        self._start_head()  # a new connection owes us a request head

    def _start_head(self) -> None:
        self._in_head = True
        self._head_bytes = 0  # the request line's target and the headers, as parsed
        self._unparsed_bytes = 0  # all bytes received while the head was incomplete
        self._too_large = False
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _end_head(self) -> None:
        self._in_head = False
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def data_received(self, data: bytes) -> None:
        if not self._in_head and self._head_timer is None and self._between_requests():
            self._start_head()  # the first bytes of the next request on a kept-alive one
        super().data_received(data)
        if self._in_head:
            # httptools hands over a header only once it is whole, so a head still
            # incomplete is bounded by the bytes received for it.
            self._unparsed_bytes += len(data)
        if self._too_large or self._unparsed_bytes > self.max_head_bytes:
            self._refuse(TOO_LARGE)

    def _between_requests(self) -> bool:
        return self.cycle is None or self.cycle.response_complete or not self.cycle.more_body

    def on_url(self, url: bytes) -> None:
        self._head_bytes += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_bytes += len(name) + len(value) + 4  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._end_head()
        if self._head_bytes > self.max_head_bytes:
            self._too_large = True  # refused once the parser returns (data_received)
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._too_large:  # a refused head has no request to take its body
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._too_large:
            return
        super().on_message_complete()
        # What follows belongs to the next request; its head starts with its first byte.
        self._in_head = False

    def connection_lost(self, exc: Exception | None) -> None:
        self._end_head()
        super().connection_lost(exc)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self._refuse(TIMED_OUT)

    def _refuse(self, response: bytes) -> None:
        self._end_head()
        if not self.transport.is_closing():
            self.transport.write(response)
            self.transport.close()


def bounded_protocol(settings: Settings) -> type[BoundedHttpToolsProtocol]:
    """The protocol class with this server's limits (uvicorn instantiates it itself)."""
    return type(
        "FrontlineHttpProtocol",
        (BoundedHttpToolsProtocol,),
        {
            "max_head_bytes": settings.max_header_bytes,
            "head_timeout": settings.head_timeout_seconds,
        },
    )


def event_loop() -> Literal["uvloop", "asyncio"]:
    """uvloop (uvicorn[standard]; about 1.5x the requests/s of asyncio here) when installed
    (it is not on Windows)."""
    return "uvloop" if find_spec("uvloop") else "asyncio"


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Every bound the server enforces, from the settings."""
    return {
        "loop": event_loop(),
        "http": bounded_protocol(settings),
        "lifespan": "on",
        "access_log": settings.access_log,
        # 503 instead of an unbounded queue; WebSockets and idle keep-alive connections count.
        "limit_concurrency": settings.max_connections,
        "timeout_keep_alive": settings.keepalive_seconds,
        # A WebSocket message no larger than an HTTP body, refused (1009) before it is read
        # whole; at most 16 of them queued unread per socket.
        "ws_max_size": settings.max_body_bytes,
        "ws_max_queue": 16,
        "ws_per_message_deflate": settings.ws_compression,
        # uvicorn's own loggers (its access log included) go through the root logger that
        # frontline.logs set up, in the same format, instead of uvicorn's handlers.
        "log_config": None,
    }
