"""The serving process: the API app (api.app) with what it runs on, built once by the
lifespan — the database (embedded or not, migrated, its read models current), the pools,
the write side, the projector child process, and this process's broadcaster."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from starlette.applications import Starlette

from api.app import Resources, State, create_app
from api.graphql.schema import build_schema
from api.graphql.view import FrontlineGraphQL
from api.live.broadcast import Broadcaster
from api.live.fanout import Fanout
from api.replicas import ReadPools
from api.sockets import SocketCount
from domain.application import Frontline
from frontline.acled_api import AcledImporter
from frontline.config import Settings
from frontline.database import create_pool, eventsourcing_env, resolve_dsn
from frontline.migrate import migrate
from frontline.projecting import ProjectorProcess
from readmodel.rebuild import rebuild_if_outdated


def create_server(settings: Settings) -> Starlette:
    """The ASGI app for ``settings``. Nothing connects until the lifespan starts."""
    schema = build_schema(max_cost=settings.max_query_cost)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[State]:
        # Starting the embedded server blocks for seconds; keep the event loop free.
        dsn = await asyncio.to_thread(resolve_dsn, settings)
        await migrate(dsn)
        await _rebuild_if_outdated(dsn)
        pool = await create_pool(dsn, statement_timeout_ms=settings.statement_timeout_ms)
        health_pool = await create_pool(dsn, min_size=1, max_size=2, statement_timeout_ms=2_000)
        figures_pool = await create_pool(dsn, min_size=1, max_size=1, statement_timeout_ms=2_000)
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
        reads = ReadPools(
            pool,
            settings.read_urls,
            lambda url: create_pool(url, statement_timeout_ms=settings.statement_timeout_ms),
            lambda: broadcaster.head,
            max_lag_seconds=settings.read_max_lag_seconds,
        )
        checking = asyncio.create_task(reads.run(stop), name="replicas")
        broadcaster.catch_up_pool = lambda upto: reads.choose(holding=upto)
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
                    importers={"acled": AcledImporter(pool, application)},
                    reads=reads,
                    figures_pool=figures_pool,
                )
            }
        finally:
            stop.set()
            await broadcasting
            await checking
            await reads.close()
            if projecting is not None:
                await asyncio.to_thread(projecting.stop)
            await asyncio.to_thread(application.close)
            await pool.close()
            await health_pool.close()
            await figures_pool.close()

    graphql = FrontlineGraphQL(
        schema,
        max_operations_per_socket=settings.max_operations_per_socket,
        request_timeout_seconds=settings.request_timeout_seconds,
        max_response_bytes=settings.max_response_bytes,
    )
    return create_app(settings, graphql, lifespan)


async def _rebuild_if_outdated(dsn: str) -> None:
    """Read models an upgrade made outdated are rebuilt before serving (a no-op when
    `frontline serve` did it already)."""
    conn = await asyncpg.connect(dsn)
    try:
        await rebuild_if_outdated(conn)
    finally:
        await conn.close()
