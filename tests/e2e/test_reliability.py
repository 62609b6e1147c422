"""Nothing lost, nothing invented: concurrent writers, racing retries, kill -9 and a database
restart, all over the real API."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from api.auth import Role, create_key
from frontline.embedded import start_embedded_server, stop_embedded_server
from frontline.migrate import migrate
from readmodel.projector import catch_up
from tests.support.graphql_client import ask, assert_no_leak, codes, data, head
from tests.support.sample_server import Server
from tests.support.serving import Spawned, serve_env, spawn_serve

pytestmark = pytest.mark.slow

WRITERS = 16
PER_WRITER = 500
CHUNK = 50  # incidents per recordBatch: single mutations x 8,000 take minutes on 2 cores
READ_MODEL_TABLES = (
    "places", "actors", "incidents", "place_facts", "control", "control_changes", "tracking",
)  # fmt: skip
BATCH_MUTATION = "mutation ($c: [BatchCommand!]!) { recordBatch(commands: $c) { id position } }"
CAPTURE_MUTATION = """mutation ($i: IncidentInput!) {
  recordCapture(incident: $i, details: {by: ["hts"], takenFrom: "syrian-arab-army"}) {
    id position replayed } }"""
PLACES = ("erze", "al-wahshiyya", "kafrtun", "yadgun", "hama")


def capture(
    tag: str, n: int, *, key: str | None = None, places: tuple[str, ...] = PLACES
) -> dict[str, Any]:
    """A recordBatch capture, alternating sides and days so projection rewrites history."""
    by, taken_from = ("hts", "syrian-arab-army") if n % 2 else ("syrian-arab-army", "hts")
    incident: dict[str, Any] = {
        "occurredAt": f"2024-12-{1 + (n * 7) % 9:02d}T{n % 24:02d}:00:00+03:00",
        "places": [places[n % len(places)]],
        "sources": [{"outlet": "Reliability Wire"}],
        "summary": f"{tag} #{n}",
    }
    if key is not None:
        incident["idempotencyKey"] = key
    return {"capture": {"incident": incident, "details": {"by": [by], "takenFrom": taken_from}}}


async def read_models(conn: Any, schema: str = "rm") -> dict[str, list[Any]]:
    """Every read-model row, minus surrogate ids, in a stable order."""
    tables = {}
    for table in READ_MODEL_TABLES:
        rows = await conn.fetch(f"SELECT * FROM {schema}.{table}")
        tables[table] = sorted(
            tuple((k, str(v)) for k, v in dict(row).items() if k != "id") for row in rows
        )
    return tables


async def assert_read_models_equal_a_fresh_rebuild(dsn: str) -> None:
    """Project the whole log into a scratch schema (leaving the server's alone) and compare."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("DROP SCHEMA IF EXISTS rm_check CASCADE")
        await conn.execute("SELECT public.frontline_create_read_models('rm_check')")
        await catch_up(conn, "rm_check")
        live, rebuilt = await read_models(conn), await read_models(conn, "rm_check")
        assert live["tracking"] == rebuilt["tracking"], "the live projection is behind"
        for table in READ_MODEL_TABLES:
            assert live[table] == rebuilt[table], f"rm.{table} differs from a rebuild"
        await conn.execute("DROP SCHEMA rm_check CASCADE")
    finally:
        await conn.close()


async def log_positions(dsn: str) -> tuple[int, int, int]:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT count(*), min(notification_id), max(notification_id) FROM frontline_events"
        )
        return int(row[0]), int(row[1] or 0), int(row[2] or 0)
    finally:
        await conn.close()


def wait_projected(server: Server, position: int, seconds: float = 120) -> float:
    """Wait (bounded) until the server's read models include `position`; the seconds taken."""
    query = f"{{ fresh(position: {position}, timeoutMs: 5000) {{ __typename }} }}"
    started = time.monotonic()
    while True:
        body = ask(server, query)
        if "errors" not in body:
            return time.monotonic() - started
        assert codes(body) == ["STALE"], body
        assert time.monotonic() - started < seconds, f"projection stuck: {body}"


# -- concurrency ------------------------------------------------------------------------------


def writer_places(w: int) -> tuple[str, ...]:
    """Each writer reports on places of its own (100 incidents each) and one shared place."""
    return (*(f"reliability-{w}-{k}" for k in range(5)), "hama")


async def test_sixteen_concurrent_writers_lose_and_duplicate_nothing(server: Server) -> None:
    register = [
        {
            "registerPlace": {
                "slug": slug, "name": slug, "kind": "TOWN",
                "latitude": 35.0, "longitude": 36.0, "country": "Syria",
            }
        }
        for w in range(WRITERS)
        for slug in writer_places(w)[:-1]
    ]  # fmt: skip
    data(server, BATCH_MUTATION, server.writer_key, c=register)
    before = head(server)

    async def writer(client: httpx.AsyncClient, w: int) -> list[int]:
        positions = []
        for start in range(0, PER_WRITER, CHUNK):
            commands = [
                capture(f"writer {w}", n, places=writer_places(w))
                for n in range(start, start + CHUNK)
            ]
            response = await client.post(
                server.graphql,
                json={"query": BATCH_MUTATION, "variables": {"c": commands}},
                headers=server.headers(server.writer_key),
            )
            assert response.status_code == 200, response.text
            assert "errors" not in response.json(), response.text
            positions += [p["position"] for p in response.json()["data"]["recordBatch"]]
        return positions

    started = time.monotonic()
    limits = httpx.Limits(max_connections=WRITERS)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        results = await asyncio.gather(*(writer(client, w) for w in range(WRITERS)))
    elapsed = time.monotonic() - started
    print(f"{WRITERS * PER_WRITER} incidents by {WRITERS} writers in {elapsed:.1f}s")

    positions = sorted(p for result in results for p in result)
    total = WRITERS * PER_WRITER
    # Every acknowledged incident has its own position, and together they fill the log
    # after `before` exactly: no gap, no duplicate, nothing from elsewhere.
    assert positions == list(range(before + 1, before + total + 1))
    count, first, last = await log_positions(server.dsn)
    assert (count, first, last) == (before + total, 1, before + total)

    projected = wait_projected(server, last)
    print(f"projected {total} more incidents {projected:.1f}s after the last write")
    conn = await asyncpg.connect(server.dsn)
    try:
        recorded = await conn.fetchval(
            "SELECT count(*) FROM rm.incidents WHERE summary LIKE 'writer %'"
        )
        assert recorded == total
    finally:
        await conn.close()
    await assert_read_models_equal_a_fresh_rebuild(server.dsn)


async def test_one_idempotency_key_sent_fifty_times_at_once_records_one_incident(
    server: Server,
) -> None:
    before = head(server)
    incident = capture("idempotent", 1, key="reliability/fifty-at-once")["capture"]["incident"]
    request = {"query": CAPTURE_MUTATION, "variables": {"i": incident}}

    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=50)) as client:
        responses = await asyncio.gather(
            *(
                client.post(server.graphql, json=request, headers=server.headers(server.writer_key))
                for _ in range(50)
            )
        )
    payloads = []
    for response in responses:
        assert response.status_code == 200, response.text
        assert "errors" not in response.json(), response.text
        payloads.append(response.json()["data"]["recordCapture"])
    assert len({p["id"] for p in payloads}) == 1
    assert len({p["position"] for p in payloads}) == 1
    assert sorted(p["replayed"] for p in payloads) == [False] + [True] * 49
    assert head(server) == before + 1


# -- crashes ----------------------------------------------------------------------------------


@contextmanager
def serving(dsn: str, log: Path, keys: tuple[str, str], **extra: str) -> Iterator[Served]:
    """`frontline serve` on an existing database; stopped on exit (unless a test killed it)."""
    with spawn_serve(serve_env(DATABASE_URL=dsn, **extra), log) as spawned:
        server = Server(spawned.url, dsn, keys[0], keys[1], keys[1], log)
        yield Served(server, spawned)


@dataclass(frozen=True)
class Served:
    server: Server
    spawned: Spawned

    @property
    def process(self) -> subprocess.Popen[bytes]:
        return self.spawned.process

    def wait_healthy(self, seconds: float = 60) -> None:
        self.spawned.wait_healthy(seconds)

    def kill(self) -> None:
        self.spawned.kill()


async def _keys(dsn: str) -> tuple[str, str]:
    conn = await asyncpg.connect(dsn)
    try:
        return (
            await create_key(conn, "crash writer", Role.WRITER),
            await create_key(conn, "crash reader", Role.READER),
        )
    finally:
        await conn.close()


async def _tag_counts(dsn: str, batches: int) -> list[int]:
    """How many incidents of each batch the log holds (counted in the log itself)."""
    conn = await asyncpg.connect(dsn)
    try:
        return [
            await conn.fetchval(
                "SELECT count(*) FROM frontline_events WHERE convert_from(state, 'UTF8') LIKE $1",
                f"%crash batch {b} #%",
            )
            for b in range(batches)
        ]
    finally:
        await conn.close()


CRASH_PLACES = tuple(f"crash-{k}" for k in range(40))


def crash_batch(b: int) -> list[dict[str, Any]]:
    """1,000 captures over 40 places, reported in valid-time order (cheap to project)."""
    batch = [
        capture(f"crash batch {b}", n, key=f"crash/{b}/{n}", places=CRASH_PLACES)
        for n in range(1000)
    ]
    for n, command in enumerate(batch):
        at = datetime(2024, 12, 1, tzinfo=UTC) + timedelta(minutes=b * 1000 + n)
        command["capture"]["incident"]["occurredAt"] = at.isoformat()
    return batch


def register_crash_places(server: Server) -> None:
    register = [
        {
            "registerPlace": {
                "slug": slug, "name": slug, "kind": "VILLAGE",
                "latitude": 35.0, "longitude": 36.0, "country": "Syria",
            }
        }
        for slug in CRASH_PLACES
    ]  # fmt: skip
    data(server, BATCH_MUTATION, server.writer_key, c=register)


def test_kill_9_during_a_batch_import_and_during_projection_loses_and_duplicates_nothing(
    database_dsn: str, tmp_path: Path
) -> None:
    dsn, log = database_dsn, tmp_path / "serve.log"
    keys = asyncio.run(_keys(dsn))
    batches = 4
    acknowledged: list[int] = []
    sending = threading.Event()

    def import_batches(server: Server) -> None:
        with httpx.Client(timeout=60) as client:
            for b in range(batches):
                if len(acknowledged) == 2:
                    sending.set()
                request = {"query": BATCH_MUTATION, "variables": {"c": crash_batch(b)}}
                try:
                    response = client.post(
                        server.graphql, json=request, headers=server.headers(server.writer_key)
                    )
                except httpx.TransportError:
                    return  # the server died under us
                assert "errors" not in response.json(), response.text
                acknowledged.append(b)

    # 1. The projector is off, so the batches pile up as a backlog for step 2.
    with serving(dsn, log, keys, FRONTLINE_RUN_PROJECTOR="false") as served:
        register_crash_places(served.server)
        importer = threading.Thread(target=import_batches, args=(served.server,))
        importer.start()
        assert sending.wait(120), served.server.log.read_text()
        time.sleep(0.3)  # a 1,000-incident batch takes longer than this to record
        served.kill()
        importer.join(60)
    counts = asyncio.run(_tag_counts(dsn, batches))
    assert len(acknowledged) >= 2
    for b in range(batches):
        # All or nothing per batch; and every acknowledged batch is there in full.
        assert counts[b] in (0, 1000), f"batch {b}: {counts[b]} of 1000 recorded"
        if b in acknowledged:
            assert counts[b] == 1000
    count, first, last = asyncio.run(log_positions(dsn))
    assert (first, last) == (1, count)

    # 2. Kill the projector's process mid-backlog.
    with serving(dsn, log, keys) as served:
        killed_at = asyncio.run(_kill_mid_projection(served, last))
    assert 0 < killed_at < last

    # 3. Restart; the client retries every batch with the same idempotency keys.
    with serving(dsn, log, keys) as served:
        for b in range(batches):
            request = {"query": BATCH_MUTATION, "variables": {"c": crash_batch(b)}}
            response = httpx.post(
                served.server.graphql,
                json=request,
                headers=served.server.headers(served.server.writer_key),
                timeout=60,
            )
            assert "errors" not in response.json(), response.text
        final = head(served.server)
        wait_projected(served.server, final)
    assert asyncio.run(_tag_counts(dsn, batches)) == [1000] * batches
    count, first, last = asyncio.run(log_positions(dsn))
    assert (count, first, last) == (final, 1, final)
    asyncio.run(assert_read_models_equal_a_fresh_rebuild(dsn))


async def _kill_mid_projection(served: Served, head_position: int) -> int:
    conn = await asyncpg.connect(served.server.dsn)
    try:
        deadline = time.monotonic() + 60
        start = await conn.fetchval("SELECT position FROM rm.tracking")
        position = start
        while position == start and time.monotonic() < deadline:
            position = await conn.fetchval("SELECT position FROM rm.tracking")
            await asyncio.sleep(0.005)
        served.kill()
        killed_at: int = await conn.fetchval("SELECT position FROM rm.tracking")
        # The committed projection is whole: every incident up to its position, nothing after.
        recorded = await conn.fetchval(
            "SELECT count(*) FROM frontline_events WHERE notification_id <= $1 "
            "AND topic LIKE '%Incident.Recorded'",
            killed_at,
        )
        assert await conn.fetchval("SELECT count(*) FROM rm.incidents") == recorded
        return killed_at
    finally:
        await conn.close()


# -- the database goes away -------------------------------------------------------------------


@pytest.fixture
def own_postgres() -> Iterator[Path]:
    """A PostgreSQL server of this test's own, so stopping it disturbs no one else."""
    # Not under pytest's tmp_path: the unix socket path must stay short.
    data_dir = Path(tempfile.mkdtemp(prefix="frontline-pgrestart-"))
    try:
        yield data_dir
    finally:
        stop_embedded_server(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


QUERY = '{ controlAt(place: "hama") { status } }'


def own_database(data_dir: Path) -> tuple[str, tuple[str, str]]:
    """Start an embedded PostgreSQL of the test's own, migrated, with writer and reader keys."""
    dsn = start_embedded_server(data_dir)
    asyncio.run(migrate(dsn))
    return dsn, asyncio.run(_keys(dsn))


def restart_embedded(data_dir: Path) -> str:
    """Start the embedded PostgreSQL under ``data_dir`` again; its DSN. In a new process: the
    embedded package caches its server handle per process, and would not notice that this one
    was stopped behind its back."""
    restarted = subprocess.run(
        [sys.executable, "-m", "frontline", "db-url"],
        env=serve_env(FRONTLINE_DATA_DIR=str(data_dir)),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return restarted.stdout.strip()


def test_requests_fail_cleanly_while_postgresql_is_down_and_succeed_after(
    own_postgres: Path, tmp_path: Path
) -> None:
    dsn, keys = own_database(own_postgres)
    with serving(dsn, tmp_path / "serve.log", keys) as served:
        server = served.server
        wait_projected(server, head(server))  # the sample
        assert data(server, QUERY)["controlAt"]["status"] == "HELD"

        stop_embedded_server(own_postgres)
        for request in (
            {"query": QUERY},
            {
                "query": CAPTURE_MUTATION,
                "variables": {"i": capture("down", 1)["capture"]["incident"]},
            },
        ):
            started = time.monotonic()
            response = httpx.post(
                server.graphql, json=request, headers=server.headers(server.writer_key), timeout=30
            )
            assert time.monotonic() - started < 20, "a request hung while the database was down"
            assert_no_leak(response.text)
            if response.status_code == 200:
                found = codes(response.json())
                assert found, response.text
                assert all(found), response.text
            else:
                assert response.status_code == 503, response.text
        assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 503
        assert served.process.poll() is None

        assert restart_embedded(own_postgres) == dsn
        deadline = time.monotonic() + 30
        while httpx.get(f"{server.url}/healthz", timeout=10).status_code != 200:
            assert time.monotonic() < deadline, "the API never saw the database come back"
            time.sleep(0.2)
        # Reads, writes and the projector all work again.
        assert data(server, QUERY)["controlAt"]["status"] == "HELD"
        written = data(
            server,
            CAPTURE_MUTATION,
            server.writer_key,
            i=capture("after restart", 1)["capture"]["incident"],
        )["recordCapture"]
        wait_projected(server, written["position"])


class Traffic:
    """Writers (keyed captures) and a reader hammering the API from threads, recording every
    answer: what a restart looks like to clients that keep working through it."""

    def __init__(self, server: Server, writers: int = 3) -> None:
        self.server = server
        self.stop = threading.Event()
        self.failures: list[str] = []  # anything but a clean answer, a coded error or a 503
        self.unconfirmed: dict[str, dict[str, Any]] = {}  # key -> incident, to retry
        self.confirmed: set[str] = set()
        self.answers = 0
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._write, args=(w,)) for w in range(writers)]
        self._threads.append(threading.Thread(target=self._read))

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(60)

    def _judge(self, response: httpx.Response) -> bool:
        """Whether the request succeeded; a failure that is not clean is recorded."""
        with self._lock:
            self.answers += 1
        if response.status_code == 503:
            return False
        body = response.json() if response.status_code == 200 else None
        if body is None or "INTERNAL_SERVER_ERROR" in response.text:
            self.failures.append(f"{response.status_code}: {response.text[:200]}")
            return False
        if body.get("errors"):
            if not all(codes(body)):
                self.failures.append(response.text[:200])
            return False
        return True

    def _write(self, writer: int) -> None:
        with httpx.Client(timeout=30, headers=self.server.headers(self.server.writer_key)) as c:
            n = 0
            while not self.stop.is_set():
                n += 1
                key = f"restart/{writer}/{n}"
                incident = capture(f"restart {writer}", n, key=key)["capture"]["incident"]
                variables = {"i": incident}
                with contextlib.suppress(httpx.TransportError):
                    self.unconfirmed[key] = incident
                    response = c.post(
                        self.server.graphql,
                        json={"query": CAPTURE_MUTATION, "variables": variables},
                    )
                    if self._judge(response):
                        self.confirmed.add(key)
                        del self.unconfirmed[key]
                time.sleep(0.02)

    def _read(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self.stop.is_set():
                with contextlib.suppress(httpx.TransportError):
                    self._judge(client.post(self.server.graphql, json={"query": QUERY}))
                time.sleep(0.02)


def test_clients_working_through_a_postgresql_restart_get_clean_errors_and_lose_nothing(
    own_postgres: Path, tmp_path: Path
) -> None:
    """Connections the restart left in the pool used to surface as bare 500s and
    INTERNAL_SERVER_ERROR (asyncpg's InternalClientError); now they are 503 / UNAVAILABLE.
    Writes left unconfirmed are retried with their idempotency keys, as a client would."""
    dsn, keys = own_database(own_postgres)
    with serving(dsn, tmp_path / "serve.log", keys) as served:
        server = served.server
        with Traffic(server) as traffic:
            time.sleep(2)
            stop_embedded_server(own_postgres)
            time.sleep(2)
            restart_embedded(own_postgres)
            served.wait_healthy()
            time.sleep(3)
        assert traffic.failures == []
        for key, incident in traffic.unconfirmed.items():
            written = data(server, CAPTURE_MUTATION, server.writer_key, i=incident)
            assert written["recordCapture"]["id"], key
        last = head(server)
        wait_projected(server, last)
    sent = traffic.confirmed | set(traffic.unconfirmed)
    assert traffic.answers > 100
    assert len(sent) > 50
    by_summary = asyncio.run(_summaries(dsn, "restart "))
    assert sorted(by_summary) == sorted(f"restart {k[8:].replace('/', ' #', 1)}" for k in sent)


async def _summaries(dsn: str, prefix: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT summary FROM rm.incidents WHERE summary LIKE $1 ORDER BY 1", prefix + "%"
        )
        return [r[0] for r in rows]
    finally:
        await conn.close()


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:  # fields: state, ppid, ...
                found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_projector_process_dies_with_a_killed_server(database_dsn: str, tmp_path: Path) -> None:
    """`serve` projects in a child process (frontline/projecting.py); after a kill -9 of the server
    it must not keep projecting on its own."""
    keys = asyncio.run(_keys(database_dsn))
    with serving(database_dsn, tmp_path / "serve.log", keys) as served:
        written = data(
            served.server, CAPTURE_MUTATION, served.server.writer_key,
            i=capture("projected by the child", 1)["capture"]["incident"],
        )["recordCapture"]  # fmt: skip
        wait_projected(served.server, written["position"])  # the child projects
        children = _children(served.process.pid)
        assert children, "serve started no projector process"
        served.kill()
        deadline = time.monotonic() + 10
        while any(_alive(c) for c in children) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert not any(_alive(c) for c in children), "the projector outlived the server"
