"""Kill -9 a projector process mid-backlog: nothing lost, nothing applied twice."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path

import asyncpg
import pytest

from bench.processes import clean_env
from readmodel.projector import catch_up, projected_position
from readmodel.rebuild import rebuild
from tests.support.backlog import INCIDENTS, record_backlog

pytestmark = pytest.mark.slow


async def test_a_projector_killed_mid_batch_resumes_without_loss_or_duplication(
    database_dsn: str, tmp_path: Path
) -> None:
    head = record_backlog(database_dsn)
    env = clean_env()
    log = tmp_path / "projector.log"
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "frontline", "project",
            env=env | {"DATABASE_URL": database_dsn},
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
    conn = await asyncpg.connect(database_dsn)
    try:
        deadline = time.monotonic() + 120
        position = 0
        while position == 0 and time.monotonic() < deadline:
            assert process.returncode is None, log.read_text()
            position = await projected_position(conn)
            await asyncio.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        await process.wait()
        killed_at = await projected_position(conn)
        assert 0 < killed_at < head, "the kill should land mid-backlog"

        # Everything up to the committed position is there, and nothing after it.
        recorded = await conn.fetchval(
            "SELECT count(*) FROM frontline_events WHERE notification_id <= $1 "
            "AND topic LIKE '%Incident.Recorded'",
            killed_at,
        )
        assert await conn.fetchval("SELECT count(*) FROM rm.incidents") == recorded

        await catch_up(conn)
        assert await projected_position(conn) == head
        assert await conn.fetchval("SELECT count(*) FROM rm.incidents") == INCIDENTS
        resumed = await conn.fetch(
            "SELECT * FROM rm.control ORDER BY place_id, known_from, valid_from NULLS FIRST"
        )
        await rebuild(conn)
        rebuilt = await conn.fetch(
            "SELECT * FROM rm.control ORDER BY place_id, known_from, valid_from NULLS FIRST"
        )
        strip = lambda rows: [{k: v for k, v in dict(r).items() if k != "id"} for r in rows]  # noqa: E731
        assert strip(resumed) == strip(rebuilt)
    finally:
        await conn.close()
