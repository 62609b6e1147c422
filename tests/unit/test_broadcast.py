"""The subscription fan-out's policies, against an in-memory log (no database).

The broadcaster publishes into a bounded ring; each subscriber follows with its own cursor
and falls back to the "database" (here a list) when the ring has moved past it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from api.live.broadcast import Broadcaster, Feed
from api.live.ring import Ring
from readmodel.queries.live import END, Key


@dataclass(frozen=True)
class Row:
    position: int

    @property
    def key(self) -> Key:
        return (self.position, END)


@dataclass
class Log:
    """Stands for the read models: rows, the projected position, and a count of reads."""

    rows: list[Row] = field(default_factory=list)
    projected: int = 0
    reads: int = 0

    def write(self, *positions: int) -> None:
        self.rows += [Row(p) for p in positions]
        self.projected = max(positions)

    async def fetch(
        self, _conn: Any, after: Key, upto: int, limit: int, *, newest: bool = False
    ) -> list[Row]:
        self.reads += 1
        found = [r for r in self.rows if after < r.key <= (upto, END)]
        return found[-limit:] if newest else found[:limit]

    async def fetchval(self, _sql: str) -> int:
        return self.projected

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[Log]:
        yield self


def broadcaster(log: Log, capacity: int = 4, page: int = 2) -> tuple[Broadcaster, Feed[Row]]:
    b = Broadcaster("", log, capacity=capacity, page=page)
    feed: Feed[Row] = Feed(Ring(capacity, lambda r: r.key), log.fetch)
    b.incidents = feed  # type: ignore[assignment]
    b.control_changes = Feed(Ring(capacity, lambda r: r.key), Log().fetch)  # type: ignore[assignment]
    b.entries = Feed(Ring(capacity, lambda r: r.key), Log().fetch)  # type: ignore[assignment]
    return b, feed


async def positions(rows: AsyncIterator[Row], n: int) -> list[int]:
    return [(await asyncio.wait_for(anext(rows), 1.0)).position for _ in range(n)]


def test_the_ring_keeps_the_newest_rows_and_says_when_a_cursor_fell_out() -> None:
    ring: Ring[Row] = Ring(3, lambda r: r.key)
    ring.extend([Row(1), Row(2)], 2)
    assert ring.after((0, END), 10) == [Row(1), Row(2)]
    ring.extend([Row(3), Row(4), Row(5)], 5)
    assert len(ring) == 3
    assert ring.floor == (2, END)
    assert ring.after((1, END), 10) is None
    assert ring.after((2, END), 10) == [Row(3), Row(4), Row(5)]
    assert ring.after((3, END), 1) == [Row(4)]
    assert ring.after((9, END), 10) == []


def test_a_burst_bigger_than_the_ring_keeps_only_its_newest_rows() -> None:
    ring: Ring[Row] = Ring(2, lambda r: r.key, head=0)
    ring.extend([Row(9), Row(10)], 10, complete=False)
    assert ring.floor == (9, END)
    assert ring.after((8, END), 10) is None
    assert ring.after((9, END), 10) == [Row(10)]


async def test_catch_up_then_live_has_no_gap_and_no_duplicate_at_the_switch() -> None:
    log = Log()
    log.write(*range(1, 11))
    b, feed = broadcaster(log)
    await b.start()  # the ring starts empty at 10: rows 1..10 come from the "database"
    rows = b.follow(feed, (0, END), lambda _: True)
    first = await positions(rows, 3)
    log.write(11, 12, 13)
    await b.publish(log)
    assert first + await positions(rows, 10) == list(range(1, 14))
    log.write(14)
    await b.publish(log)
    assert await positions(rows, 1) == [14]
    await rows.aclose()  # type: ignore[attr-defined]
    assert b.subscribers == 0


async def test_a_subscriber_that_stops_reading_blocks_nobody_and_loses_nothing() -> None:
    log = Log()
    b, feed = broadcaster(log, capacity=4, page=2)
    await b.start()
    slow = b.follow(feed, None, lambda _: True)
    fast = b.follow(feed, None, lambda _: True)
    slow_first = asyncio.ensure_future(anext(slow))
    fast_next = asyncio.ensure_future(anext(fast))
    await asyncio.sleep(0)
    log.write(1)
    await b.publish(log)
    assert (await slow_first).position == 1  # ... and then slow never reads again
    assert (await fast_next).position == 1
    for position in range(2, 21):
        log.write(position)
        await b.publish(log)
        assert await positions(fast, 1) == [position]
        assert len(feed.ring) <= 4
    reads = log.reads
    assert await positions(slow, 19) == list(range(2, 21))
    assert log.reads > reads, "the slow one fell out of the ring and read the database"


async def test_a_filter_skips_rows_but_the_cursor_still_moves_past_them() -> None:
    log = Log()
    b, feed = broadcaster(log, capacity=2, page=2)
    await b.start()
    even = b.follow(feed, None, lambda r: r.position % 2 == 0)
    waiting = asyncio.ensure_future(anext(even))
    await asyncio.sleep(0)
    for position in range(1, 10):
        log.write(position)
        await b.publish(log)
    assert (await waiting).position == 2
    assert await positions(even, 3) == [4, 6, 8]


@pytest.mark.parametrize("capacity", [1, 3, 50])
async def test_every_ring_size_delivers_the_same_rows(capacity: int) -> None:
    log = Log()
    log.write(*range(1, 8))
    b, feed = broadcaster(log, capacity=capacity, page=3)
    await b.start()
    rows = b.follow(feed, (2, END), lambda _: True)
    got = await positions(rows, 5)
    for burst in ((8, 9, 10, 11), (12,), (13, 14)):
        log.write(*burst)
        await b.publish(log)
    assert got + await positions(rows, 7) == list(range(3, 15))


async def test_a_publish_that_fails_half_way_resumes_without_duplicates() -> None:
    log, changes = Log(), Log()
    b, feed = broadcaster(log)
    failing = True

    async def flaky(*args: Any, **kwargs: Any) -> list[Row]:
        if failing:
            raise OSError("connection lost")
        return await changes.fetch(*args, **kwargs)

    b.control_changes = Feed(Ring(4, lambda r: r.key), flaky)  # type: ignore[assignment]
    await b.start()
    rows = b.follow(feed, None, lambda _: True)
    waiting = asyncio.ensure_future(anext(rows))
    await asyncio.sleep(0)
    log.write(1, 2)
    with pytest.raises(OSError, match="connection lost"):
        await b.publish(log)
    failing = False
    await b.publish(log)
    assert [(await waiting).position, *await positions(rows, 1)] == [1, 2]
    log.write(3)
    await b.publish(log)
    assert await positions(rows, 1) == [3]
