"""Several `frontline serve` processes on one PostgreSQL, as on several machines behind a load
balancer: each runs a projector, one leads (the advisory lock) and the others stand by; a
killed leader is replaced; subscribers on any process get every incident once, in order; and
the clients of a killed process resume on another from their cursors, missing nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, ExitStack, aclosing, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from api.metrics import database_figures
from readmodel.events import HEAD
from readmodel.projector import LOCK_KEY, projected_position
from readmodel.rebuild import rebuild
from tests.support.backlog import INCIDENTS, record_backlog
from tests.support.databases import temporary_database
from tests.support.sample_server import _create_keys
from tests.support.serving import Spawned, serve_env, spawn_serve

pytestmark = pytest.mark.slow

WAIT = 60.0
FEED = """subscription ($after: String, $filter: IncidentFilter) {
  incidents(after: $after, filter: $filter) { cursor node { summary } } }"""
CONTROL = "SELECT * FROM rm.control ORDER BY place_id, known_from, valid_from NULLS FIRST"


def ws(url: str) -> str:
    return url.replace("http://", "ws://") + "/graphql"


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


@pytest.fixture
def two_servers(postgres_dsn: str, tmp_path: Path) -> Iterator[tuple[str, str, Spawned, Spawned]]:
    """Two `frontline serve` on one database, each with its projector: the dsn, a writer key."""
    with temporary_database(postgres_dsn, prefix="e2e", migrated=True) as dsn, ExitStack() as stack:
        _, writer, _ = asyncio.run(_create_keys(dsn))
        env = serve_env(DATABASE_URL=dsn, FRONTLINE_LOAD_SAMPLE="false")
        first = stack.enter_context(spawn_serve(env, tmp_path / "first.log"))
        second = stack.enter_context(spawn_serve(env, tmp_path / "second.log"))
        yield dsn, writer, first, second


async def leader_now(conn: Any) -> tuple[int | None, int]:
    """The pid in the projector leader's connection name, and the projected position, read
    from the database as they are now (api.metrics' own query, uncached)."""
    figures = await database_figures(conn)
    name = figures.leader
    pid = int(name.rsplit(":", 1)[1]) if name and name.startswith("frontline-projector") else None
    return pid, figures.projected


def test_a_standby_projector_takes_over_when_the_leader_is_killed_mid_backlog(
    postgres_dsn: str, tmp_path: Path
) -> None:
    """The backlog is written first and the projector's lock held by the test until both
    servers are up, so the kill lands while the leader is projecting it."""
    with temporary_database(postgres_dsn, prefix="e2e", migrated=True) as dsn, ExitStack() as stack:
        head = record_backlog(dsn)
        asyncio.run(_take_over(dsn, head, stack, tmp_path))


async def _take_over(dsn: str, head: int, stack: ExitStack, tmp_path: Path) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY)
        env = serve_env(DATABASE_URL=dsn, FRONTLINE_LOAD_SAMPLE="false")
        servers = [stack.enter_context(spawn_serve(env, tmp_path / f"{n}.log")) for n in range(2)]
        assert await projected_position(conn) == 0  # both stand by behind the test
        await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)

        deadline, old, position = time.monotonic() + WAIT, None, 0
        while (old is None or position == 0) and time.monotonic() < deadline:
            old, position = await leader_now(conn)
            await asyncio.sleep(0.005)
        assert old is not None, "no projector took the lock"
        os.kill(old, signal.SIGKILL)
        killed = time.monotonic()
        killed_at = await projected_position(conn)
        assert 0 < killed_at < head, "the kill should land mid-backlog"
        standing_by = next(s for s in servers if s.process.pid != parent_of(old))

        new = None
        while new in (None, old):
            assert time.monotonic() - killed < 10, "no standby took over within 10 s"
            await asyncio.sleep(0.05)
            new, _ = await leader_now(conn)
        assert new is not None
        assert parent_of(new) == standing_by.process.pid
        while await projected_position(conn) < head:
            assert time.monotonic() - killed < WAIT, "the new leader did not catch up"
            await asyncio.sleep(0.1)
        # Nothing lost, nothing applied twice: what the two leaders built is a rebuild's.
        assert await conn.fetchval("SELECT count(*) FROM rm.incidents") == INCIDENTS
        for server in servers:
            server.process.send_signal(signal.SIGINT)
            server.process.wait(30)
        projected = await conn.fetch(CONTROL)
        await rebuild(conn)
        rebuilt = await conn.fetch(CONTROL)
        strip = lambda rows: [{k: v for k, v in dict(r).items() if k != "id"} for r in rows]  # noqa: E731
        assert strip(projected) == strip(rebuilt)
    finally:
        await conn.close()


# -- subscribers over several processes ---------------------------------------------------------


@asynccontextmanager
async def feed(url: str, actor: str, after: str | None = None) -> AsyncIterator[AsyncIterator[Any]]:
    transport = WebsocketsTransport(
        url=ws(url), subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL]
    )
    async with Client(transport=transport) as session:
        variables = {"after": after, "filter": {"actor": actor}}
        request = GraphQLRequest(FEED, variable_values=variables)
        async with aclosing(session.subscribe(request)) as stream:
            yield stream


async def post(url: str, key: str, query: str, **variables: Any) -> Any:
    async with httpx.AsyncClient(timeout=15) as client:
        response = await client.post(
            f"{url}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {key}"},
        )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def setup_actor(url: str, key: str) -> str:
    """An actor of its own (the feed's filter) and the other party of its clashes."""
    actor = f"f-{uuid4().hex[:8]}"
    mutation = "mutation ($a: RegisterActorInput!) { registerActor(input: $a) { position } }"
    for slug in (actor, f"{actor}-foe"):
        await post(url, key, mutation, a={"slug": slug, "name": slug, "kind": "ARMED_GROUP"})
    place = "mutation ($p: RegisterPlaceInput!) { registerPlace(input: $p) { position } }"
    await post(url, key, place, p={"slug": "failover-town", "name": "Failover Town",
                                   "kind": "TOWN", "latitude": 35.1, "longitude": 36.7,
                                   "country": "Syria"})  # fmt: skip
    return actor


async def write_clashes(url: str, key: str, actor: str, names: list[str]) -> None:
    """One writer: a clash per name, one at a time."""
    for name in names:
        await post(
            url, key,
            """mutation ($i: IncidentInput!, $d: ClashInput!) {
                 recordClash(incident: $i, details: $d) { position } }""",
            i={"occurredAt": datetime.now(UTC).isoformat(), "places": ["failover-town"],
               "sources": [{"outlet": "e2e"}], "summary": name,
               "idempotencyKey": f"failover-{name}-{uuid4()}"},
            d={"parties": [actor, f"{actor}-foe"]},
        )  # fmt: skip


async def log_head(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval(HEAD))
    finally:
        await conn.close()


async def in_log_order(dsn: str, actor: str) -> list[str]:
    """The summaries of the actor's clashes in the order the log holds them."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT i.summary FROM rm.incidents AS i JOIN rm.actors AS a ON a.id = ANY(i.actor_ids)"
            " WHERE a.slug = $1 ORDER BY i.recorded_position",
            actor,
        )
        return [r["summary"] for r in rows]
    finally:
        await conn.close()


async def test_clients_of_a_killed_api_process_resume_on_another_missing_nothing(
    two_servers: tuple[str, str, Spawned, Spawned],
) -> None:
    """Writers keep writing through one process; a subscriber of the other sees it die
    (kill -9, its projector with it) and resumes on the survivor from its last cursor."""
    dsn, key, doomed, survivor = two_servers
    actor = await setup_actor(survivor.url, key)
    names = [f"{w}-{n}" for n in range(15) for w in ("a", "b")]
    got: list[str] = []
    cursor = None
    start = str(await log_head(dsn))  # subscribed from here: no race with the writers
    async with feed(doomed.url, actor, after=start) as stream:
        first = asyncio.ensure_future(anext(stream))
        writers = asyncio.gather(
            write_clashes(survivor.url, key, actor, [n for n in names if n.startswith("a")]),
            write_clashes(survivor.url, key, actor, [n for n in names if n.startswith("b")]),
        )
        item = await asyncio.wait_for(first, WAIT)
        while True:
            got.append(item["incidents"]["node"]["summary"])
            cursor = item["incidents"]["cursor"]
            if len(got) == 5:
                os.kill(doomed.process.pid, signal.SIGKILL)
            try:
                item = await asyncio.wait_for(anext(stream), WAIT)
            except Exception:  # the process died under the socket
                break
    assert 5 <= len(got) < len(names), "the kill should land mid-stream"
    async with feed(survivor.url, actor, after=cursor) as resumed:
        while len(got) < len(names):
            item = await asyncio.wait_for(anext(resumed), WAIT)
            got.append(item["incidents"]["node"]["summary"])
    await writers
    assert got == await in_log_order(dsn, actor)
    assert sorted(got) == sorted(names)  # each once


@pytest.fixture
def three_servers(postgres_dsn: str, tmp_path: Path) -> Iterator[tuple[str, str, list[Spawned]]]:
    with temporary_database(postgres_dsn, prefix="e2e", migrated=True) as dsn, ExitStack() as stack:
        _, writer, _ = asyncio.run(_create_keys(dsn))
        env = serve_env(DATABASE_URL=dsn, FRONTLINE_LOAD_SAMPLE="false")
        servers = [stack.enter_context(spawn_serve(env, tmp_path / f"{n}.log")) for n in range(3)]
        yield dsn, writer, servers


async def test_subscribers_on_three_processes_get_every_incident_of_concurrent_writers(
    three_servers: tuple[str, str, list[Spawned]],
) -> None:
    dsn, key, servers = three_servers
    actor = await setup_actor(servers[0].url, key)
    names = [f"{w}-{n}" for n in range(10) for w in ("a", "b", "c")]
    async with AsyncExitStack() as stack:
        streams = []
        start = str(await log_head(dsn))  # subscribed from here: no race with the writers
        for server in servers:  # two subscribers on each process
            for _ in range(2):
                streams.append(
                    await stack.enter_async_context(feed(server.url, actor, after=start))
                )
        firsts = [asyncio.ensure_future(anext(s)) for s in streams]
        await asyncio.gather(
            *(
                write_clashes(server.url, key, actor, [n for n in names if n[0] == w])
                for server, w in zip(servers, "abc", strict=True)
            )
        )
        received = []
        for stream, first in zip(streams, firsts, strict=True):
            items = [await asyncio.wait_for(first, WAIT)]
            items += [await asyncio.wait_for(anext(stream), WAIT) for _ in names[1:]]
            received.append([i["incidents"]["node"]["summary"] for i in items])
    order = await in_log_order(dsn, actor)
    assert sorted(order) == sorted(names)
    assert all(summaries == order for summaries in received)
