"""Settings from the environment — the one module that reads it.

Everything else receives a `Settings` value, so tests and the CLI can build one explicitly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from starlette.config import Config

from api import bounds


@dataclass(frozen=True, slots=True)
class Settings:
    """How to reach PostgreSQL and how to serve.

    `database_url` unset means: run the embedded PostgreSQL (frontline/embedded.py) under
    `data_dir/pg`.
    """

    database_url: str | None = None
    data_dir: Path = Path(".frontline")
    host: str = "127.0.0.1"
    port: int = 8000
    load_sample: bool = True
    # Run the projector inside this process (it elects one leader across processes, so
    # leaving it on everywhere is safe); off for API-only replicas.
    run_projector: bool = True
    # API processes `serve` runs on its one port (frontline.workers); one projector in all.
    workers: int = 1
    # Anyone may read without a key (writes always need one).
    open_reads: bool = True
    # uvicorn's per-request access log (off for benchmarks and soaks).
    access_log: bool = True
    # Larger request bodies are refused with 413 (a GraphQL request is a few KiB).
    max_body_bytes: int = bounds.MAX_BODY_BYTES
    # Rows of each subscription feed kept in memory for live subscribers (api.live.broadcast);
    # a subscriber further behind reads from the database instead.
    subscription_buffer: int = bounds.SUBSCRIPTION_BUFFER
    # permessage-deflate on WebSockets (see the README's design notes for why it is off).
    ws_compression: bool = False
    # /readyz fails while the oldest event not yet projected is older than this (api.metrics).
    ready_max_lag_seconds: float = 60.0
    # Streaming replicas that HTTP queries read from (api.replicas); none: all on the primary.
    read_urls: tuple[str, ...] = ()
    # A replica behind the primary's projection for longer than this is bypassed.
    read_max_lag_seconds: float = 5.0
    # -- bounds for a public endpoint (README: "Limits") --------------------------------------
    # A query's estimated cost (api.graphql.cost) past which it is refused unexecuted.
    max_query_cost: int = bounds.MAX_QUERY_COST
    # A request's whole life (body, execution, response) and each SQL statement's.
    request_timeout_seconds: float = bounds.REQUEST_TIMEOUT_SECONDS
    statement_timeout_ms: int = bounds.STATEMENT_TIMEOUT_MS
    # A response larger than this is replaced by a RESPONSE_TOO_LARGE error.
    max_response_bytes: int = bounds.MAX_RESPONSE_BYTES
    # HTTP: a request head's size and time; idle keep-alive; connections (503 beyond).
    max_header_bytes: int = bounds.MAX_HEADER_BYTES
    head_timeout_seconds: float = bounds.HEAD_TIMEOUT_SECONDS
    keepalive_seconds: int = bounds.KEEPALIVE_SECONDS
    max_connections: int = bounds.MAX_CONNECTIONS
    # WebSockets: messages per second (with a burst of twice as many), operations per socket,
    # sockets per API key.
    ws_messages_per_second: float = bounds.WS_MESSAGES_PER_SECOND
    max_sockets: int = bounds.MAX_SOCKETS
    max_operations_per_socket: int = bounds.MAX_OPERATIONS_PER_SOCKET
    max_sockets_per_key: int = bounds.MAX_SOCKETS_PER_KEY
    # Browser origins allowed to call the API from their pages (CORS); none by default.
    cors_origins: tuple[str, ...] = ()
    # The map page's base layer: a tile server's URL template ("https://{s}.tile.example.org/
    # {z}/{x}/{y}.png"); unset, the page draws the bundled country outlines and stays offline.
    tile_url: str | None = None


def log_format(environ: Mapping[str, str] | None = None) -> str:
    """FRONTLINE_LOG_FORMAT: "text" (the default) or "json" (frontline.logs); ValueError
    for anything else."""
    config = Config() if environ is None else Config(environ=environ)
    found = config("FRONTLINE_LOG_FORMAT", cast=str, default="text").strip().lower()
    if found not in {"text", "json"}:
        raise ValueError(f"FRONTLINE_LOG_FORMAT must be text or json, not {found!r}")
    return found


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read `Settings` from the process environment, or from `environ` when given (tests)."""
    config = Config() if environ is None else Config(environ=environ)
    database_url = config("DATABASE_URL", cast=str, default="") or None
    return Settings(
        database_url=database_url,
        data_dir=config("FRONTLINE_DATA_DIR", cast=Path, default=Path(".frontline")),
        host=config("FRONTLINE_HOST", cast=str, default="127.0.0.1"),
        port=config("FRONTLINE_PORT", cast=int, default=8000),
        load_sample=config("FRONTLINE_LOAD_SAMPLE", cast=bool, default=True),
        run_projector=config("FRONTLINE_RUN_PROJECTOR", cast=bool, default=True),
        workers=config("FRONTLINE_WORKERS", cast=int, default=1),
        open_reads=config("FRONTLINE_OPEN_READS", cast=bool, default=True),
        access_log=config("FRONTLINE_ACCESS_LOG", cast=bool, default=True),
        max_body_bytes=config("FRONTLINE_MAX_BODY_BYTES", cast=int, default=bounds.MAX_BODY_BYTES),
        subscription_buffer=config(
            "FRONTLINE_SUBSCRIPTION_BUFFER", cast=int, default=bounds.SUBSCRIPTION_BUFFER
        ),
        ws_compression=config("FRONTLINE_WS_COMPRESSION", cast=bool, default=False),
        ready_max_lag_seconds=config("FRONTLINE_READY_MAX_LAG_SECONDS", cast=float, default=60.0),
        read_urls=tuple(
            url.strip()
            for url in config("FRONTLINE_READ_URL", cast=str, default="").split(",")
            if url.strip()
        ),
        read_max_lag_seconds=config("FRONTLINE_READ_MAX_LAG_SECONDS", cast=float, default=5.0),
        max_query_cost=config("FRONTLINE_MAX_QUERY_COST", cast=int, default=bounds.MAX_QUERY_COST),
        request_timeout_seconds=config(
            "FRONTLINE_REQUEST_TIMEOUT_SECONDS", cast=float, default=bounds.REQUEST_TIMEOUT_SECONDS
        ),
        statement_timeout_ms=config(
            "FRONTLINE_STATEMENT_TIMEOUT_MS", cast=int, default=bounds.STATEMENT_TIMEOUT_MS
        ),
        max_response_bytes=config(
            "FRONTLINE_MAX_RESPONSE_BYTES", cast=int, default=bounds.MAX_RESPONSE_BYTES
        ),
        max_header_bytes=config(
            "FRONTLINE_MAX_HEADER_BYTES", cast=int, default=bounds.MAX_HEADER_BYTES
        ),
        head_timeout_seconds=config(
            "FRONTLINE_HEAD_TIMEOUT_SECONDS", cast=float, default=bounds.HEAD_TIMEOUT_SECONDS
        ),
        keepalive_seconds=config(
            "FRONTLINE_KEEPALIVE_SECONDS", cast=int, default=bounds.KEEPALIVE_SECONDS
        ),
        max_connections=config(
            "FRONTLINE_MAX_CONNECTIONS", cast=int, default=bounds.MAX_CONNECTIONS
        ),
        ws_messages_per_second=config(
            "FRONTLINE_WS_MESSAGES_PER_SECOND", cast=float, default=bounds.WS_MESSAGES_PER_SECOND
        ),
        max_sockets=config("FRONTLINE_MAX_SOCKETS", cast=int, default=bounds.MAX_SOCKETS),
        max_operations_per_socket=config(
            "FRONTLINE_MAX_OPERATIONS_PER_SOCKET",
            cast=int,
            default=bounds.MAX_OPERATIONS_PER_SOCKET,
        ),
        max_sockets_per_key=config(
            "FRONTLINE_MAX_SOCKETS_PER_KEY", cast=int, default=bounds.MAX_SOCKETS_PER_KEY
        ),
        cors_origins=tuple(
            origin.strip()
            for origin in config("FRONTLINE_CORS_ORIGINS", cast=str, default="").split(",")
            if origin.strip()
        ),
        tile_url=config("FRONTLINE_TILE_URL", cast=str, default="") or None,
    )
