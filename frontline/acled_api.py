"""The ACLED importer the server hands to the API (``importAcled``, api.graphql.imports): the
same import as `frontline import-acled`, on a posted file's text."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from api.graphql.errors import ApiError
from domain.application import Frontline
from domain.errors import InvalidInput
from frontline.acled import AcledError, read_acled, read_deletions
from frontline.acled_import import Rows, import_file
from frontline.acled_plan import Summary
from readmodel.events import head_position
from readmodel.projector import projected_position

FILE: Final = "csv"  # how rejected rows name the posted text: "csv:12: event_date: ..."
DELETIONS: Final = "deletions"
#: How long to wait for the read models (what the log already holds) to reach the log's head.
PROJECTED_WAIT_SECONDS: Final = 5.0
STRICT_REPORTED: Final = 20


class AcledImporter:
    """One import at a time per process: each is a burst of writes, and an admin who sends
    two at once must not run them against each other's half-written chunks. A request that
    is cancelled (its client went away, or its deadline passed) stops its import after the
    chunk being recorded, and the next import waits for that."""

    def __init__(self, pool: Any, application: Frontline) -> None:
        self.pool, self.application = pool, application
        self.lock = asyncio.Lock()

    async def __call__(
        self, text: str, deletions: str | None, *, strict: bool, dry_run: bool
    ) -> Summary:
        async with self.lock:
            stop = asyncio.Event()
            work = asyncio.create_task(self._import(text, deletions, strict, dry_run, stop))
            try:
                return await asyncio.shield(work)
            except asyncio.CancelledError:
                stop.set()
                await asyncio.wait([work])  # the chunk in the worker thread, then the lock
                raise

    async def _import(
        self, text: str, deletions: str | None, strict: bool, dry_run: bool, stop: asyncio.Event
    ) -> Summary:
        text = text.removeprefix("\ufeff")
        listed = (deletions or "").removeprefix("\ufeff")

        @contextmanager
        def opened() -> Iterator[Rows]:
            yield read_acled(text), read_deletions(listed) if listed else ()

        try:
            async with self.pool.acquire() as conn:
                await _wait_projected(conn)
                summary = await import_file(
                    conn, self.application, opened, file=FILE, deletions_file=DELETIONS,
                    strict=strict, dry_run=dry_run, stopped=stop.is_set,
                )  # fmt: skip
                if strict and summary.rejected and not stop.is_set():
                    raise _refused(summary)
                summary.position = await head_position(conn)
                return summary
        except AcledError as error:
            raise InvalidInput(f"{FILE}: {error}", field="csv") from None


def _refused(checked: Summary) -> InvalidInput:
    shown = "; ".join(checked.problems[:STRICT_REPORTED])
    more = checked.rejected - min(len(checked.problems), STRICT_REPORTED)
    return InvalidInput(
        f"strict: nothing was recorded; {checked.rejected:,} rows are bad: {shown}"
        + (f" and {more:,} more" if more else ""),
        field="csv",
    )


async def _wait_projected(conn: Any) -> None:
    """Until the read models hold the whole log as it is now (the projector may lag)."""
    head = await head_position(conn)
    deadline = time.monotonic() + PROJECTED_WAIT_SECONDS
    while (reached := await projected_position(conn)) < head:
        if time.monotonic() > deadline:
            raise ApiError("STALE", f"read models are at position {reached}, not yet {head}; retry")
        await asyncio.sleep(0.05)
