"""The projector: tails the log and keeps the read models exactly once.

Each batch is one transaction that applies the events *and* advances ``tracking``; a crash
anywhere rolls both back, so restarting resumes exactly where the last commit left off.
Only one projector works at a time: it holds a session advisory lock, and others wait as hot
standbys. It wakes on the store's NOTIFY and also polls, so a lost notification only delays.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import socket
from collections.abc import Callable
from typing import Any, Final

import asyncpg

from readmodel.apply import apply_batch
from readmodel.events import read_after
from readmodel.memory import Memory

logger = logging.getLogger(__name__)

LIVE_SCHEMA: Final = "rm"
LOG_CHANNEL: Final = "frontline_events"  # eventsourcing NOTIFYs this in every append
PROJECTED_CHANNEL: Final = "frontline_projected"  # we NOTIFY the new position after each batch
LOCK_KEY: Final = 0x46524F4E5450524A  # "FRONTPRJ"
PROJECTOR_PREFIX: Final = "frontline-projector"  # its connection's application_name
BATCH_SIZE: Final = 500
LIVE_MEMORY_INCIDENTS: Final = 20_000  # the serving projector's caches (see Projector)
LIVE_MEMORY_PLACES: Final = 10_000
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")

Progress = Callable[[int, int], None]  # (events applied in this batch, position reached)


def checked_schema(schema: str) -> str:
    """Schema names are interpolated into SQL, so only plain identifiers are allowed."""
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"not a plain schema name: {schema!r}")
    return schema


async def project_batch(
    conn: Any, schema: str = LIVE_SCHEMA, limit: int = BATCH_SIZE, memory: Memory | None = None
) -> int:
    """Apply the next batch of events to ``schema``; returns how many were applied.

    ``memory`` carries incidents and timelines from batch to batch; without one, everything
    the batch needs is loaded from the tables. It is cleared if the batch fails, because
    the rollback leaves the tables, not the memory, telling the truth.
    """
    schema = checked_schema(schema)
    memory = Memory() if memory is None else memory
    try:
        return await _project_batch(conn, schema, limit, memory)
    except BaseException:
        memory.clear()
        raise


async def _project_batch(conn: Any, schema: str, limit: int, memory: Memory) -> int:
    async with conn.transaction():
        # FOR UPDATE: even without the advisory lock, two projectors can't apply one batch twice.
        position = await conn.fetchval(f"SELECT position FROM {schema}.tracking FOR UPDATE")
        events = await read_after(conn, position, limit)
        if events:
            await apply_batch(conn, schema, events, position, memory)
            reached = events[-1].position
            await conn.execute(f"UPDATE {schema}.tracking SET position = $1", reached)
            if schema == LIVE_SCHEMA:
                await conn.execute("SELECT pg_notify($1, $2)", PROJECTED_CHANNEL, str(reached))
    return len(events)


async def catch_up(
    conn: Any,
    schema: str = LIVE_SCHEMA,
    *,
    limit: int = BATCH_SIZE,
    progress: Progress | None = None,
    memory: Memory | None = None,
) -> int:
    """Project until the log has nothing new; returns how many events were applied."""
    total = 0
    memory = Memory() if memory is None else memory
    while applied := await project_batch(conn, schema, limit, memory):
        total += applied
        if progress is not None:
            progress(applied, await projected_position(conn, schema))
    return total


async def projected_position(conn: Any, schema: str = LIVE_SCHEMA) -> int:
    schema = checked_schema(schema)
    return int(await conn.fetchval(f"SELECT position FROM {schema}.tracking"))


class Projector:
    """Keeps the live read models up to date until ``stop`` is set."""

    def __init__(self, dsn: str, *, poll_interval: float = 1.0, limit: int = BATCH_SIZE) -> None:
        self.dsn = dsn
        self.poll_interval = poll_interval
        self.limit = limit
        self.has_lock = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._run_connected(stop)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                # The database went away or a schema swap raced us: reconnect and resume
                # from the committed position. Nothing half-done survives a rollback.
                logger.warning("projector: %s; retrying", error)
                self.has_lock.clear()
            except Exception:
                # An event we cannot apply (a bug, or a foreign row in the log) must not take
                # the API process down: log it loudly and retry; projection stalls visibly.
                logger.exception("projector: failed to apply a batch; retrying")
                self.has_lock.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.poll_interval)

    async def _run_connected(self, stop: asyncio.Event) -> None:
        # Named, so /healthz and /metrics can tell which process holds the lock.
        name = f"{PROJECTOR_PREFIX} {socket.gethostname()[:32]}:{os.getpid()}"
        conn = await asyncpg.connect(self.dsn, server_settings={"application_name": name})
        wake = asyncio.Event()
        # Only trusted while this connection holds the lock. Smaller than a rebuild's: this
        # one lives as long as the server, and an incident costs ~6 KB of it (measured), while
        # corrections mostly touch recent incidents; older ones are read back from the tables.
        memory = Memory(max_incidents=LIVE_MEMORY_INCIDENTS, max_places=LIVE_MEMORY_PLACES)
        try:
            await self._acquire_lock(conn, stop)
            await conn.add_listener(LOG_CHANNEL, lambda *_: wake.set())
            while not stop.is_set():
                wake.clear()
                await catch_up(conn, limit=self.limit, memory=memory)
                waiters = {asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())}
                _, pending = await asyncio.wait(
                    waiters, timeout=self.poll_interval, return_when=asyncio.FIRST_COMPLETED
                )
                for task in pending:
                    task.cancel()
        finally:
            self.has_lock.clear()
            await conn.close()

    async def _acquire_lock(self, conn: Any, stop: asyncio.Event) -> None:
        while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY):
            # Another process is projecting; stand by and take over if it dies.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.poll_interval)
            if stop.is_set():
                return
        self.has_lock.set()
