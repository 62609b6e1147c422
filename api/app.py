"""The Starlette application: built once per process by `create_app(settings)`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Final, TypedDict

import asyncpg
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute

from api.access import ReadGate, request_principal
from api.broadcast import Broadcaster
from api.config import Settings
from api.database import DATABASE_DOWN, Pool, create_pool, eventsourcing_env, resolve_dsn
from api.fanout import Fanout
from api.graphql.over_http import GraphQLMedia
from api.graphql.schema import build_schema
from api.graphql.view import FrontlineGraphQL
from api.limits import BodySizeLimit
from api.middleware import RequestDeadline, SocketMessageRate, StandardHeaders
from api.migrate import migrate
from api.playground import routes as playground_routes
from api.projecting import ProjectorProcess
from api.sockets import SocketCount
from domain.application import Frontline
from readmodel.rebuild import rebuild_if_outdated

logger = logging.getLogger(__name__)

#: The global position of the last event in the log (0 when empty).
LOG_POSITION_SQL: Final = "SELECT coalesce(max(notification_id), 0) FROM public.frontline_events"
HEALTH_SQL: Final = (
    "SELECT (SELECT coalesce(max(notification_id), 0) FROM public.frontline_events), "
    "(SELECT position FROM rm.tracking)"
)
_HEALTH_TIMEOUT_SECONDS: Final = 2.0
_HEALTH_FAILURES: tuple[type[Exception], ...] = (*DATABASE_DOWN, asyncpg.PostgresError)


@dataclass(frozen=True, slots=True)
class Resources:
    """What the lifespan builds once and every request shares."""

    settings: Settings
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


class State(TypedDict):
    resources: Resources


def resources(request: Request) -> Resources:
    """The shared resources, typed."""
    found: Resources = request.state.resources
    return found


def create_app(settings: Settings) -> Starlette:
    """Build the ASGI app. Nothing connects until the lifespan starts."""
    schema = build_schema(max_cost=settings.max_query_cost)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[State]:
        # Starting the embedded server blocks for seconds; keep the event loop free.
        dsn = await asyncio.to_thread(resolve_dsn, settings)
        await migrate(dsn)
        await _rebuild_if_outdated(dsn)
        pool = await create_pool(dsn, statement_timeout_ms=settings.statement_timeout_ms)
        health_pool = await create_pool(dsn, min_size=1, max_size=2, statement_timeout_ms=2_000)
        # Construction connects (psycopg), so keep it off the event loop.
        application = await asyncio.to_thread(Frontline, eventsourcing_env(dsn))
        stop = asyncio.Event()
        projecting = None
        if settings.run_projector:
            projecting = ProjectorProcess(dsn)
            projecting.start()
        broadcaster = Broadcaster(dsn, pool, capacity=settings.subscription_buffer)
        await broadcaster.start()
        broadcasting = asyncio.create_task(broadcaster.run(stop), name="broadcaster")
        try:
            yield {
                "resources": Resources(
                    settings=settings,
                    dsn=dsn,
                    pool=pool,
                    application=application,
                    broadcaster=broadcaster,
                    fanout=Fanout(schema, queue=settings.subscription_buffer),
                    sockets=SocketCount(settings.max_sockets_per_key),
                    health_pool=health_pool,
                )
            }
        finally:
            stop.set()
            await broadcasting
            if projecting is not None:
                await asyncio.to_thread(projecting.stop)
            await asyncio.to_thread(application.close)
            await pool.close()
            await health_pool.close()

    graphql = FrontlineGraphQL(
        schema,
        max_operations_per_socket=settings.max_operations_per_socket,
        request_timeout_seconds=settings.request_timeout_seconds,
        max_response_bytes=settings.max_response_bytes,
    )
    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            *playground_routes(GraphQLMedia(ReadGate(graphql))),
            WebSocketRoute("/graphql", graphql),
        ],
        middleware=middleware(settings),
        lifespan=lifespan,
    )


async def _rebuild_if_outdated(dsn: str) -> None:
    """Read models an upgrade made outdated are rebuilt before serving (a no-op when
    `frontline serve` did it already)."""
    conn = await asyncpg.connect(dsn)
    try:
        await rebuild_if_outdated(conn)
    finally:
        await conn.close()


def middleware(settings: Settings) -> list[Middleware]:
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
    live subscriptions: how many, and how many shared streams serve them (api.fanout). With
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
    return JSONResponse(
        {
            "status": "ok",
            "position": int(position),
            # How far the read models have got, and how far behind the log they are: a
            # projector stuck on an event shows here, not only in its log.
            "projected": int(projected),
            "lag": int(position) - int(projected),
            "subscriptions": subscriptions,
        }
    )
