"""The GraphQL schema executed in this process (``schema.execute``) over a real database: for
tests of what the resolvers answer, where the wire is not the point (tests/e2e has the wire).

Each request gets the context a served request gets (pool, application, the caller's key,
DataLoaders), and the real projector (``readmodel.projector.Projector``) runs beside it, as
`serve`'s projector process does, so a mutation's payload waits for its own write as it
would. Answers are encoded and decoded as JSON: tests compare what a client would read.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import asyncpg

from api.auth import Role, authenticate, create_key
from api.graphql import ids
from api.graphql.context import Context
from api.graphql.encoding import encode
from api.graphql.schema import schema
from domain.application import Frontline
from frontline.database import create_pool, eventsourcing_env
from frontline.sample import load_sample
from readmodel.projector import Projector, projected_position
from tests.support.databases import temporary_database

T = TypeVar("T")


class InProcess:
    """A database behind the schema, asked like a server (``writer_key`` and friends); sync,
    so it suits the same tests as an HTTP client. ``close`` when done."""

    def __init__(self, dsn: str, *, reader_key: str, writer_key: str, admin_key: str) -> None:
        self.dsn = dsn
        self.reader_key, self.writer_key, self.admin_key = reader_key, writer_key, admin_key
        # asyncpg pools belong to one event loop: this client's runs in its own thread.
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.application = Frontline(env=eventsourcing_env(dsn, pool_size=2))
        self._pool: Any = self._run(create_pool(dsn, max_size=4))
        self._stop = self._run(_event())
        self._projecting = asyncio.run_coroutine_threadsafe(
            Projector(dsn, poll_interval=0.2).run(self._stop), self._loop
        )

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=60)

    def ask(self, query: str, key: str | None = None, **variables: Any) -> dict[str, Any]:
        """The response body a client would get: ``data`` and, if any, ``errors``."""
        body: dict[str, Any] = json.loads(self._run(self._execute(query, key, variables)))
        return body

    def wait_projected(self, seconds: float = 30) -> None:
        """Until the read models have caught up with the log's head."""

        async def wait() -> None:
            head = await self._head()
            for _ in range(int(seconds / 0.05)):
                if await self._projected() >= head:
                    return
                await asyncio.sleep(0.05)
            msg = f"the read models did not reach position {head} in {seconds} s"
            raise TimeoutError(msg)

        self._run(wait())

    def head(self) -> int:
        """The log's head position."""
        return self._run(self._head())

    async def _head(self) -> int:
        async with self._pool.acquire() as conn:
            position: int = await conn.fetchval(
                "SELECT coalesce(max(notification_id), 0) FROM public.frontline_events"
            )
            return position

    async def _projected(self) -> int:
        async with self._pool.acquire() as conn:
            return await projected_position(conn)

    async def _execute(self, query: str, key: str | None, variables: dict[str, Any]) -> str:
        async with self._pool.acquire() as conn:
            principal = await authenticate(conn, key)

        ids.noting()  # as the view does: errors name the references sent
        context = Context(
            pool=self._pool,
            application=self.application,
            principal=principal,
            open_reads=True,
            projected=self._projected,
        )
        result = await schema.execute(query, variable_values=variables, context_value=context)
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [error.formatted for error in result.errors]
        return encode(body)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._projecting.result(timeout=30)
        self._run(self._pool.close())
        self.application.close()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


@contextmanager
def sample_in_process(postgres_dsn: str) -> Iterator[InProcess]:
    """A fresh database holding the bundled sample (as `serve` loads it), with a reader, a
    writer and an admin key, asked in this process; dropped afterwards."""
    with temporary_database(postgres_dsn, prefix="api", migrated=True) as dsn:
        client: InProcess | None = None
        try:
            client = InProcess(dsn, **_keys_for(dsn))
            load_sample(client.application)
            client.wait_projected()
            yield client
        finally:
            if client is not None:
                client.close()


def _keys_for(dsn: str) -> dict[str, str]:
    async def create() -> dict[str, str]:
        conn = await asyncpg.connect(dsn)
        try:
            return {
                f"{role.name.lower()}_key": await create_key(
                    conn, f"test {role.name.lower()}", role
                )
                for role in Role
            }
        finally:
            await conn.close()

    return asyncio.run(create())


async def _event() -> asyncio.Event:
    return asyncio.Event()  # made in the client's loop, where it is awaited


async def read(pool: Any, query: str, **variables: Any) -> Any:
    """Ask the schema a query with a read-only context on ``pool`` (no application, no key,
    open reads): what a test of already projected read models needs. Errors fail the test."""
    context = Context(
        pool=pool,
        application=None,  # type: ignore[arg-type]  # queries never write
        principal=None,
        open_reads=True,
        projected=lambda: asyncio.sleep(0, 0),
    )
    result = await schema.execute(query, variable_values=variables, context_value=context)
    assert result.errors is None, result.errors
    return result.data
