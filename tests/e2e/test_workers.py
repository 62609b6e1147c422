"""`frontline serve --workers 2` (frontline.workers): two API processes on one port, one
projector; subscribers on either worker get every write; a killed worker is replaced; stopping
`serve` stops them all."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, aclosing, asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from tests.support.cli import run_frontline
from tests.support.databases import temporary_database
from tests.support.sample_server import Server, _create_keys, _wait_until_projected
from tests.support.serving import Spawned, serve_env, spawn_serve

pytestmark = pytest.mark.slow

WAIT = 15.0
CLASHES = """subscription ($filter: IncidentFilter) {
  incidents(filter: $filter) { cursor node { summary } } }"""


@pytest.fixture(scope="module")
def served(
    postgres_dsn: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Spawned]]:
    log = tmp_path_factory.mktemp("workers") / "serve.log"
    with temporary_database(postgres_dsn, prefix="e2e", migrated=True) as dsn:
        reader, writer, admin = asyncio.run(_create_keys(dsn))
        server = Server("", dsn, writer, reader, admin, log)
        env = serve_env(DATABASE_URL=dsn, FRONTLINE_LOAD_SAMPLE="true", FRONTLINE_WORKERS="2")

        def ready(spawned: Spawned) -> None:
            _wait_until_projected(replace(server, url=spawned.url), spawned)

        with spawn_serve(env, log, ready=ready) as spawned:
            yield replace(server, url=spawned.url), spawned


def health_by_process(server: Server, tries: int = 200) -> dict[int, dict[str, Any]]:
    """/healthz over new connections, by the pid that answered: until both workers have
    (or ``tries`` connections)."""
    seen: dict[int, dict[str, Any]] = {}
    for _ in range(tries):
        with httpx.Client(timeout=5) as client:  # a new connection each time
            body = client.get(f"{server.url}/healthz").json()
        seen[body["process"]] = body
        if len(seen) == 2:
            break
    return seen


def children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def test_two_worker_processes_answer_on_one_port(served: tuple[Server, Spawned]) -> None:
    server, spawned = served
    pids = set(health_by_process(server))
    assert len(pids) == 2
    assert spawned.process.pid not in pids
    assert pids <= children(spawned.process.pid)


@asynccontextmanager
async def subscription(server: Server, actor: str) -> AsyncIterator[AsyncIterator[Any]]:
    transport = WebsocketsTransport(
        url=server.ws, subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL]
    )
    async with Client(transport=transport) as session:
        request = GraphQLRequest(CLASHES, variable_values={"filter": {"actor": actor}})
        async with aclosing(session.subscribe(request)) as stream:
            yield stream


async def _post(server: Server, query: str, **variables: Any) -> Any:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            server.graphql,
            json={"query": query, "variables": variables},
            headers=server.headers(server.writer_key),
        )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def test_subscribers_on_both_workers_receive_a_write_made_through_either(
    served: tuple[Server, Spawned],
) -> None:
    server, _ = served
    actor = f"w-{uuid4().hex[:8]}"
    await _post(
        server,
        "mutation ($a: RegisterActorInput!) { registerActor(input: $a) { position } }",
        a={"slug": actor, "name": actor, "kind": "ARMED_GROUP"},
    )
    async with AsyncExitStack() as stack:
        streams, pending = [], []
        # Open subscriptions until each worker serves some (which one a socket lands on is
        # the kernel's choice).
        for _ in range(40):
            streams.append(await stack.enter_async_context(subscription(server, actor)))
            pending.append(asyncio.ensure_future(anext(streams[-1])))  # subscribes
            await asyncio.sleep(0.2)
            counts = {p: _subscribers(h) for p, h in health_by_process(server).items()}
            if len(streams) >= 4 and len(counts) == 2 and all(counts.values()):
                break
        assert len(counts) == 2, counts
        assert all(counts.values()), counts
        for n in range(3):  # each write lands on whichever worker its connection reaches
            await _post(
                server,
                """mutation ($i: IncidentInput!, $d: ClashInput!) {
                     recordClash(incident: $i, details: $d) { position } }""",
                i={
                    "occurredAt": datetime.now(UTC).isoformat(),
                    "places": ["hama"],
                    "sources": [{"outlet": "e2e"}],
                    "summary": f"clash {n}",
                    "idempotencyKey": f"e2e-workers-{uuid4()}",
                },
                d={"parties": [actor, "syrian-arab-army"]},
            )
        firsts = await asyncio.wait_for(asyncio.gather(*pending), WAIT)
        rest = [[await asyncio.wait_for(anext(s), WAIT) for _ in range(2)] for s in streams]
    for first, more in zip(firsts, rest, strict=True):
        summaries = [item["incidents"]["node"]["summary"] for item in [first, *more]]
        assert summaries == ["clash 0", "clash 1", "clash 2"]


def _subscribers(health: dict[str, Any]) -> int:
    """Subscriptions the answering process serves: streams of their own, and shared ones'."""
    subscriptions = health["subscriptions"]
    return int(subscriptions["streams"]) + int(subscriptions["sharedMembers"])


def test_a_killed_worker_is_replaced_and_the_port_keeps_answering(
    served: tuple[Server, Spawned],
) -> None:
    server, spawned = served
    before = set(health_by_process(server))
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + WAIT
    now: set[int] = set()
    while time.monotonic() < deadline:
        spawned.check_running()
        try:
            now = set(health_by_process(server, tries=40))
        except httpx.TransportError:
            continue
        if len(now) == 2 and victim not in now:
            break
        time.sleep(0.2)
    assert len(now) == 2, (before, now)
    assert victim not in now, (before, now)
    body = httpx.post(server.graphql, json={"query": '{ place(ref: "hama") { slug } }'}).json()
    assert body == {"data": {"place": {"slug": "hama"}}}


def test_stopping_serve_stops_its_workers_and_its_projector(
    postgres_dsn: str, tmp_path: Path
) -> None:
    with temporary_database(postgres_dsn, prefix="e2e", migrated=True) as dsn:
        env = serve_env(DATABASE_URL=dsn, FRONTLINE_LOAD_SAMPLE="false", FRONTLINE_WORKERS="2")
        with spawn_serve(env, tmp_path / "serve.log") as spawned:
            deadline = time.monotonic() + WAIT
            while len(children(spawned.process.pid)) < 3 and time.monotonic() < deadline:
                time.sleep(0.1)
            family = children(spawned.process.pid)
            assert len(family) == 3  # two workers and the projector
            spawned.process.send_signal(signal.SIGINT)
            assert spawned.process.wait(timeout=30) == 0
        for pid in family:
            assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _projector_of(parent: int) -> int | None:
    """The `frontline project` child of ``parent``, if it has one."""
    for pid in children(parent):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"project" in argv:
            return pid
    return None


def test_a_killed_projector_is_replaced(served: tuple[Server, Spawned]) -> None:
    server, spawned = served
    victim = _projector_of(spawned.process.pid)
    assert victim is not None
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + WAIT
    replacement = None
    while time.monotonic() < deadline:
        spawned.check_running()
        replacement = _projector_of(spawned.process.pid)
        if replacement not in (None, victim):
            break
        time.sleep(0.2)
    assert replacement not in (None, victim)
    # It projects: a write made now is read back fresh (STALE if nothing projected it).
    slug = f"p-{uuid4().hex[:8]}"
    written = httpx.post(
        server.graphql,
        json={
            "query": "mutation ($a: RegisterActorInput!) { registerActor(input: $a) { position } }",
            "variables": {"a": {"slug": slug, "name": slug, "kind": "ARMED_GROUP"}},
        },
        headers=server.headers(server.writer_key),
        timeout=15,
    ).json()
    position = written["data"]["registerActor"]["position"]
    query = (
        f'{{ fresh(position: {position}, timeoutMs: 10000) {{ actor(ref: "{slug}") {{ slug }} }} }}'
    )
    body = httpx.post(server.graphql, json={"query": query}, timeout=15).json()
    assert body == {"data": {"fresh": {"actor": {"slug": slug}}}}


def test_workers_without_a_projector_when_told_so(postgres_dsn: str, tmp_path: Path) -> None:
    with temporary_database(postgres_dsn, prefix="e2e", migrated=True) as dsn:
        env = serve_env(
            DATABASE_URL=dsn,
            FRONTLINE_LOAD_SAMPLE="false",
            FRONTLINE_WORKERS="2",
            FRONTLINE_RUN_PROJECTOR="false",
        )
        with spawn_serve(env, tmp_path / "serve.log") as spawned:
            deadline = time.monotonic() + WAIT
            while len(children(spawned.process.pid)) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(1.0)  # a projector, were one started, would be there by now
            assert len(children(spawned.process.pid)) == 2
            assert _projector_of(spawned.process.pid) is None


@pytest.mark.parametrize("workers", ["0", "-2", "65"])
def test_a_worker_count_out_of_range_is_refused_before_anything_starts(
    workers: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    done = run_frontline(
        "serve", FRONTLINE_WORKERS=workers, FRONTLINE_DATA_DIR=str(data), timeout=60
    )
    assert done.returncode == 2
    assert f"FRONTLINE_WORKERS must be 1 to 64, not {workers}" in done.stderr
    assert not data.exists()  # no embedded server was made
