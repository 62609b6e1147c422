"""`make bench` / `python -m bench`: every Frontline figure beside a raw-PostgreSQL baseline
measured in the same run, on a fresh database holding a synthetic history.

For each scale: create a database, record the synthetic history through the bulk write path
(``Frontline.execute_batch``, what ``recordBatch`` and the CLI use), project it, rebuild it,
then start a real ``frontline serve`` and a bare Starlette app as subprocesses and drive them
from a separate load-generator process (``bench.load``) over loopback. Figures are medians of
several runs; nothing is asserted about speed. Results go to ``results.md`` and
``results.json`` (in ``bench/`` unless ``--out``).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import asyncpg
import click
import httpx

from api.auth import Role, create_key
from bench import map_page
from bench.acled_import import measure as measure_acled_import
from bench.attack import ATTACKERS
from bench.control_queries import database_name, drop_database, fresh_database
from bench.postgraphile import NO_NODE, ensure_installed, served_postgraphile
from bench.processes import clean_env, served
from bench.synthetic import History, actor_slugs, place_slugs
from domain import commands as c
from domain.application import Frontline
from frontline.baseline import Defaults, baseline_commands, file_digest, read_rows, referenced
from frontline.config import load_settings
from frontline.database import eventsourcing_env, resolve_dsn
from readmodel.events import registered
from readmodel.projector import catch_up
from readmodel.rebuild import rebuild

HERE = Path(__file__).parent
INGEST_BATCH = 1000  # the most recordBatch accepts (api.graphql.mutation.MAX_BATCH)
COPY_ROWS_CAP = 50_000
WORKERS = 2  # `serve --workers` in the throughput rows: one per core here
HEAD_SQL = "SELECT max(notification_id) FROM frontline_events"


@dataclass(frozen=True)
class Plan:
    """How much of everything one scale measures."""

    incidents: int
    places: int = 1000
    actors: int = 36
    runs: int = 3
    samples: int = 300  # sequential requests per latency run
    map_samples: int = 40
    mutation_samples: int = 200
    subscribers: tuple[int, ...] = (1, 100, 1000)
    appends: int = 10  # appends per subscriber run
    seconds: float = 5.0  # per throughput run
    clients: int = 32
    acled_rows: int = 10_000  # rows of the synthetic ACLED export (bench.acled_synthetic)


SCALES = {
    "smoke": Plan(
        incidents=300, places=40, actors=6, runs=1, samples=10, map_samples=3,
        mutation_samples=5, subscribers=(1, 5), appends=2, seconds=1.0, clients=4,
        acled_rows=500,
    ),
    "10k": Plan(incidents=10_000),
    "100k": Plan(incidents=100_000, acled_rows=100_000),
    "1m": Plan(incidents=1_000_000, acled_rows=1_000_000),
}  # fmt: skip


@dataclass
class Row:
    """One line of the table."""

    workload: str
    unit: str
    frontline: dict[str, float]
    baseline: dict[str, float]
    baseline_label: str
    runs: int
    target: str
    met: bool | None = None
    notes: str = ""
    ratio: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ratio = {
            k: self.frontline[k] / self.baseline[k] for k in self.frontline if self.baseline.get(k)
        }


# ---------------------------------------------------------------- helpers


def median_of(runs: list[dict[str, Any]], *keys: str) -> dict[str, float]:
    return {k: float(statistics.median(r[k] for r in runs)) for k in keys}


def _connect(dsn: str) -> Any:
    return asyncpg.connect(dsn)


async def _fetchval(dsn: str, sql: str) -> Any:
    conn = await _connect(dsn)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


# ---------------------------------------------------------------- write side and rebuild


def ingest(dsn: str, plan: Plan) -> tuple[dict[str, float], int]:
    """Record the history in batches of INGEST_BATCH commands; per-batch commands/s."""
    history = History(plan.incidents, places=plan.places, actors=plan.actors)
    app = Frontline(env=eventsourcing_env(dsn))
    rates, total, commands = [], 0.0, 0
    try:
        app.execute_batch(history.setup())
        with click.progressbar(length=plan.incidents, label="  recording") as bar:
            for batch in history.batches(INGEST_BATCH):
                start = time.perf_counter()
                app.execute_batch(batch)
                took = time.perf_counter() - start
                rates.append(len(batch) / took)
                total += took
                commands += len(batch)
                bar.update(sum(isinstance(b, c.RecordIncident) for b in batch))
    finally:
        app.close()
    return {"per_s": statistics.median(rates), "overall_per_s": commands / total}, len(rates)


def baseline_import(dsn: str, plan: Plan) -> dict[str, float]:
    """`frontline import-control`'s work, in this process: a CSV with one assessment per
    place (every place of the history, held by one of its actors), read, checked and
    recorded in one atomic batch; rows/s. A second import of the same file (every row
    already recorded) measures the idempotent path."""
    actors = actor_slugs(plan.actors)
    lines = ["place,holders,status,as_of,source"]
    lines += [
        f"{slug},{actors[i % len(actors)]},held,2024-11-26,Bench mapper"
        for i, slug in enumerate(place_slugs(plan.places))
    ]
    data = "\n".join(lines).encode()
    app = Frontline(env=eventsourcing_env(dsn))
    try:
        figures = {}
        for label in ("per_s", "again_per_s"):
            start = time.perf_counter()
            rows = read_rows(data)  # then as `frontline import-control` does (frontline.cli)
            found = asyncio.run(_held(dsn, set().union(*referenced(rows))))
            for aggregate_id, cls in found.items():
                app.know(aggregate_id, cls)
            commands, _ = baseline_commands(rows, file_digest(data), Defaults(), found.__contains__)
            app.execute_batch(commands)
            figures[label] = len(rows) / (time.perf_counter() - start)
        return figures
    finally:
        app.close()


async def _held(dsn: str, ids: set[Any]) -> dict[Any, type]:
    conn = await _connect(dsn)
    try:
        return await registered(conn, ids)
    finally:
        await conn.close()


async def copy_ingest_baseline(dsn: str, runs: int) -> dict[str, float]:
    """copy_records_to_table of rows like the ones the log holds, into a scratch table with
    the event store's primary key (no triggers)."""
    conn = await _connect(dsn)
    try:
        records = await conn.fetch(
            "SELECT originator_id, originator_version, topic, state FROM frontline_events "
            "ORDER BY notification_id LIMIT $1",
            COPY_ROWS_CAP,
        )
        rows = [tuple(r) for r in records]
        await conn.execute(
            "CREATE TABLE bench_scratch.ingest (originator_id uuid, originator_version bigint,"
            " topic text, state bytea, PRIMARY KEY (originator_id, originator_version))"
        )
        rates = []
        for _ in range(runs):
            await conn.execute("TRUNCATE bench_scratch.ingest")
            start = time.perf_counter()
            await conn.copy_records_to_table("ingest", schema_name="bench_scratch", records=rows)
            rates.append(len(rows) / (time.perf_counter() - start))
        return {"per_s": statistics.median(rates)}
    finally:
        await conn.close()


async def project(dsn: str) -> float:
    conn = await _connect(dsn)
    try:
        start = time.perf_counter()
        applied = await catch_up(conn, limit=1000)
        return applied / (time.perf_counter() - start)
    finally:
        await conn.close()


async def rebuild_runs(dsn: str, runs: int) -> dict[str, float]:
    conn = await _connect(dsn)
    try:
        rates = []
        for _ in range(runs):
            start = time.perf_counter()
            replayed = await rebuild(conn)
            rates.append(replayed / (time.perf_counter() - start))
        return {"per_s": statistics.median(rates)}
    finally:
        await conn.close()


async def copy_read_models(dsn: str, runs: int) -> dict[str, float]:
    """COPY every read-model table out to memory and into fresh scratch tables (with the same
    indexes): the floor for writing the rows a rebuild writes. Rate in log events/s."""
    conn = await _connect(dsn)
    try:
        events = int(await conn.fetchval("SELECT max(notification_id) FROM frontline_events"))
        tables = [
            r["table_name"]
            for r in await conn.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'rm'"
            )
        ]
        rates = []
        for _ in range(runs):
            start = time.perf_counter()
            for table in tables:
                await conn.execute(f"DROP TABLE IF EXISTS bench_scratch.rm_{table}")
                await conn.execute(
                    f"CREATE TABLE bench_scratch.rm_{table} (LIKE rm.{table} INCLUDING ALL)"
                )
                buffer = io.BytesIO()
                await conn.copy_from_table(table, schema_name="rm", output=buffer, format="binary")
                buffer.seek(0)
                await conn.copy_to_table(
                    f"rm_{table}", schema_name="bench_scratch", source=buffer, format="binary"
                )
            rates.append(events / (time.perf_counter() - start))
        return {"per_s": statistics.median(rates)}
    finally:
        await conn.close()


async def prepare_scratch(dsn: str) -> str:
    """The scratch schema for baselines, and a writer key for the mutation workload."""
    conn = await _connect(dsn)
    try:
        await conn.execute("CREATE SCHEMA IF NOT EXISTS bench_scratch")
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_scratch.insert_target (originator_id uuid,"
            " originator_version bigint, topic text, state bytea,"
            " PRIMARY KEY (originator_id, originator_version))"
        )
        return await create_key(conn, "bench writer", Role.WRITER)
    finally:
        await conn.close()


# ---------------------------------------------------------------- servers and load


def load(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one workload in a separate load-generator process."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "bench.load", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise click.ClickException(f"load {spec['workload']} failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _wait_fresh(url: str, head: int) -> None:
    query = {"query": f"{{ fresh(position: {head}, timeoutMs: 10000) {{ __typename }} }}"}
    body = httpx.post(url + "/graphql", json=query, timeout=30).json()
    if body.get("errors"):
        raise click.ClickException(f"server never caught up: {body['errors']}")


# ---------------------------------------------------------------- one scale


def bench_scale(admin: str, name: str, plan: Plan, log: Path, keep: bool) -> dict[str, Any]:
    click.echo(f"== {name}: {plan.incidents:,} incidents, {plan.places:,} places")
    dsn = asyncio.run(fresh_database(admin))
    rows: list[Row] = []
    try:
        key = asyncio.run(prepare_scratch(dsn))
        ingest_figure, batches = ingest(dsn, plan)
        events = int(asyncio.run(_fetchval(dsn, HEAD_SQL)))
        click.echo("  baselines: COPY of log rows")
        copy = asyncio.run(copy_ingest_baseline(dsn, plan.runs))
        rows.append(
            Row(
                "batch ingest (execute_batch, 1,000 commands per batch)", "commands/s",
                {"per_s": ingest_figure["per_s"]}, copy, "asyncpg copy_records_to_table",
                batches, "≥ 20,000/s and ≥ 0.1× raw",
                notes=f"overall {ingest_figure['overall_per_s']:,.0f}/s; median of {batches} "
                "batches; 1 command = 1 event = 1 row (92% RecordIncident, 8% corrections); "
                f"baseline: median of {plan.runs} COPYs of {min(events, COPY_ROWS_CAP):,} rows",
            )
        )  # fmt: skip
        rows[-1].met = rows[-1].frontline["per_s"] >= 20_000 and rows[-1].ratio["per_s"] >= 0.1
        click.echo("  importing a baseline (one assessment per place)")
        imported = baseline_import(dsn, plan)
        rows.append(
            Row(
                f"baseline import (import-control, {plan.places:,} rows in one batch)",
                "rows/s", imported, {"per_s": copy["per_s"], "again_per_s": copy["per_s"]},
                "asyncpg copy_records_to_table (as above)", 1, "a 50,000-row file in ≤ 60 s",
                imported["per_s"] * 60 >= 50_000,
                notes="read, check (every place and holder looked up in the log), record; "
                "again_per_s: the same file a second time (every row already recorded)",
            )
        )  # fmt: skip
        rows.append(acled_row(admin, plan))
        click.echo("  projecting")
        projected = asyncio.run(project(dsn))
        click.echo(f"  rebuilding ×{plan.runs}")
        rebuilt = asyncio.run(rebuild_runs(dsn, plan.runs))
        copied = asyncio.run(copy_read_models(dsn, plan.runs))
        rows.append(
            Row(
                "rebuild of all read models", "events/s", rebuilt, copied,
                "COPY of the same read-model rows (out to memory, into indexed scratch tables)",
                plan.runs, "≥ 30,000/s", rebuilt["per_s"] >= 30_000,
                notes=f"catch-up projection on first load: {projected:,.0f} events/s",
            )
        )  # fmt: skip
        rows += http_workloads(dsn, plan, key, log, events)
        rows += map_page_rows(admin, plan, log)
        control_rows = int(asyncio.run(_fetchval(dsn, "SELECT count(*) FROM rm.control")))
    finally:
        if not keep:
            asyncio.run(drop_database(admin, dsn))
    return {
        "scale": name,
        "incidents": plan.incidents,
        "events": events,
        "places": plan.places,
        "control_rows": control_rows,
        "database": database_name(dsn) if keep else None,
        "rows": [vars(r) for r in rows],
    }


def map_page_rows(admin: str, plan: Plan, log: Path) -> list[Row]:
    """The map page in headless Chromium (bench.map_page), on the scale's places and on ten
    times as many, each in a database of its own."""
    rows = []
    for places in (plan.places, plan.places * 10):
        click.echo(f"  the map page, {places:,} places")
        got = map_page.measure(admin, places, plan.map_samples, plan.runs, log)
        if "skipped" in got:
            click.echo(f"    skipped: {got['skipped']}")
            continue
        base = got["baseline"]
        rows.append(
            Row(f"map page ({got['markers']:,} places): one slider step", "ms p50 / p95",
                got["step"], base, "the step's controlMapGeoJson statement through asyncpg",
                plan.runs, "p50 ≤ 300 ms at 1,000 places",
                got["step"]["p50_ms"] <= 300 if places <= 1000 else None,
                notes=f"headless Chromium; a step: the query over HTTP and every marker "
                f"redrawn, timed by the page (of which until the answer was read, painting "
                "the previous step included, "
                f"{got['step_fetch']['p50_ms']:.0f} / {got['step_fetch']['p95_ms']:.0f} ms); "
                f"{plan.map_samples - 1} steps per run; seen from "
                f"the driver {got['step_observed']['p50_ms']:.0f} / "
                f"{got['step_observed']['p95_ms']:.0f} ms; first paint (navigation to the "
                f"first map drawn) {got['first_paint']['p50_ms']:.0f} / "
                f"{got['first_paint']['p95_ms']:.0f} ms; a capture recorded over HTTP to its "
                f"marker redrawn live {got['live']['p50_ms']:.0f} / {got['live']['p95_ms']:.0f} "
                "ms")
        )  # fmt: skip
    return rows


def acled_row(admin: str, plan: Plan) -> Row:
    """The ACLED import (bench.acled_import), in a database of its own."""
    got = asyncio.run(measure_acled_import(admin, plan.acled_rows, plan.runs))
    return Row(
        f"ACLED import (import-acled, {plan.acled_rows:,} synthetic rows)", "rows/s",
        got["frontline"], got["baseline"], "COPY … FROM the same CSV into a table of ACLED's "
        "columns", 1, "≥ 20,000 rows/s", got["frontline"]["per_s"] >= 20_000,
        notes=f"a {got['mib']:.0f} MiB file, {plan.acled_rows // 25:,} places; map, look up, "
        "plan, record in atomic chunks of 1,000 rows; again_per_s: the same file a second "
        f"time (every row unchanged); projecting the {got['events']:,} events it appended: "
        f"{got['projected_per_s']:,.0f} events/s",
    )  # fmt: skip


def http_workloads(dsn: str, plan: Plan, key: str, log: Path, head: int) -> list[Row]:
    # No per-request access log on either server (a log line per request is not the API's
    # cost; bench.bare turns it off too).
    env = clean_env(DATABASE_URL=dsn, FRONTLINE_LOAD_SAMPLE="false", FRONTLINE_ACCESS_LOG="false")
    common = {"dsn": dsn, "runs": plan.runs, "places": plan.places, "actors": plan.actors}
    rows = []
    lat = ("p50_ms", "p95_ms", "p99_ms")
    with (
        served(["-m", "frontline", "serve", "--port"], env, log, "/healthz") as (url, pid),
        served(["-m", "bench.bare", dsn], env, log.with_suffix(".bare.log"), "/") as (bare, _),
    ):
        _wait_fresh(url, head)
        click.echo(f"  serving on {url} (pid log {log}); bare route on {bare}")
        click.echo("  controlAt")
        got = load(common | {"workload": "control_at", "url": url, "samples": plan.samples})
        fl, base = median_of(got["frontline"], *lat), median_of(got["baseline"], *lat)
        rows.append(
            Row("controlAt over HTTP", "ms p50 / p95", fl, base, "asyncpg primary-key lookup",
                plan.runs, "p95 ≤ 5 ms (at 1M, ≤ 1.5× the 10k figure)", fl["p95_ms"] <= 5,
                notes=f"{plan.samples} sequential queries per run")
        )  # fmt: skip
        click.echo("  control map")
        got = load(common | {"workload": "control_map", "url": url, "samples": plan.map_samples})
        fl, base = median_of(got["frontline"], *lat), median_of(got["baseline"], *lat)
        plain = median_of(got["rows"], *lat)
        rows.append(
            Row(f"control map ({plan.places:,} places, controlMapGeoJson) over HTTP",
                "ms p50 / p95", fl, base,
                "the same SQL through asyncpg: the GeoJSON text built by PostgreSQL", plan.runs,
                "p95 ≤ 50 ms", fl["p95_ms"] <= 50,
                notes=f"{plan.map_samples} sequential queries per run, random asOf; the plain "
                f"map rows (control_map's SQL) through asyncpg: {plain['p50_ms']:.2f} / "
                f"{plain['p95_ms']:.2f} ms")
        )  # fmt: skip
        click.echo("  small-query throughput (one process, two workers, the bare route, a peer)")
        rows += throughput_rows(dsn, plan, env, log, url, bare)
        click.echo("  one mutation")
        got = load(
            common
            | {"workload": "mutation", "url": url, "key": key, "samples": plan.mutation_samples}
            | {"bare_url": bare}
        )
        fl, base = median_of(got["frontline"], *lat), median_of(got["baseline"], *lat)
        floor = median_of(got["bare_http"], *lat)
        rows.append(
            Row("one GraphQL mutation (recordCapture) over HTTP", "ms p50 / p99", fl, base,
                "one asyncpg INSERT in a transaction", plan.runs, "p50 ≤ 3 ms, p99 ≤ 10 ms",
                fl["p50_ms"] <= 3 and fl["p99_ms"] <= 10,
                notes=f"{plan.mutation_samples} sequential mutations per run; the same INSERT "
                "behind a bare Starlette route, from the same HTTP client: "
                f"{floor['p50_ms']:.2f} / {floor['p99_ms']:.2f} ms")
        )  # fmt: skip
        click.echo(f"  subscribers {plan.subscribers}")
        ws = url.replace("http://", "ws://") + "/graphql"
        got = load(
            common
            | {"workload": "subscribers", "ws": ws, "counts": list(plan.subscribers)}
            | {"appends": plan.appends, "timeout": 30}
        )
        base = median_of(got["baseline"], *lat)
        for n in plan.subscribers:
            fl = median_of(got["frontline"][str(n)], *lat)
            rows.append(
                Row(f"append → subscriber receipt, {n:,} subscriber{'s' if n > 1 else ''}",
                    "ms p50 / p99", fl, base, "bare LISTEN/NOTIFY round trip (1 listener)",
                    plan.runs, "p99 ≤ 25 ms with 1,000 subscribers",
                    fl["p99_ms"] <= 25 if n >= 1000 else None,
                    notes=f"{plan.appends} appends per run × {n} subscribers; from the start "
                    "of execute_batch (in the load process) to each `next` message")
            )  # fmt: skip
        click.echo("  the costliest admitted query, and a bystander under attack")
        got = load(common | {"workload": "attack", "url": url, "pid": pid, "samples": plan.samples})
        rows += attack_rows(got, plan)
    return rows


def throughput_rows(
    dsn: str, plan: Plan, env: dict[str, str], log: Path, url: str, bare: str
) -> list[Row]:
    """`place(ref:)` under load: Frontline in one process, in WORKERS processes, the bare
    route, and PostGraphile serving the same row where Node.js is installed."""
    spec = {"dsn": dsn, "runs": plan.runs, "places": plan.places, "actors": plan.actors}
    spec |= {"workload": "throughput", "url": url, "bare_url": bare}
    spec |= {"clients": plan.clients, "seconds": plan.seconds}
    with contextlib.ExitStack() as stack:
        argv = ["-m", "frontline", "serve", "--workers", str(WORKERS), "--port"]
        workers, _ = stack.enter_context(
            served(argv, env, log.with_suffix(".workers.log"), "/healthz")
        )
        spec["workers_url"] = workers
        _wait_for_workers(workers, WORKERS)
        peer_missing = None if ensure_installed() is not None else NO_NODE
        if peer_missing is None:
            spec["peer_url"] = stack.enter_context(
                served_postgraphile(dsn, log.with_suffix(".postgraphile.log"))
            )
        got = load(spec)
    rate = "req_per_s"
    fl, base = median_of(got["frontline"], rate), median_of(got["baseline"], rate)
    how = f"`place(ref:)`, {plan.seconds:.0f} s per run, load by {got['tool']}, runs interleaved"
    rows = [
        Row(f"small query, {plan.clients} concurrent clients", "req/s", fl, base,
            "a bare Starlette route returning the same row", plan.runs,
            "≥ 0.5× bare", fl[rate] >= 0.5 * base[rate], notes=how),
    ]  # fmt: skip
    several = median_of(got["workers"], rate)
    rows.append(
        Row(f"small query, {plan.clients} clients, `serve --workers {WORKERS}`", "req/s",
            several, base, "the bare route (one process)", plan.runs,
            "more than one process", several[rate] > fl[rate],
            notes=f"{how}; one process: {fl[rate]:,.0f} req/s")
    )  # fmt: skip
    if peer_missing is None:
        peer = median_of(got["peer"], rate)
        rows.append(
            Row(f"small query, {plan.clients} clients, against a peer", "req/s", fl, peer,
                "PostGraphile 4.14 (Node.js, one process) serving the same rm.places row",
                plan.runs, "≥ 1× the peer, per process", fl[rate] >= peer[rate],
                notes=f"{how}; the peer's own query, `placeBySlug(slug:)`, same fields")
        )  # fmt: skip
    else:
        click.echo(f"  (no peer row: {peer_missing})")
    return rows


def _wait_for_workers(url: str, count: int, seconds: float = 60.0) -> None:
    """Until ``count`` distinct processes have answered /healthz (one answering is not all
    of them up: wrk's connections could all land on the first)."""
    seen: set[int] = set()
    deadline = time.monotonic() + seconds
    while len(seen) < count:
        if time.monotonic() > deadline:
            raise click.ClickException(f"only {len(seen)} of {count} workers answered at {url}")
        # A new connection each time.
        with (
            contextlib.suppress(httpx.TransportError, ValueError, KeyError),
            httpx.Client(timeout=5) as client,
        ):
            seen.add(client.get(url + "/healthz").json()["process"])
        time.sleep(0.05)


def attack_rows(got: dict[str, Any], plan: Plan) -> list[Row]:
    """The cost limit's figures (bench/attack.py): what its costliest query costs the
    server, and what a bystander waits while twenty run at once."""
    single = median_of(got["single"], "wall_ms", "cpu_s", "bytes", "rss_after_mb")
    sql = {"wall_ms": statistics.median(got["baseline_sql"])}
    lat = ("p50_ms", "p99_ms")
    pk = {k: got["baseline_pk"][k] for k in lat}
    under = {k: got["under_attack"][k] for k in lat}
    alone = {k: got["alone"][k] for k in lat}
    refused = got["under_attack"].get("refused", [])
    no_5xx = all(status < 500 for status in [*got["attack_statuses"], *refused])
    return [
        Row("costliest query the cost limit admits (cost 40,302 of 50,000)", "ms",
            {"wall_ms": single["wall_ms"]}, sql,
            "its SQL through asyncpg (each actor's feed page)", plan.runs,
            "a bounded cost per request", None,
            notes=f"server CPU {single['cpu_s']:.2f} s, response {single['bytes']:,.0f} bytes, "
            f"RSS after {single['rss_after_mb']:.0f} MB; the 22-second query of issue 10 "
            f"is refused in {statistics.median(got['refusal_ms']):.1f} ms"),
        Row(f"bystander controlAt while {ATTACKERS} costliest queries run", "ms p50 / p99",
            under, pk, "asyncpg primary-key lookup", 1, "served, no 5xx", no_5xx,
            notes=f"alone: {alone['p50_ms']:.2f} / {alone['p99_ms']:.2f} ms; "
            f"bystander queries not answered 200: {len(refused)} of {plan.samples} "
            f"(statuses {sorted(set(refused))}); {got['attack_completed']} attack queries "
            f"completed (statuses {got['attack_statuses']}), {got['attack_dropped']} cut off "
            f"by the request deadline while answering, {got['attack_cpu_s']:.1f} s of server "
            "CPU; RSS "
            f"{got['rss_under_attack_mb'][0]:.0f} → {got['rss_under_attack_mb'][1]:.0f} MB"),
    ]  # fmt: skip


# ---------------------------------------------------------------- report


def _fmt(row: dict[str, Any], figures: dict[str, float]) -> str:
    unit = row["unit"]
    if "p99" in unit:
        return f"{figures['p50_ms']:.2f} / {figures['p99_ms']:.2f}"
    if "p95" in unit:
        return f"{figures['p50_ms']:.2f} / {figures['p95_ms']:.2f}"
    if "wall_ms" in figures:
        return f"{figures['wall_ms']:,.1f}"
    value = figures.get("per_s", figures.get("req_per_s", 0.0))
    return f"{value:,.0f}"


def _ratio(row: dict[str, Any]) -> str:
    ratio = row["ratio"]
    if "wall_ms" in ratio:
        return f"{ratio['wall_ms']:.1f}×"
    if "ms" in row["unit"]:
        keys = ["p50_ms", "p99_ms" if "p99" in row["unit"] else "p95_ms"]
        return " / ".join(f"{ratio[k]:.1f}×" for k in keys if k in ratio)
    return " / ".join(f"{v:.2f}×" for v in ratio.values())


def markdown(report: dict[str, Any]) -> str:
    machine = report["machine"]
    lines = [
        "# Frontline benchmarks",
        "",
        f"Run {report['finished']} by `python -m bench --scale {report['scales_arg']}` on "
        f"{machine['cores']} cores ({machine['platform']}), Python {machine['python']}, "
        f"{machine['postgres']}. Database: {machine['database']}. "
        f"Servers (Frontline and the bare route): {machine.get('server', 'not recorded')}. "
        "Every figure is the median of the runs shown; each baseline was measured in the same "
        "run, against the same database. Latency ratios are Frontline ÷ baseline (higher = "
        "slower); throughput ratios are Frontline ÷ baseline (lower = slower). The machine is "
        "shared and noisy: compare runs of the same day, not single figures.",
        "",
    ]
    for scale in report["scales"]:
        lines += [
            f"## {scale['scale']}: {scale['incidents']:,} incidents, {scale['events']:,} events, "
            f"{scale['places']:,} places, {scale['control_rows']:,} rm.control rows",
            "",
            "| workload | unit | Frontline | raw baseline in the same run | ratio | runs "
            "| target | met |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in scale["rows"]:
            met = {True: "yes", False: "**no**", None: "–"}[row["met"]]
            lines.append(
                f"| {row['workload']} | {row['unit']} | {_fmt(row, row['frontline'])} | "
                f"{_fmt(row, row['baseline'])} ({row['baseline_label']}) | {_ratio(row)} | "
                f"{row['runs']} | {row['target']} | {met} |"
            )
        lines += ["", "Notes:", ""]
        lines += [f"- {row['workload']}: {row['notes']}" for row in scale["rows"] if row["notes"]]
        lines.append("")
    if growth := report.get("control_at_growth"):
        lines += [f"controlAt p95 growth: {growth}", ""]
    return "\n".join(lines)


def _control_at_growth(scales: list[dict[str, Any]]) -> str | None:
    p95 = {
        s["scale"]: r["frontline"]["p95_ms"]
        for s in scales
        for r in s["rows"]
        if r["workload"].startswith("controlAt")
    }
    if "10k" not in p95 or len(p95) < 2:
        return None
    return ", ".join(f"{k} {v / p95['10k']:.2f}× the 10k figure" for k, v in p95.items())


async def _machine(admin: str) -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "postgres": await _fetchval(admin, "SELECT version()"),
        "database": "DATABASE_URL" if os.environ.get("DATABASE_URL") else "embedded",
        "server": _server(),
    }


def _server() -> str:
    from frontline.http_server import event_loop  # noqa: PLC0415

    uvicorn = f"uvicorn {version('uvicorn')}"
    return f"{uvicorn} ({event_loop()} + httptools, bounded heads), access log off"


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--scale",
    default="10k",
    show_default=True,
    help="Comma list of 10k, 100k, 1m (or smoke: a tiny run that only proves it works).",
)
@click.option("--runs", type=int, help="Runs per figure (default 3; 1 for smoke).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=HERE,
    show_default=True,
    help="Where results.md and results.json go.",
)
@click.option("--keep", is_flag=True, help="Keep each scale's database (dropped by default).")
def main(scale: str, runs: int | None, out: Path, keep: bool) -> None:
    """Benchmark Frontline against raw PostgreSQL on a synthetic history.

    Uses DATABASE_URL, or the embedded PostgreSQL under FRONTLINE_DATA_DIR; every scale gets
    a fresh database. Load comes from a separate process over loopback.
    """
    names = [s.strip().lower() for s in scale.split(",") if s.strip()]
    unknown = [n for n in names if n not in SCALES]
    if unknown or not names:
        raise click.BadParameter(f"pick from {', '.join(SCALES)}", param_hint="--scale")
    admin = resolve_dsn(load_settings())
    out.mkdir(parents=True, exist_ok=True)
    log = out / "server.log" if out != HERE else Path("/tmp/frontline-bench-server.log")  # noqa: S108
    machine = asyncio.run(_machine(admin))
    scales = []
    for name in names:
        plan = SCALES[name]
        if runs is not None:
            plan = Plan(**{**vars(plan), "runs": runs})
        scales.append(bench_scale(admin, name, plan, log, keep))
    report = {
        "machine": machine,
        "scales_arg": ",".join(names),
        "finished": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "scales": scales,
        "control_at_growth": _control_at_growth(scales),
    }
    text = markdown(report)
    (out / "results.md").write_text(text)
    (out / "results.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    click.echo("\n" + text)
    click.echo(f"written to {out / 'results.md'} and {out / 'results.json'}")
