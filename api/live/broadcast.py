"""Fan-out of projected rows to every subscription of this process.

Policies (what keeps subscriptions exact, bounded and stall-free):

- **One LISTEN connection per process.** The projector NOTIFYs ``frontline_projected`` after
  each committed batch; every API process listens, so a client gets live rows whichever
  process it lands on. The broadcaster also polls the projected position every
  ``poll_interval`` seconds, so a lost notification only delays, and reconnects (with the
  same head) when PostgreSQL restarts.
- **Fetch once, share.** On each new projected position the broadcaster reads the new rows
  once, into one bounded ``Ring`` per feed, and sets each subscriber's wake-up flag (an
  ``asyncio.Event``: a queue of size one that never grows). It never awaits a subscriber.
- **Each subscriber keeps its own cursor.** Woken, it reads the rows after its cursor from
  the ring; if the ring has moved past it (it was slow, or it resumes from an old cursor),
  it reads that stretch from the database, a page at a time (from a streaming replica that
  has replayed it, if there is one: ``catch_up_pool``), then joins the ring again. So
  a slow subscriber costs a few database pages, never memory or other subscribers' time,
  and misses nothing: the ring and the database hold the same rows in the same order.
- **Exact resumption.** Rows up to the projected position are committed and never change
  membership, so ``(cursor, head]`` read from anywhere is the same set: no gaps, no dups.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, Generic, Protocol, TypeVar

import asyncpg

from api.live.ring import Ring
from readmodel.connections import DATABASE_DOWN
from readmodel.projector import PROJECTED_CHANNEL, projected_position
from readmodel.queries.entries import EntryRow, log_entries
from readmodel.queries.live import END, ControlChangeRow, Key, NewIncident, control_changes
from readmodel.queries.live import new_incidents as fetch_new_incidents

logger = logging.getLogger(__name__)

RING_CAPACITY: Final = 1024
PAGE: Final = 32  # rows a subscriber holds at most between two reads
POLL_SECONDS: Final = 1.5
APPLICATION_NAME: Final = "frontline-broadcaster"  # how its connection shows in pg_stat_activity


class Keyed(Protocol):
    @property
    def key(self) -> Key: ...


T = TypeVar("T", bound=Keyed)
Fetch = Callable[..., Awaitable[list[T]]]  # (conn, after, upto, limit, *, newest) -> rows


@dataclass(frozen=True)
class Feed(Generic[T]):
    """One followable stream: its ring and how to read it from the database."""

    ring: Ring[T]
    fetch: Fetch[T]


class Broadcaster:
    """Follows the projected position of one database and serves subscribers from it."""

    def __init__(
        self,
        dsn: str,
        pool: Any,
        *,
        capacity: int = RING_CAPACITY,
        page: int = PAGE,
        poll_interval: float = POLL_SECONDS,
    ) -> None:
        self.dsn = dsn
        self.pool = pool
        self.page = page
        self.poll_interval = poll_interval
        self.head = 0
        self.incidents: Feed[NewIncident] = Feed(
            Ring(capacity, lambda r: r.key), fetch_new_incidents
        )
        self.control_changes: Feed[ControlChangeRow] = Feed(
            Ring(capacity, lambda r: r.key), control_changes
        )
        self.entries: Feed[EntryRow] = Feed(Ring(capacity, lambda r: r.key), log_entries)
        self._subscribers: set[asyncio.Event] = set()
        # Where a subscriber behind the ring reads its pages of rows up to a position: a
        # streaming replica that has replayed it (api.replicas), else this pool.
        self.catch_up_pool: Callable[[int], Any] = lambda _upto: self.pool
        # Set (and replaced) each time the projected position moves: what `fresh` waits on.
        self._advanced = asyncio.Event()

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    @property
    def _feeds(self) -> tuple[Feed[Any], ...]:
        return (self.incidents, self.control_changes, self.entries)

    async def start(self) -> None:
        """Take the current projected position as the head: "live" starts here."""
        async with self.pool.acquire() as conn:
            self._reset(await projected_position(conn))

    def _reset(self, head: int) -> None:
        self.head = head
        for feed in self._feeds:
            feed.ring.reset(head)

    async def run(self, stop: asyncio.Event) -> None:
        """LISTEN and publish until ``stop`` is set, reconnecting whenever the link drops."""
        while not stop.is_set():
            try:
                await self._run_connected(stop)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                logger.warning("broadcaster: %s; reconnecting", error)
            except Exception:
                logger.exception("broadcaster: failed to publish; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.poll_interval)

    async def _run_connected(self, stop: asyncio.Event) -> None:
        conn = await asyncpg.connect(
            self.dsn, server_settings={"application_name": APPLICATION_NAME}
        )
        wake = asyncio.Event()
        try:
            await conn.add_listener(PROJECTED_CHANNEL, lambda *_: wake.set())
            # A dropped connection wakes us at once, so the next query fails and we reconnect.
            conn.add_termination_listener(lambda _: wake.set())
            while not stop.is_set():
                wake.clear()
                await self.publish(conn)
                waiters = {asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())}
                _, pending = await asyncio.wait(
                    waiters, timeout=self.poll_interval, return_when=asyncio.FIRST_COMPLETED
                )
                for task in pending:
                    task.cancel()
        finally:
            await _close(conn)

    async def publish(self, conn: Any) -> None:
        """Read what was projected since ``head`` into the rings and wake every subscriber."""
        head = await projected_position(conn)
        if head < self.head:
            # The read models were rebuilt behind us or the database replaced: start over.
            logger.warning("broadcaster: projected position went back to %d", head)
            self._reset(head)
            return
        for feed in self._feeds:
            ring = feed.ring
            # Each ring from its own head: a publish that failed half-way resumes exactly.
            if ring.head < head:
                rows = await feed.fetch(conn, (ring.head, END), head, ring.capacity, newest=True)
                ring.extend(rows, head, complete=len(rows) < ring.capacity)
        if head == self.head:
            return
        self.head = head
        for subscriber in self._subscribers:
            subscriber.set()
        self._advanced.set()
        self._advanced = asyncio.Event()

    async def advanced(self, seconds: float) -> None:
        """Return when the projected position next moves, or after ``seconds``."""
        event = self._advanced
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)

    async def follow(
        self, feed: Feed[T], after: Key | None, match: Callable[[T], bool]
    ) -> AsyncIterator[T]:
        """The rows after ``after`` (None: from now on) that ``match``, in log order, forever:
        first the missed ones, then live ones."""
        wake = asyncio.Event()
        self._subscribers.add(wake)
        cursor = (self.head, END) if after is None else after
        try:
            while True:
                wake.clear()
                rows, reached = await self._next_rows(feed, cursor)
                for row in rows:
                    cursor = row.key
                    if match(row):
                        yield row
                cursor = max(cursor, reached)
                if cursor >= (feed.ring.head, END):
                    await wake.wait()
        finally:
            self._subscribers.discard(wake)

    async def _next_rows(self, feed: Feed[T], cursor: Key) -> tuple[list[T], Key]:
        """The next page after ``cursor``, and the key up to which it is complete."""
        ring = feed.ring
        upto = ring.head
        rows = ring.after(cursor, self.page)
        if rows is None:
            pool = self.catch_up_pool(upto)
            try:
                async with pool.acquire() as conn:
                    rows = await feed.fetch(conn, cursor, upto, self.page)
            except DATABASE_DOWN:
                if pool is self.pool:
                    raise
                # A replica that went away since its last check: this page from the primary.
                async with self.pool.acquire() as conn:
                    rows = await feed.fetch(conn, cursor, upto, self.page)
        return rows, ((upto, END) if len(rows) < self.page else cursor)


async def _close(conn: Any) -> None:
    try:
        await asyncio.wait_for(conn.close(), timeout=2)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        conn.terminate()
