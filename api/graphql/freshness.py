"""Waiting until the read models a request reads from hold a log position: ``fresh`` asks it
outright, and ``knownAtPosition`` needs it on a streaming replica (api.replicas), whose
replay may trail the primary's projection by a moment."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Final

from api.graphql.context import Info
from api.graphql.errors import ApiError
from api.graphql.types.common import known
from readmodel.queries.sql import Known

# Half the default request deadline (api.bounds.REQUEST_TIMEOUT_SECONDS): a position that is
# not reached gets its typed STALE answer, not the deadline's 503 (at 10 s the two raced, and
# a fuzzed `fresh(timeoutMs: 10000)` got the 503).
MAX_WAIT_MS: Final = 5_000
# The wait re-checks at least this often even if no notification comes (a missed NOTIFY),
# and polls this often where no broadcaster wakes it: without one (tests of the schema
# alone), and on a replica, which the primary's notifications do not follow.
FRESH_RECHECK_SECONDS: Final = 0.5
FRESH_POLL_SECONDS: Final = 0.05


async def reach(info: Info, position: int, timeout_ms: int = MAX_WAIT_MS) -> None:
    """Return once the request's read models hold ``position``; STALE after ``timeout_ms``
    (at most MAX_WAIT_MS). Woken by this process's broadcaster when the projected position
    moves (its LISTEN connection), and checked then: a waiting request costs no query until
    it may be answered (polling every 10 ms once cost 100 queries a second per waiter)."""
    deadline = time.monotonic() + min(max(timeout_ms, 0), MAX_WAIT_MS) / 1000
    broadcaster = None if info.context.on_replica else info.context.broadcaster
    while (reached := await info.context.projected()) < position:
        left = deadline - time.monotonic()
        if left <= 0:
            raise ApiError(
                "STALE",
                f"read models are at position {reached}, not yet {position}; retry",
                field="position",
            )
        if broadcaster is not None:
            await broadcaster.advanced(min(left, FRESH_RECHECK_SECONDS))
        else:
            await asyncio.sleep(min(left, FRESH_POLL_SECONDS))


async def known_read(info: Info, known_at: datetime | None, known_at_position: int | None) -> Known:
    """``known()``, and on a replica, once it has replayed that position (else STALE).

    A position the primary has not projected yet is answered at once, as the primary would
    (with what it holds). One request waits once, however many of its fields ask: the
    position it has seen the replica reach is kept on the context, and the fields of a
    list (`places { nodes { control(knownAtPosition:) } }`) take turns, so a request
    costs one poller, not one a field."""
    found = known(known_at, known_at_position)
    context = info.context
    if not isinstance(found, int) or not context.on_replica or found <= context.replica_reached:
        return found
    broadcaster = context.broadcaster
    if broadcaster is not None and found > broadcaster.head:
        return found
    async with context.reaching:
        if found > context.replica_reached:
            await reach(info, found)
            context.replica_reached = found
    return found
