"""Where an ACLED import's time goes, phase by phase: reading the CSV, mapping rows, looking
up what the log holds, planning, and writing (the domain handler, encoding, the insert), in
µs a row, on a synthetic export imported into a database of its own (dropped after). The
same steps as ``frontline.acled_import.import_acled``, timed one by one and run in one
thread (no hand-off to a writer thread), so the figures add up to the whole.

    python -m bench.acled_phases --rows 10000
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import asyncpg
import click

from bench.acled_synthetic import write_file
from bench.control_queries import drop_database, fresh_database
from domain.application import Frontline
from frontline.acled import map_row, read_acled
from frontline.acled_import import CHUNK, execute
from frontline.acled_plan import Planner, lookup
from frontline.config import load_settings
from frontline.database import eventsourcing_env, resolve_dsn
from readmodel.projector import catch_up

PHASES = ("read", "map", "lookup", "plan", "write")


async def phases(admin: str, rows: int) -> dict[str, float]:
    """µs a row of each phase, rows/s of the whole, and how many incidents it recorded."""
    dsn = await fresh_database(admin)
    try:
        with tempfile.TemporaryDirectory(prefix="frontline-phases-") as tmp:
            path = write_file(Path(tmp) / "acled.csv", rows)
            app = await asyncio.to_thread(Frontline, eventsourcing_env(dsn))
            conn = await asyncpg.connect(dsn)
            try:
                await catch_up(conn)
                return await _timed(conn, app, path, rows)
            finally:
                await conn.close()
    finally:
        await drop_database(admin, dsn)


async def _timed(
    conn: asyncpg.Connection, app: Frontline, path: Path, rows: int
) -> dict[str, float]:
    planner = Planner(file=path.name)
    spent = dict.fromkeys(PHASES, 0.0)
    now = datetime.now(UTC)
    start = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as lines:
        reader = read_acled(lines)
        while True:
            t0 = time.perf_counter()
            batch = list(islice(reader, CHUNK))
            if not batch:
                break
            t1 = time.perf_counter()
            mapped = [(row, map_row(row, now)) for row in batch]
            t2 = time.perf_counter()
            planner.learn(await lookup(conn, planner.needs(m for _, m in mapped)))
            t3 = time.perf_counter()
            steps = planner.rows(mapped)
            t4 = time.perf_counter()
            execute(app, steps, planner.summary)
            t5 = time.perf_counter()
            for phase, took in zip(
                PHASES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True
            ):
                spent[phase] += took
    total = time.perf_counter() - start
    per_row = {phase: spent[phase] / rows * 1e6 for phase in PHASES}
    return per_row | {"rows_per_s": rows / total, "recorded": planner.summary.recorded}


@click.command()
@click.option("--rows", default=10_000, show_default=True, help="Synthetic rows to import.")
def main(rows: int) -> None:
    """Time each phase of an ACLED import (µs a row) on a synthetic export, in a database of
    its own (DATABASE_URL, or the embedded PostgreSQL)."""
    got = asyncio.run(phases(resolve_dsn(load_settings()), rows))
    click.echo(f"{got['rows_per_s']:,.0f} rows/s; µs a row: "
               + ", ".join(f"{phase} {got[phase]:.1f}" for phase in PHASES))  # fmt: skip


if __name__ == "__main__":
    main()
