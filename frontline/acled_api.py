"""The ACLED importer the server hands to the API (``importAcled``, api.graphql.imports): the
same import as `frontline import-acled`, on a posted file's text."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Final

from api.graphql.errors import ApiError
from domain.application import Frontline
from domain.errors import InvalidInput
from frontline.acled import AcledError, read_acled, read_deletions
from frontline.acled_import import Planner, Summary, bad_rows, import_acled
from readmodel.events import head_position
from readmodel.projector import projected_position

FILE: Final = "csv"  # how rejected rows name the posted text: "csv:12: event_date: ..."
DELETIONS: Final = "deletions"
#: How long to wait for the read models (what the log already holds) to reach the log's head.
PROJECTED_WAIT_SECONDS: Final = 5.0
STRICT_REPORTED: Final = 20


class AcledImporter:
    """One import at a time per process: each is a burst of writes, and an admin who sends
    two at once must not run them against each other's half-written chunks."""

    def __init__(self, pool: Any, application: Frontline) -> None:
        self.pool, self.application = pool, application
        self.lock = asyncio.Lock()

    async def __call__(
        self, text: str, deletions: str | None, *, strict: bool, dry_run: bool
    ) -> Summary:
        async with self.lock:
            try:
                return await self._import(text, deletions, strict=strict, dry_run=dry_run)
            except AcledError as error:
                raise InvalidInput(f"{FILE}: {error}", field="csv") from None

    async def _import(
        self, text: str, deletions: str | None, *, strict: bool, dry_run: bool
    ) -> Summary:
        if strict and (bad := bad_rows(read_acled(text), FILE)):
            shown = "; ".join(bad[:STRICT_REPORTED])
            more = f" and {len(bad) - STRICT_REPORTED:,} more" if len(bad) > STRICT_REPORTED else ""
            raise InvalidInput(
                f"strict: nothing was recorded; {len(bad):,} rows are bad: {shown}{more}",
                field="csv",
            )
        deleted = list(read_deletions(deletions)) if deletions else []
        async with self.pool.acquire() as conn:
            await _wait_projected(conn)
            summary = await import_acled(
                conn,
                None if dry_run else self.application,
                Planner(file=FILE, deletions_file=DELETIONS),
                read_acled(text),
                deleted,
            )
            summary.position = await head_position(conn)
        return summary


async def _wait_projected(conn: Any) -> None:
    """Until the read models hold the whole log as it is now (the projector may lag)."""
    head = await head_position(conn)
    deadline = time.monotonic() + PROJECTED_WAIT_SECONDS
    while (reached := await projected_position(conn)) < head:
        if time.monotonic() > deadline:
            raise ApiError("STALE", f"read models are at position {reached}, not yet {head}; retry")
        await asyncio.sleep(0.05)
