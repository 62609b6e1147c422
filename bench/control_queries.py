"""`python -m bench.control_queries`: how long controlAt and the control map take as the log
grows (10k, 100k, 1M incidents), measured on the read-model queries over asyncpg.

Each scale gets a fresh database, filled through the real write path and the real projector.
Prints one line per scale and query; nothing is asserted (these machines are shared).
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from urllib.parse import unquote, urlsplit
from uuid import uuid4

import asyncpg
import click

from bench.measure import latency
from bench.synthetic import SPAN, START, History, record
from domain.application import Frontline
from frontline.config import load_settings
from frontline.database import dsn_with_database, eventsourcing_env, resolve_dsn
from frontline.migrate import migrate
from readmodel import queries as q
from readmodel.projector import catch_up

SCALES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}


async def fresh_database(admin_dsn: str) -> str:
    name = f"bench_{uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    dsn = dsn_with_database(admin_dsn, name)
    await migrate(dsn)
    return dsn


def database_name(dsn: str) -> str:
    return unquote(urlsplit(dsn).path.lstrip("/"))


async def drop_database(admin_dsn: str, dsn: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database_name(dsn)}" WITH (FORCE)')
    finally:
        await conn.close()


def fill(dsn: str, incidents: int) -> float:
    history = History(incidents)
    app = Frontline(env=eventsourcing_env(dsn))
    start = time.perf_counter()
    done = 0
    try:
        with click.progressbar(length=incidents, label=f"recording {incidents:,}") as bar:
            for recorded in record(app, history):
                bar.update(recorded)
                done += recorded
    finally:
        app.close()
    return done / (time.perf_counter() - start)


async def project(dsn: str, total: int) -> float:
    conn = await asyncpg.connect(dsn)
    try:
        start = time.perf_counter()
        with click.progressbar(length=total, label="projecting") as bar:
            applied = await catch_up(conn, limit=2000, progress=lambda n, _: bar.update(n))
        return applied / (time.perf_counter() - start)
    finally:
        await conn.close()


async def measure(dsn: str, samples: int) -> dict[str, str]:
    rng = random.Random(1)  # noqa: S311 - reproducible sampling
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        places = [r["id"] for r in await pool.fetch("SELECT id FROM rm.places")]
        positions = await pool.fetchval("SELECT max(notification_id) FROM frontline_events")
        times = [START + SPAN * rng.random() for _ in range(samples)]
        known = [
            await pool.fetchval(
                "SELECT recorded_at FROM frontline_events WHERE notification_id = $1",
                rng.randint(1, positions),
            )
            for _ in range(samples)
        ]
        picks = [rng.choice(places) for _ in range(samples)]
        now = await latency(lambda i: q.control_at(pool, picks[i], times[i]), samples)
        then = await latency(lambda i: q.control_at(pool, picks[i], times[i], known[i]), samples)
        map_now = await latency(lambda i: q.control_map(pool, times[i]), max(samples // 10, 20))
        map_then = await latency(
            lambda i: q.control_map(pool, times[i], known[i]), max(samples // 10, 20)
        )
        rows = await pool.fetchval("SELECT count(*) FROM rm.control")
        return {
            "controlAt (asOf)": str(now),
            "controlAt (asOf + knownAt)": str(then),
            f"controlMap ({len(places)} places, asOf)": str(map_now),
            f"controlMap ({len(places)} places, asOf + knownAt)": str(map_then),
            "rm.control rows": f"{rows:,}",
        }
    finally:
        await pool.close()


@click.command()
@click.option("--scale", default="10k,100k", show_default=True, help="Comma list: 10k,100k,1m.")
@click.option("--samples", default=500, show_default=True, help="Queries per measurement.")
@click.option(
    "--measure-only",
    "existing",
    multiple=True,
    help="Skip filling: measure this already filled and projected database URL (repeatable).",
)
def main(scale: str, samples: int, existing: tuple[str, ...]) -> None:
    """Time controlAt and the control map at growing log sizes."""
    for dsn in existing:
        head = asyncio.run(_head(dsn))
        click.echo(f"\n== {head:,} events ({dsn})")
        for label, value in asyncio.run(measure(dsn, samples)).items():
            click.echo(f"   {label:45} {value}")
    if existing:
        return
    admin = resolve_dsn(load_settings())
    for name in scale.split(","):
        incidents = SCALES[name.strip().lower()]
        dsn = asyncio.run(fresh_database(admin))
        write_rate = fill(dsn, incidents)
        head = asyncio.run(_head(dsn))
        project_rate = asyncio.run(project(dsn, head))
        results = asyncio.run(measure(dsn, samples))
        click.echo(f"\n== {name}: {incidents:,} incidents, {head:,} events ({dsn})")
        click.echo(
            f"   recorded at {write_rate:,.0f} commands/s, "
            f"projected at {project_rate:,.0f} events/s"
        )
        for label, value in results.items():
            click.echo(f"   {label:45} {value}")
        sys.stdout.flush()


async def _head(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT max(notification_id) FROM frontline_events"))
    finally:
        await conn.close()


if __name__ == "__main__":
    main()
