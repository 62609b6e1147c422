"""The ACLED import benchmark: a synthetic export (bench.acled_synthetic) imported through
the same path as `frontline import-acled` (map, look up, plan, record through the write path
in atomic chunks), in rows/s, beside PostgreSQL's own COPY of the same file into a table of
ACLED's columns, in the same run. Then the idempotent path (the same file again: every row
already recorded) and the projection of what the import appended."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import click

from bench.acled_synthetic import write_file
from bench.control_queries import drop_database, fresh_database
from domain.application import Frontline
from frontline.acled import COLUMNS, read_acled
from frontline.acled_import import import_acled, recording
from frontline.acled_plan import Planner
from frontline.database import eventsourcing_env
from readmodel.projector import catch_up

COPY_TABLE = "CREATE TABLE acled_copy ({})".format(", ".join(f"{c} text" for c in COLUMNS))


async def measure(admin: str, rows: int, runs: int) -> dict[str, Any]:
    """Figures for ``rows`` synthetic rows in a database of their own (dropped after)."""
    dsn = await fresh_database(admin)
    with tempfile.TemporaryDirectory(prefix="frontline-acled-") as tmp:
        path = write_file(Path(tmp) / "acled.csv", rows)
        mib = path.stat().st_size / 2**20
        try:
            first = await _import(dsn, path, rows, "  importing ACLED rows")
            conn = await asyncpg.connect(dsn)
            try:
                start = time.perf_counter()
                events = await catch_up(conn)
                projected = events / (time.perf_counter() - start)
            finally:
                await conn.close()
            again = await _import(dsn, path, rows, "  importing them again")
            copy = await _copy(dsn, path, rows, runs)
        finally:
            await drop_database(admin, dsn)
    return {
        "frontline": {"per_s": first["per_s"], "again_per_s": again["per_s"]},
        "baseline": {"per_s": copy, "again_per_s": copy},
        "events": events,
        "projected_per_s": projected,
        "mib": mib,
        "summary": first["summary"],
    }


async def _import(dsn: str, path: Path, rows: int, label: str) -> dict[str, Any]:
    app = await asyncio.to_thread(Frontline, eventsourcing_env(dsn))
    conn = await asyncpg.connect(dsn)
    try:
        await catch_up(conn)  # what the log holds, as `import-acled` does first
        with (
            path.open(encoding="utf-8", newline="") as lines,
            click.progressbar(length=rows, label=label) as bar,
        ):
            start = time.perf_counter()
            summary = await import_acled(
                conn,
                recording(app),
                Planner(file=path.name),
                read_acled(lines),
                progress=bar.update,
            )
            took = time.perf_counter() - start
        return {"per_s": rows / took, "summary": "; ".join(summary.lines())}
    finally:
        await conn.close()
        await asyncio.to_thread(app.close)


async def _copy(dsn: str, path: Path, rows: int, runs: int) -> float:
    """COPY … FROM the CSV itself into a table of ACLED's columns: PostgreSQL reading and
    storing the same rows with no logic at all; rows/s, the median of ``runs``."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(COPY_TABLE)
        rates = []
        for _ in range(runs):
            await conn.execute("TRUNCATE acled_copy")
            start = time.perf_counter()
            await conn.copy_to_table("acled_copy", source=path, format="csv", header=True)
            rates.append(rows / (time.perf_counter() - start))
        return float(statistics.median(rates))
    finally:
        await conn.close()
