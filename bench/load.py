"""The load generator: a separate process that drives a running server over loopback.

`python -m bench.load SPEC_JSON` runs one workload described by a JSON object (its
``workload`` names it; see ``WORKLOADS``) and prints one JSON object on stdout: per-run
figures for Frontline and for its raw-PostgreSQL baseline, both measured from this process
so that both pay the same client-side costs. Started by ``bench.run``; never imported by it.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import websockets

from bench.attack import attack
from bench.measure import latency
from bench.postgraphile import body_for
from bench.synthetic import SPAN, START, actor_slugs, place_slugs

Spec = dict[str, Any]
Result = dict[str, Any]

CONTROL_AT = """query ($place: String!, $asOf: DateTime!) {
  controlAt(place: $place, asOf: $asOf) { status validFrom controllers { slug } }
}"""
CONTROL_MAP = """query ($asOf: DateTime!) { controlMapGeoJson(asOf: $asOf) }"""
SMALL = '{ place(ref: "%s") { slug name kind latitude longitude } }'
MUTATION = """mutation ($incident: IncidentInput!, $details: CaptureInput!) {
  recordCapture(incident: $incident, details: $details) { id position }
}"""
SUBSCRIPTION = "subscription { incidents { cursor node { id } } }"

# A row like the event store's, for the one-INSERT baseline (created by bench.run).
INSERT_ROW = (
    "INSERT INTO bench_scratch.insert_target (originator_id, originator_version, topic, state) "
    "VALUES ($1, 1, $2, $3)"
)
PK_LOOKUP = "SELECT * FROM rm.control WHERE id = $1"


def _times(rng: random.Random, n: int) -> list[str]:
    return [(START + SPAN * rng.random()).isoformat() for _ in range(n)]


async def _post(client: httpx.AsyncClient, query: str, variables: Spec | None = None) -> Any:
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"{response.status_code}: {body}")
    return body["data"]


async def _runs(runs: int, samples: int, call: Callable[[int], Awaitable[object]]) -> list[Spec]:
    await call(0)  # warm up (connections, prepared statements, caches)
    return [asdict(await latency(call, samples)) for _ in range(runs)]


# ---------------------------------------------------------------- read latency


async def control_at(spec: Spec) -> Result:
    rng = random.Random(2)  # noqa: S311 - reproducible sampling
    n = spec["samples"]
    places = [rng.choice(place_slugs(spec["places"])) for _ in range(n)]
    times = _times(rng, n)
    async with httpx.AsyncClient(base_url=spec["url"], timeout=30) as client:
        frontline = await _runs(
            spec["runs"],
            n,
            lambda i: _post(client, CONTROL_AT, {"place": places[i], "asOf": times[i]}),
        )
    conn = await asyncpg.connect(spec["dsn"])
    try:
        top = int(await conn.fetchval("SELECT max(id) FROM rm.control"))
        ids = [rng.randint(1, top) for _ in range(n)]
        baseline = await _runs(spec["runs"], n, lambda i: conn.fetchrow(PK_LOOKUP, ids[i]))
    finally:
        await conn.close()
    return {"frontline": frontline, "baseline": baseline}


class _Capture:
    """Stands in for a connection to learn the SQL a read-model query runs."""

    def __init__(self) -> None:
        self.sql = ""
        self.args: tuple[Any, ...] = ()

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        self.sql, self.args = sql, args
        return []

    async def fetchval(self, sql: str, *args: Any) -> str:
        self.sql, self.args = sql, args
        return ""


async def control_map(spec: Spec) -> Result:
    """The GeoJSON map over HTTP; baseline: the statement it runs (``control_map_geojson``,
    which builds the JSON in PostgreSQL) through asyncpg. ``rows`` also times the plain
    map query's rows (``control_map``'s SQL), the previous baseline."""
    from api.colors import PALETTE  # noqa: PLC0415
    from readmodel.queries import control_map as map_query  # noqa: PLC0415 - heavy import
    from readmodel.queries import control_map_geojson  # noqa: PLC0415

    rng = random.Random(3)  # noqa: S311 - reproducible sampling
    n = spec["samples"]
    times = _times(rng, n)
    async with httpx.AsyncClient(base_url=spec["url"], timeout=30) as client:
        frontline = await _runs(
            spec["runs"], n, lambda i: _post(client, CONTROL_MAP, {"asOf": times[i]})
        )
    statements, geojson = [], []
    for at in times:
        capture = _Capture()
        await map_query(capture, datetime.fromisoformat(at))
        statements.append((capture.sql, capture.args))
        await control_map_geojson(capture, datetime.fromisoformat(at), palette=PALETTE)
        geojson.append((capture.sql, capture.args))
    conn = await asyncpg.connect(spec["dsn"])
    try:
        baseline = await _runs(
            spec["runs"], n, lambda i: conn.fetchval(geojson[i][0], *geojson[i][1])
        )
        rows = await _runs(
            spec["runs"], n, lambda i: conn.fetch(statements[i][0], *statements[i][1])
        )
    finally:
        await conn.close()
    return {"frontline": frontline, "baseline": baseline, "rows": rows}


# ---------------------------------------------------------------- one write


async def mutation(spec: Spec) -> Result:
    rng = random.Random(4)  # noqa: S311 - reproducible sampling
    places, actors = place_slugs(spec["places"]), actor_slugs(spec["actors"])
    now = datetime.now(UTC)
    headers = {"Authorization": f"Bearer {spec['key']}"}

    def variables(i: int) -> Spec:
        by, taken_from = rng.sample(actors, 2)
        return {
            "incident": {
                "occurredAt": (now - timedelta(minutes=i)).isoformat(),
                "places": [rng.choice(places)],
                "sources": [{"outlet": "Bench Wire", "quote": "A sentence of a report."}],
                "idempotencyKey": f"bench-mutation/{uuid4()}",
            },
            "details": {"by": [by], "takenFrom": taken_from},
        }

    async with httpx.AsyncClient(base_url=spec["url"], timeout=30, headers=headers) as client:
        frontline = await _runs(
            spec["runs"], spec["samples"], lambda i: _post(client, MUTATION, variables(i))
        )
    conn = await asyncpg.connect(spec["dsn"])
    state = bytes(300)

    async def insert(_: int) -> None:
        async with conn.transaction():
            await conn.execute(INSERT_ROW, uuid4(), "bench:Recorded", state)

    try:
        baseline = await _runs(spec["runs"], spec["samples"], insert)
    finally:
        await conn.close()
    out: Result = {"frontline": frontline, "baseline": baseline}
    if spec.get("bare_url"):  # the same INSERT behind a bare route, from the same client
        async with httpx.AsyncClient(base_url=spec["bare_url"], timeout=30) as client:

            async def bare_insert(i: int) -> None:
                response = await client.post("/insert", json={"variables": variables(i)})
                response.raise_for_status()

            out["bare_http"] = await _runs(spec["runs"], spec["samples"], bare_insert)
    return out


# ---------------------------------------------------------------- subscriptions


class _Subscribers:
    """``n`` graphql-transport-ws subscriptions to new incidents, timing each arrival."""

    def __init__(self, url: str, n: int) -> None:
        self.url, self.n = url, n
        self.arrived: list[float] = []
        self.all_arrived = asyncio.Event()
        self.sockets: list[Any] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.error: str | None = None

    async def open(self) -> None:
        gate = asyncio.Semaphore(50)

        async def one() -> Any:
            async with gate:
                ws = await websockets.connect(
                    self.url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
                )
                await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
                ack = json.loads(await ws.recv())
                if ack.get("type") != "connection_ack":
                    raise RuntimeError(f"no connection_ack: {ack}")
                await ws.send(
                    json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
                )
                return ws

        self.sockets = list(await asyncio.gather(*(one() for _ in range(self.n))))
        self.tasks = [asyncio.create_task(self._receive(ws)) for ws in self.sockets]

    async def _receive(self, ws: Any) -> None:
        async for raw in ws:
            message = json.loads(raw)
            if message.get("type") != "next" or message["payload"].get("errors"):
                self.error = f"unexpected message: {message}"
                self.all_arrived.set()
                return
            self.arrived.append(time.perf_counter())
            if len(self.arrived) >= self.n:
                self.all_arrived.set()

    def expect(self) -> None:
        self.arrived.clear()
        self.all_arrived.clear()

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)


def _percentiles(times: list[float]) -> Spec:
    ordered = sorted(times)

    def cut(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]

    return {"p50_ms": cut(0.5), "p95_ms": cut(0.95), "p99_ms": cut(0.99), "samples": len(times)}


async def subscribers(spec: Spec) -> Result:
    from domain import commands as c  # noqa: PLC0415
    from domain import details as d  # noqa: PLC0415
    from domain.application import Frontline  # noqa: PLC0415
    from domain.identity import actor_id, place_id  # noqa: PLC0415
    from domain.values import Source, ValidTime  # noqa: PLC0415
    from frontline.database import eventsourcing_env  # noqa: PLC0415 - heavy imports, this only

    app = Frontline(env=eventsourcing_env(spec["dsn"], pool_size=1))
    source = Source(outlet="Bench Wire", quote="A sentence of a report.")
    places, actors = place_slugs(spec["places"]), actor_slugs(spec["actors"])

    def append(i: int) -> None:
        app.execute_batch(
            [
                c.RecordIncident(
                    details=d.Capture(by=(actor_id(actors[i % 2]),)),
                    valid_time=ValidTime(datetime.now(UTC) - timedelta(seconds=1)),
                    places=(place_id(places[i % len(places)]),),
                    sources=(source,),
                )
            ]
        )

    async def timed_append(subs: _Subscribers, i: int) -> list[float]:
        subs.expect()
        start = time.perf_counter()
        await asyncio.to_thread(append, i)
        await asyncio.wait_for(subs.all_arrived.wait(), spec["timeout"])
        if subs.error is not None:
            raise RuntimeError(subs.error)
        return [(t - start) * 1000 for t in subs.arrived]

    out: Result = {"frontline": {}, "baseline": {}}
    try:
        for n in spec["counts"]:
            subs = _Subscribers(spec["ws"], n)
            await subs.open()
            try:
                # The first append proves every subscription is live (a subscription starts
                # "from now", which the server fixes when it receives `subscribe`).
                await timed_append(subs, 0)
                runs = []
                for _ in range(spec["runs"]):
                    times: list[float] = []
                    for i in range(spec["appends"]):
                        times += await timed_append(subs, i + 1)
                        await asyncio.sleep(0.02)
                    runs.append(_percentiles(times))
                out["frontline"][str(n)] = runs
            finally:
                await subs.close()
        out["baseline"] = await _notify_round_trips(spec)
    finally:
        app.close()
    return out


async def _notify_round_trips(spec: Spec) -> list[Spec]:
    listener = await asyncpg.connect(spec["dsn"])
    sender = await asyncpg.connect(spec["dsn"])
    got: asyncio.Queue[float] = asyncio.Queue()
    await listener.add_listener("bench_rtt", lambda *_: got.put_nowait(time.perf_counter()))

    async def round_trip(_: int) -> None:
        await sender.execute("SELECT pg_notify('bench_rtt', '')")
        await asyncio.wait_for(got.get(), 10)

    try:
        samples = max(spec["appends"] * 5, 20)
        return await _runs(spec["runs"], samples, round_trip)
    finally:
        await listener.close()
        await sender.close()


# ---------------------------------------------------------------- throughput


async def throughput(spec: Spec) -> Result:
    """req/s of the same small query with ``clients`` concurrent clients, against the
    Frontline server (GraphQL) and the bare Starlette app (same rows, no GraphQL)."""
    slugs = place_slugs(spec["places"])
    body = json.dumps({"query": SMALL % slugs[7]})
    # (URL, body) by target: Frontline in one process, the bare route, and where the run
    # has them, Frontline with several workers and PostGraphile (its own query, same row).
    targets = {"frontline": (spec["url"] + "/graphql", body),
               "baseline": (spec["bare_url"] + "/graphql", body)}  # fmt: skip
    if spec.get("workers_url"):
        targets["workers"] = (spec["workers_url"] + "/graphql", body)
    if spec.get("peer_url"):
        targets["peer"] = (spec["peer_url"], body_for(slugs[7]))
    async with httpx.AsyncClient(timeout=30) as client:
        for url, sent in targets.values():  # all answer, and with the same row
            response = await client.post(url, content=sent, headers=_JSON)
            if response.status_code != 200 or response.json().get("errors"):
                raise RuntimeError(f"{url}: {response.status_code} {response.text}")
    out: Result = {"tool": "wrk" if shutil.which("wrk") else "httpx"}
    for name in targets:
        out[name] = []
    for _ in range(spec["runs"]):  # interleaved: the machine's moods touch every target
        for name, (url, sent) in targets.items():
            if shutil.which("wrk"):
                rate = _wrk(url, sent, spec["clients"], spec["seconds"])
            else:
                rate = await _httpx_rate(url, sent, spec["clients"], spec["seconds"])
            out[name].append({"req_per_s": rate})
    return out


_JSON = {"Content-Type": "application/json"}
_WRK_SCRIPT = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = %s
"""


def _wrk(url: str, body: str, clients: int, seconds: float) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "post.lua"
        script.write_text(_WRK_SCRIPT % json.dumps(body))
        wrk = shutil.which("wrk") or "wrk"
        argv = [wrk, "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s", "-s", str(script)]
        output = subprocess.run(  # noqa: S603 - our own arguments
            [*argv, url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"wrk saw errors:\n{output}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if found is None:
        raise RuntimeError(f"no rate in wrk output:\n{output}")
    return float(found.group(1))


async def _httpx_rate(url: str, body: str, clients: int, seconds: float) -> float:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    done = 0
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                response = await client.post(url, content=body, headers=_JSON)
                response.raise_for_status()
                done += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return done / (time.perf_counter() - start)


WORKLOADS: dict[str, Callable[[Spec], Awaitable[Result]]] = {
    "control_at": control_at,
    "control_map": control_map,
    "mutation": mutation,
    "subscribers": subscribers,
    "throughput": throughput,
    "attack": attack,
}


def main() -> None:
    spec: Spec = json.loads(sys.argv[1])
    workload = WORKLOADS[spec["workload"]]

    async def run() -> Result:
        return await workload(spec)

    result = asyncio.run(run())
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
