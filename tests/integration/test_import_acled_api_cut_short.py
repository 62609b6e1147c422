"""importAcled's importer (frontline.acled_api) when its request is cut short: a strict
import whose check did not finish records nothing (the unchecked rows may be bad)."""

from __future__ import annotations

import asyncio
import csv
import io

import pytest

from bench.acled_synthetic import write
from domain.application import Frontline
from domain.errors import InvalidInput
from frontline.acled_api import AcledImporter
from frontline.database import create_pool, eventsourcing_env
from readmodel.events import head_position

pytestmark = pytest.mark.slow


def with_a_bad_row(rows: int, bad: int) -> str:
    text = io.StringIO()
    write(text, rows, seed=3)
    lines = list(csv.reader(io.StringIO(text.getvalue())))
    lines[bad][lines[0].index("event_date")] = "not a date"
    out = io.StringIO()
    csv.writer(out).writerows(lines)
    return out.getvalue()


async def strict_import(dsn: str, text: str, *, cut_short: bool) -> tuple[str | None, int]:
    """What the importer refused with (None: nothing), and the log's head afterwards."""
    pool = await create_pool(dsn, max_size=2)
    app = await asyncio.to_thread(Frontline, eventsourcing_env(dsn))
    try:
        stop = asyncio.Event()
        if cut_short:  # the client went away while the first chunk was being checked
            stop.set()
        importer = AcledImporter(pool, app)
        refused = None
        try:
            await importer._import(text, None, strict=True, dry_run=False, stop=stop)
        except InvalidInput as refusal:
            refused = refusal.message
        async with pool.acquire() as conn:
            return refused, await head_position(conn)
    finally:
        await asyncio.to_thread(app.close)
        await pool.close()


@pytest.mark.parametrize("cut_short", [False, True], ids=["whole", "cut short"])
def test_a_strict_import_with_a_bad_row_records_nothing(database_dsn: str, cut_short: bool) -> None:
    text = with_a_bad_row(1_500, 1_201)  # the bad row is in the second chunk
    refused, head = asyncio.run(strict_import(database_dsn, text, cut_short=cut_short))
    assert head == 0
    if cut_short:
        assert refused is None  # stopped before it knew; nothing recorded either way
    else:
        assert refused is not None
        assert "csv:1202: event_date" in refused
