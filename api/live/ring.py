"""A bounded, in-memory window on the newest rows of one subscription feed.

Rows are kept in key order (see ``readmodel.queries.live``). The ring's one invariant:

    it holds *every* row whose key lies in ``(floor, (head, END)]``.

Adding rows past the capacity drops the oldest and raises ``floor`` to the last dropped key,
so memory stays bounded whatever the write rate. A reader asking for rows after a key below
``floor`` gets None: the ring can no longer vouch for what came next, and the reader must
read that stretch from the database instead. Nothing here awaits, so nothing can stall.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Sequence
from itertools import islice
from typing import Generic, TypeVar

from readmodel.queries.live import END, Key

T = TypeVar("T")


class Ring(Generic[T]):
    """The newest ``capacity`` rows of a feed up to log position ``head``."""

    def __init__(self, capacity: int, key: Callable[[T], Key], head: int = 0) -> None:
        if capacity < 1:
            raise ValueError("a ring holds at least one row")
        self.capacity = capacity
        self.head = head
        self.floor: Key = (head, END)
        self._key = key
        self._rows: deque[T] = deque()

    def __len__(self) -> int:
        return len(self._rows)

    def reset(self, head: int) -> None:
        """Forget every row: the ring starts empty at ``head``."""
        self._rows.clear()
        self.head = head
        self.floor = (head, END)

    def extend(self, rows: Sequence[T], head: int, *, complete: bool = True) -> None:
        """Add the rows of ``((self.head, END), (head, END)]``, in key order.

        ``complete`` False: ``rows`` are only the newest of that stretch (a burst bigger than
        the ring), so everything before the first of them is forgotten.
        """
        if head < self.head:
            return
        if not complete:
            self._rows.clear()
            self.floor = self._key(rows[0]) if rows else (head, END)
        newest = self._key(self._rows[-1]) if self._rows else self.floor
        # Keys only grow: a row already held (a retried read) is never added twice.
        self._rows.extend(row for row in rows if self._key(row) > newest)
        self.head = head
        while len(self._rows) > self.capacity:
            self.floor = self._key(self._rows.popleft())

    def after(self, key: Key, limit: int) -> list[T] | None:
        """Up to ``limit`` rows after ``key``, in order; None if ``key`` fell out of the ring."""
        if key < self.floor:
            return None
        start = bisect_right(self._rows, key, key=self._key)
        return list(islice(self._rows, start, start + limit))
