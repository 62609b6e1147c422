"""Reads from PostgreSQL streaming replicas (``FRONTLINE_READ_URL``), with the primary as the
fallback.

Policies:

- **What goes where.** A GraphQL query over HTTP reads from a usable replica (in turn), else
  from the primary; so does a subscriber's catch-up (the pages it reads from the database
  when it resumes from an old cursor or falls behind the ring), from a replica that has
  replayed what it asks for. Writes and a mutation's answer, the queries of WebSocket and
  event-stream operations, the live rows a subscription is woken with, LISTEN, the projector
  and API keys stay on the primary: a subscriber is woken when the primary's projection
  moves, which a replica may not have replayed yet.
- **Usable** means: its pool opened, its last check answered (every ``CHECK_SECONDS``, each
  within ``CHECK_TIMEOUT``), and it has not been behind the primary's projected position for
  longer than ``FRONTLINE_READ_MAX_LAG_SECONDS``. A replica that stops answering or lags is
  bypassed from the next check on, and taken back once it answers and catches up; none of
  that is ever fatal. (A query already running on a replica as it dies answers
  ``UNAVAILABLE``, like one on a primary that dies.)
- **Read your writes.** ``fresh(position:)`` and ``knownAtPosition`` on a replica wait, within
  their bounds, until that replica has replayed the projector's tracking position, then
  answer ``STALE`` (api.graphql.query).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

import asyncpg

from readmodel.connections import DATABASE_DOWN

logger = logging.getLogger(__name__)

CHECK_SECONDS: Final = 0.5
CHECK_TIMEOUT: Final = 1.0
TRACKING_SQL: Final = "SELECT position FROM rm.tracking"
_FAILED: tuple[type[Exception], ...] = (*DATABASE_DOWN, asyncpg.PostgresError)


def replica_name(dsn: str) -> str:
    """A replica as /healthz and /metrics name it: host and port (or socket), no password."""
    parts = urlsplit(dsn)
    host = parts.hostname or parse_qs(parts.query).get("host", ["local"])[0]
    port = parts.port or parse_qs(parts.query).get("port", ["5432"])[0]
    return f"{host}:{port}"


@dataclass(eq=False)
class Replica:
    dsn: str
    name: str
    pool: Any = None
    up: bool = False
    position: int | None = None  # its rm.tracking at the last check
    # The primary's projected position it has yet to reach, and since when: its lag in time.
    # Re-armed each time it is reached, so a replica a few positions behind under a steady
    # stream of writes (always behind by the last moment's) counts as lagging by that moment,
    # not since the writes began.
    target: int | None = None
    target_since: float = 0.0
    reads: int = 0  # times a request or a catch-up page was sent to it

    def usable(self, now: float, max_lag_seconds: float) -> bool:
        if not self.up or self.pool is None:
            return False
        return self.target is None or now - self.target_since <= max_lag_seconds

    def saw(self, position: int, primary: int, now: float) -> None:
        """A check found it at ``position`` while the primary's projection was at
        ``primary``."""
        self.up, self.position = True, position
        if self.target is not None and position >= self.target:
            self.target = None  # reached what it lagged behind
        if self.target is None and position < primary:
            self.target, self.target_since = primary, now


class ReadPools:
    """The primary's pool and the replicas', and which one a query reads from."""

    def __init__(
        self,
        primary: Any,
        dsns: Sequence[str],
        open_pool: Callable[[str], Awaitable[Any]],
        primary_position: Callable[[], int],
        *,
        max_lag_seconds: float,
    ) -> None:
        self.primary = primary
        self.replicas = [Replica(dsn, replica_name(dsn)) for dsn in dsns]
        self._open_pool = open_pool
        self._primary_position = primary_position
        self.max_lag_seconds = max_lag_seconds
        self._turn = 0

    def choose(self, holding: int = 0) -> Any:
        """The pool a query reads from: the next usable replica's (that has replayed
        position ``holding``, at its last check), else the primary's."""
        now = time.monotonic()
        usable = [
            r
            for r in self.replicas
            if r.usable(now, self.max_lag_seconds) and (r.position or 0) >= holding
        ]
        if not usable:
            return self.primary
        self._turn = (self._turn + 1) % len(usable)
        chosen = usable[self._turn]
        chosen.reads += 1
        return chosen.pool

    def is_replica(self, pool: Any) -> bool:
        return pool is not self.primary

    def bypass(self, pool: Any) -> None:
        """A request found the replica of ``pool`` gone: skip it until a check finds it back."""
        for replica in self.replicas:
            if replica.pool is pool and replica.up:
                logger.warning("replica %s bypassed: a query found it gone", replica.name)
                replica.up = False

    def stats(self) -> list[dict[str, object]]:
        now = time.monotonic()
        return [
            {
                "replica": r.name,
                "usable": r.usable(now, self.max_lag_seconds),
                "position": r.position,
                "reads": r.reads,
            }
            for r in self.replicas
        ]

    async def run(self, stop: asyncio.Event) -> None:
        """Check every replica every ``CHECK_SECONDS`` until ``stop`` is set."""
        if not self.replicas:
            return
        while not stop.is_set():
            await asyncio.gather(*(self._check(r) for r in self.replicas))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), CHECK_SECONDS)

    async def _check(self, replica: Replica) -> None:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                if replica.pool is None:
                    replica.pool = await self._open_pool(replica.dsn)
                position = int(await replica.pool.fetchval(TRACKING_SQL))
        except _FAILED as error:
            if replica.up or replica.position is None:
                logger.warning("replica %s bypassed: %s", replica.name, error or type(error))
            replica.up, replica.position = False, replica.position or 0
            return
        except Exception:  # e.g. a malformed URL: never fatal, never silent
            logger.exception("replica %s bypassed: its check failed", replica.name)
            replica.up, replica.position = False, replica.position or 0
            return
        if not replica.up:
            logger.info("replica %s answers", replica.name)
        replica.saw(position, self._primary_position(), time.monotonic())

    async def close(self) -> None:
        for replica in self.replicas:
            if replica.pool is None:
                continue
            try:
                await asyncio.wait_for(replica.pool.close(), CHECK_TIMEOUT * 5)
            except _FAILED:  # a replica that went away mid-close
                replica.pool.terminate()
