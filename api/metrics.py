"""What one API process reports about itself and its database: ``GET /metrics`` in
Prometheus' text format (prometheus-client), and the liveness and readiness probes.

- ``/livez``: the process answers (its event loop runs). It reads nothing: a database outage
  must not make an orchestrator restart every API process at once.
- ``/readyz``: this process can serve — PostgreSQL answers within two seconds, and the oldest
  event not yet in the read models is at most ``FRONTLINE_READY_MAX_LAG_SECONDS`` old (so a
  stuck projector takes the processes out of a load balancer's rotation, while an import's
  backlog of fresh events does not).
- ``/metrics``: GraphQL requests over HTTP by operation type and name (a latency histogram),
  errors by code, cost-limit refusals, events this process appended, its sockets and
  subscriptions and its pool; and the database's figures every process sees alike: the log
  position, the projected position, the projection's lag in positions and in seconds, and
  which process holds the projector's lock.

Bounds (a scrape is a way in like any other):
- Label values that clients choose (operation names, and error codes for good measure) are
  kept only if they are names of at most 64 characters, and only the first
  ``MAX_LABEL_VALUES`` distinct ones; anything else counts as ``(other)``. So the registry,
  and each scrape's size, stay bounded whatever names a client sends.
- The database's figures are read at most once a second per process, one read at a time, on
  a connection of their own (so a flood of /healthz cannot time /readyz out), with a
  two-second timeout; a scrape's text is made at most once a second too.

Each process has its own registry: under ``serve --workers N`` a scrape is answered by the
worker it lands on (``frontline_process_info`` names it); the database's figures are the
same from any of them.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import time
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Final

import asyncpg
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from api.middleware import DEADLINE_PASSED
from readmodel.connections import DATABASE_DOWN
from readmodel.events import HEAD
from readmodel.projector import LOCK_KEY

MAX_LABEL_VALUES: Final = 64
NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
OTHER: Final = "(other)"
UNAVAILABLE: Final = "UNAVAILABLE"
SNAPSHOT_SECONDS: Final = 1.0
READ_SECONDS: Final = 2.0  # the most a scrape waits for the database
CONTENT_TYPE: Final = CONTENT_TYPE_LATEST
# Seconds; a small query takes ~1 ms here, the request deadline is 10 s.
BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# The projector's session advisory lock (readmodel.projector): a bigint key shows in pg_locks
# as its high and low 32 bits, with objsubid 1, in this database (advisory locks are each
# database's own: another database's projector on the same server holds one too).
DATABASE_SQL: Final = f"""
SELECT ({HEAD}) AS position,
       t.position AS projected,
       (SELECT extract(epoch FROM clock_timestamp() - e.recorded_at)
          FROM public.frontline_events AS e
         WHERE e.notification_id = t.position + 1) AS lag_seconds,
       (SELECT a.application_name
          FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid
         LIMIT 1) AS leader
  FROM rm.tracking AS t
"""  # noqa: S608 - HEAD is our own constant
LOCK_PARTS: Final = (LOCK_KEY >> 32, LOCK_KEY & 0xFFFFFFFF)
_UNANSWERED: tuple[type[Exception], ...] = (*DATABASE_DOWN, asyncpg.PostgresError)


@dataclass
class RequestOperation:
    """What the request being answered runs, once GraphQL knows (api.graphql.prepared), the
    replica it reads from (api.replicas; None: the primary) and its errors' codes."""

    type: str = "none"  # nothing executed: a malformed or invalid request
    name: str = ""
    replica: Any = None
    codes: list[str] = field(default_factory=list)


CURRENT: ContextVar[RequestOperation | None] = ContextVar("frontline_operation", default=None)


def note_operation(kind: str, name: str | None) -> None:
    """Record the operation this request executes (a no-op outside a timed request)."""
    found = CURRENT.get()
    if found is not None:
        found.type, found.name = kind, name or ""


def note_replica(pool: Any) -> None:
    """Record the replica's pool the request reads from (None: the primary from now on)."""
    found = CURRENT.get()
    if found is not None:
        found.replica = pool


def note_codes(errors: Any) -> None:
    found = CURRENT.get()
    if found is not None:
        found.codes += [str((e.get("extensions") or {}).get("code")) for e in errors or ()]


def cancelled_code(scope: Mapping[str, Any]) -> str:
    """Why a request was stopped: its deadline (TIMEOUT) or its client hung up."""
    return "TIMEOUT" if scope.get(DEADLINE_PASSED) else "CLIENT_GONE"


@dataclass(frozen=True)
class DatabaseFigures:
    position: int
    projected: int
    lag_seconds: float
    leader: str | None

    @property
    def lag(self) -> int:
        return max(0, self.position - self.projected)


async def database_figures(conn: Any) -> DatabaseFigures:
    row = await conn.fetchrow(DATABASE_SQL, *LOCK_PARTS)
    lag_seconds = float(row["lag_seconds"]) if row["lag_seconds"] is not None else 0.0
    return DatabaseFigures(
        int(row["position"]), int(row["projected"]), max(0.0, lag_seconds), row["leader"]
    )


class Capped:
    """Label values as given — if they are names (``NAME``: a GraphQL name or an error code of
    at most 64 characters) — until ``limit`` distinct ones were seen; anything else
    ``(other)``. So a label costs at most 64 bytes, and a scrape stays small whatever names a
    client sends (a single-token name may otherwise be as long as a request body)."""

    def __init__(self, limit: int = MAX_LABEL_VALUES) -> None:
        self.limit = limit
        self.seen: set[str] = set()

    def __call__(self, value: str) -> str:
        if value in self.seen:
            return value
        if len(self.seen) >= self.limit or not (value == "" or NAME.fullmatch(value)):
            return OTHER
        self.seen.add(value)
        return value


class Metrics:
    """One process's metrics, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self._names, self._codes = Capped(), Capped()
        self.requests = Histogram(
            "frontline_graphql_request_seconds",
            "GraphQL requests over HTTP answered by this process, by operation type and name.",
            ["type", "operation"], buckets=BUCKETS, registry=registry,
        )  # fmt: skip
        self.errors = Counter(
            "frontline_graphql_errors",
            "Errors in GraphQL answers over HTTP, by extensions.code.",
            ["code"], registry=registry,
        )  # fmt: skip
        self.cost_refusals = Counter(
            "frontline_cost_refusals",
            "Requests refused unexecuted for their estimated cost (QUERY_TOO_COSTLY).",
            registry=registry,
        )
        self.appended = Counter(
            "frontline_events_appended",
            "Events this process appended to the log (GraphQL writes).",
            registry=registry,
        )
        self.replica_usable = Gauge(
            "frontline_read_replica_usable",
            "1 while queries may read from this streaming replica (FRONTLINE_READ_URL).",
            ["replica"], registry=registry,
        )  # fmt: skip
        self.sockets = Gauge(
            "frontline_websockets_open", "WebSockets open on this process.", registry=registry
        )
        self._gauges = {
            name: Gauge(name, text, registry=registry)
            for name, text in (
                ("frontline_subscriptions", "Live subscriptions on this process."),
                ("frontline_shared_streams", "Shared live streams (api.live.fanout)."),
                ("frontline_shared_members", "Subscriptions served by a shared stream."),
                ("frontline_db_pool_connections", "Connections of this process's pool."),
                ("frontline_db_pool_idle", "Idle connections of this process's pool."),
                ("frontline_db_pool_max", "The most connections this process's pool opens."),
                ("frontline_log_position", "The log's last position (events appended, all)."),
                ("frontline_projected_position", "The last position in the read models."),
                ("frontline_projection_lag_positions", "Events not yet in the read models."),
                ("frontline_projection_lag_seconds", "Age of the oldest unprojected event."),
                ("frontline_projector_leader_present", "1 while a projector holds the lock."),
                ("frontline_database_up", "1 if the last read of the database answered."),
            )
        }
        self.leader = Info(
            "frontline_projector_leader", "The process holding the projector's lock.",
            registry=registry,
        )  # fmt: skip
        Info("frontline_process", "The process that answered.", registry=registry).info(
            {"pid": str(os.getpid()), "host": socket.gethostname()}
        )
        self._snapshot: tuple[float, DatabaseFigures | None] = (float("-inf"), None)
        self._reading = asyncio.Lock()
        self._rendered: tuple[float, bytes] = (float("-inf"), b"")
        self._rendering = asyncio.Lock()

    # -- recorded as requests are answered ------------------------------------------------------

    def observe(self, operation: RequestOperation, seconds: float) -> None:
        """A request's time, by what it ran; a subscription over HTTP (an event stream)
        is left out: its time is how long its client followed it."""
        if operation.type != "subscription":
            self.requests.labels(operation.type, self._names(operation.name)).observe(seconds)

    def count_errors(self, errors: list[dict[str, Any]] | None) -> None:
        for error in errors or ():
            code = str((error.get("extensions") or {}).get("code") or "UNKNOWN")
            self.errors.labels(self._codes(code)).inc()
            if code == "QUERY_TOO_COSTLY":
                self.cost_refusals.inc()

    # -- read when scraped ----------------------------------------------------------------------

    async def figures(self, pool: Any) -> DatabaseFigures | None:
        """The database's figures, read at most once a second (None: it did not answer)."""
        async with self._reading:
            taken, figures = self._snapshot
            if time.monotonic() - taken < SNAPSHOT_SECONDS:
                return figures
            try:
                async with asyncio.timeout(READ_SECONDS), pool.acquire() as conn:
                    figures = await database_figures(conn)
            except _UNANSWERED:
                figures = None  # frontline_database_up says so; the other figures stay
            self._snapshot = (time.monotonic(), figures)
            return figures

    async def render(self, resources: Any) -> bytes:
        """The scrape's text, made at most once a second (other scrapes get the last one)."""
        async with self._rendering:
            made, text = self._rendered
            if time.monotonic() - made >= SNAPSHOT_SECONDS:
                text = await self._render(resources)
                self._rendered = (time.monotonic(), text)
            return text

    async def _render(self, resources: Any) -> bytes:
        gauges = self._gauges
        gauges["frontline_subscriptions"].set(resources.broadcaster.subscribers)
        stats = resources.fanout.stats()
        gauges["frontline_shared_streams"].set(stats["sharedStreams"])
        gauges["frontline_shared_members"].set(stats["sharedMembers"])
        pool = resources.pool
        gauges["frontline_db_pool_connections"].set(pool.get_size())
        gauges["frontline_db_pool_idle"].set(pool.get_idle_size())
        gauges["frontline_db_pool_max"].set(pool.get_max_size())
        for replica in [] if resources.reads is None else resources.reads.stats():
            self.replica_usable.labels(str(replica["replica"])).set(bool(replica["usable"]))
        figures = await self.figures(resources.figures_pool)
        gauges["frontline_database_up"].set(figures is not None)
        if figures is not None:
            gauges["frontline_log_position"].set(figures.position)
            gauges["frontline_projected_position"].set(figures.projected)
            gauges["frontline_projection_lag_positions"].set(figures.lag)
            gauges["frontline_projection_lag_seconds"].set(figures.lag_seconds)
            gauges["frontline_projector_leader_present"].set(figures.leader is not None)
            self.leader.info({"name": figures.leader or ""})
        return generate_latest(self.registry)
