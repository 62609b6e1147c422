"""How many WebSockets each API key holds open in this process (FRONTLINE_MAX_SOCKETS_PER_KEY).

A leaked or shared key cannot pin down the server's connection ceiling by itself: past the
cap its next socket is refused at ``connection_init`` (4403). Anonymous sockets are bounded
by the server's connection ceiling (FRONTLINE_MAX_CONNECTIONS) instead: behind a proxy they
all share one address, so a per-address cap would lock out a newsroom's readers.
"""

from __future__ import annotations

from collections import Counter
from uuid import UUID


class SocketCount:
    """Open sockets per key id, with a cap; acquire on connection_init, release on close."""

    def __init__(self, per_key: int) -> None:
        self.per_key = per_key
        self._open: Counter[UUID] = Counter()

    def acquire(self, key_id: UUID) -> bool:
        if self._open[key_id] >= self.per_key:
            return False
        self._open[key_id] += 1
        return True

    def release(self, key_id: UUID) -> None:
        self._open[key_id] -= 1
        if self._open[key_id] <= 0:
            del self._open[key_id]

    def __len__(self) -> int:
        return sum(self._open.values())
