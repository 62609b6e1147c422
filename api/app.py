"""The HTTP/WebSocket application: the GraphQL endpoint, /healthz and the playground, behind
the request bounds. Built by ``create_app`` from resources the running system provides
(frontline.server builds them in its lifespan)."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, TypedDict

import asyncpg
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from api.access import ReadGate, refusal, request_principal
from api.graphql.imports import DatasetImporter
from api.graphql.over_http import GraphQLMedia
from api.graphql.view import FrontlineGraphQL
from api.limits import BodySizeLimit
from api.live.broadcast import Broadcaster
from api.live.fanout import Fanout
from api.map.page import routes as map_routes
from api.map.picture import map_svg
from api.metrics import CONTENT_TYPE, Metrics
from api.middleware import RequestDeadline, SocketMessageRate, StandardHeaders
from api.playground import routes as playground_routes
from api.replicas import ReadPools
from api.sockets import SocketCount
from domain.application import Frontline
from readmodel.connections import DATABASE_DOWN, Pool
from readmodel.events import HEAD

logger = logging.getLogger(__name__)

HEALTH_SQL: Final = "SELECT (" + HEAD + "), (SELECT position FROM rm.tracking)"  # noqa: S608
_HEALTH_TIMEOUT_SECONDS: Final = 2.0
_HEALTH_FAILURES: tuple[type[Exception], ...] = (*DATABASE_DOWN, asyncpg.PostgresError)


class ApiSettings(Protocol):
    """What the API reads of the running system's settings (frontline.config.Settings)."""

    @property
    def open_reads(self) -> bool: ...
    @property
    def max_body_bytes(self) -> int: ...
    @property
    def request_timeout_seconds(self) -> float: ...
    @property
    def ws_messages_per_second(self) -> float: ...
    @property
    def max_sockets(self) -> int: ...
    @property
    def cors_origins(self) -> tuple[str, ...]: ...
    @property
    def tile_url(self) -> str | None: ...
    @property
    def max_operations_per_socket(self) -> int: ...
    @property
    def max_response_bytes(self) -> int: ...
    @property
    def ready_max_lag_seconds(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Resources:
    """What the lifespan builds once and every request shares."""

    settings: ApiSettings
    dsn: str
    pool: Pool
    # The write side. Synchronous (psycopg): call it through asyncio.to_thread.
    application: Frontline
    # Subscriptions: this process's one LISTEN connection and its fan-out.
    broadcaster: Broadcaster
    # Live streams shared by identical subscriptions.
    fanout: Fanout
    # WebSockets open per API key (FRONTLINE_MAX_SOCKETS_PER_KEY).
    sockets: SocketCount
    # /healthz's own connection: a pool busy with requests must not make the server look down.
    health_pool: Pool
    # The database's figures for /metrics, /readyz and /healthz's leader: a connection of
    # their own, so a flood of /healthz cannot time /readyz out (api.metrics).
    figures_pool: Pool
    # Importers of datasets' files by name, for the admin's importAcled (api.graphql.imports).
    importers: Mapping[str, DatasetImporter] = field(default_factory=dict)
    # This process's counters and gauges, for GET /metrics.
    metrics: Metrics = field(default_factory=Metrics)
    # Where HTTP queries read from: streaming replicas, else the primary (api.replicas).
    reads: ReadPools | None = None


class State(TypedDict):
    resources: Resources


def resources(request: Request) -> Resources:
    """The shared resources, typed."""
    found: Resources = request.state.resources
    return found


Lifespan = Callable[[Starlette], AbstractAsyncContextManager[Any]]


def create_app(settings: ApiSettings, graphql: FrontlineGraphQL, lifespan: Lifespan) -> Starlette:
    """The ASGI app around ``graphql``; ``lifespan`` yields ``{"resources": Resources}``."""
    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/livez", livez, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            *playground_routes(GraphQLMedia(ReadGate(graphql))),
            Route("/map.svg", map_svg, methods=["GET"]),
            *map_routes(settings.tile_url),
            WebSocketRoute("/graphql", graphql),
        ],
        middleware=middleware(settings),
        lifespan=lifespan,
    )


def middleware(settings: ApiSettings) -> list[Middleware]:
    """Outermost first: headers on every answer, CORS for named origins, then the bounds."""
    cors = [
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    ]
    return [
        Middleware(StandardHeaders),
        *(cors if settings.cors_origins else []),
        Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes),
        Middleware(RequestDeadline, seconds=settings.request_timeout_seconds),
        Middleware(
            SocketMessageRate,
            per_second=settings.ws_messages_per_second,
            max_sockets=settings.max_sockets,
        ),
    ]


async def healthz(request: Request) -> JSONResponse:
    """200 with the log position while PostgreSQL answers, 503 otherwise; and this process's
    live subscriptions: how many, and how many shared streams serve them (api.live.fanout). With
    closed reads, only a reader key sees more than the status."""
    found = resources(request)
    pool = found.health_pool
    try:
        async with asyncio.timeout(_HEALTH_TIMEOUT_SECONDS):
            heads = await pool.fetchrow(HEALTH_SQL)
            assert heads is not None  # noqa: S101 - a SELECT of two scalars has one row
            position, projected = heads[0], heads[1]
            detailed = found.settings.open_reads or (
                await request_principal(request, pool) is not None
            )
    except _HEALTH_FAILURES as exc:
        logger.warning("health check failed: %s", exc)
        return JSONResponse({"status": "unavailable", "error": type(exc).__name__}, 503)
    if not detailed:
        return JSONResponse({"status": "ok"})
    subscriptions = {"streams": found.broadcaster.subscribers} | found.fanout.stats()
    figures = await found.metrics.figures(found.figures_pool)  # read at most once a second
    return JSONResponse(
        {
            "status": "ok",
            "position": int(position),
            # How far the read models have got, and how far behind the log they are: a
            # projector stuck on an event shows here, not only in its log.
            "projected": int(projected),
            "lag": int(position) - int(projected),
            # Which process answered: `serve --workers N` runs several on one port.
            "process": os.getpid(),
            # Which one holds the projector's lock ("frontline-projector host:pid"), if any.
            "projector": None if figures is None else figures.leader,
            "subscriptions": subscriptions,
            # Streaming replicas HTTP queries read from, and whether each is usable now.
            "replicas": [] if found.reads is None else found.reads.stats(),
        }
    )


async def livez(_request: Request) -> JSONResponse:
    """200 while this process answers; it reads nothing (api.metrics)."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """200 while PostgreSQL answers and the projection is at most
    FRONTLINE_READY_MAX_LAG_SECONDS behind; 503 with the reason otherwise (api.metrics)."""
    found = resources(request)
    figures = await found.metrics.figures(found.figures_pool)
    if figures is None:
        return JSONResponse({"status": "unavailable", "reason": "database"}, 503)
    limit = found.settings.ready_max_lag_seconds
    if figures.lag_seconds > limit:
        reason = f"projection {figures.lag_seconds:.0f} s behind (at most {limit:g})"
        return JSONResponse({"status": "unavailable", "reason": reason, "lag": figures.lag}, 503)
    return JSONResponse({"status": "ok", "lag": figures.lag})


async def metrics(request: Request) -> Response:
    """This process's metrics in Prometheus' text format (api.metrics). With closed reads,
    only for a key."""
    found = resources(request)
    if not found.settings.open_reads:
        try:
            principal = await request_principal(request, found.health_pool)
        except _HEALTH_FAILURES:  # a key can't be checked: say so, not "unauthorized"
            return refusal(503, "UNAVAILABLE", "the database is unavailable; retry shortly")
        if principal is None:
            return refusal(401, "UNAUTHENTICATED", "an API key is required for /metrics")
    return Response(await found.metrics.render(found), media_type=CONTENT_TYPE)
