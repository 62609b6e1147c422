"""FRONTLINE_READ_URL (api.replicas) against a real streaming replica: queries read from it,
read-your-writes through it, a lagging replica is bypassed and taken back while one that
keeps up under steady writes is not, and a replica stopped under readers leaves every read
answered whole by the primary."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest

from tests.support.databases import database_name, temporary_database
from tests.support.replica import Pair, primary_and_replica
from tests.support.sample_server import _create_keys
from tests.support.serving import Spawned, serve_env, spawn_serve

pytestmark = pytest.mark.slow

MAX_LAG = 2.0  # FRONTLINE_READ_MAX_LAG_SECONDS for these servers


@dataclass(frozen=True)
class Setup:
    pair: Pair
    primary: str  # the database's DSN on the primary
    replica: str  # the same database on the replica
    writer: str
    server: Spawned


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    log = tmp_path_factory.mktemp("replicas") / "serve.log"
    with primary_and_replica() as pair, temporary_database(pair.primary, migrated=True) as dsn:
        _, writer, _ = asyncio.run(_create_keys(dsn))
        replica = pair.replica_dsn(database_name(dsn))
        env = serve_env(
            DATABASE_URL=dsn,
            FRONTLINE_READ_URL=replica,
            FRONTLINE_READ_MAX_LAG_SECONDS=str(MAX_LAG),
            FRONTLINE_LOAD_SAMPLE="true",
            # A ring of 4 rows: a subscription resuming from further back reads pages from
            # the database (the catch-up test), not from the ring.
            FRONTLINE_SUBSCRIPTION_BUFFER="4",
        )
        with spawn_serve(env, log) as server:
            head = httpx.get(f"{server.url}/healthz", timeout=5).json()["position"]
            assert head > 0  # the sample, loaded before the server answers
            wait_projected(dsn, head)
            wait_usable(server.url, True)
            wait_replayed(server.url, head)
            yield Setup(pair, dsn, replica, writer, server)


def replicas(url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = httpx.get(f"{url}/healthz", timeout=5).json()["replicas"]
    return found


def wait_usable(url: str, usable: bool, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if [r["usable"] for r in replicas(url)] == [usable]:
            return
        time.sleep(0.1)
    raise AssertionError(f"the replica never became {'usable' if usable else 'bypassed'}")


def wait_replayed(url: str, position: int, seconds: float = 30) -> None:
    """Until the server's last check of the replica saw it at ``position`` or later."""
    deadline = time.monotonic() + seconds
    while (replicas(url)[0]["position"] or 0) < position:
        assert time.monotonic() < deadline, "the replica never replayed the sample"
        time.sleep(0.1)


def ask(setup: Setup, query: str) -> Any:
    response = httpx.post(f"{setup.server.url}/graphql", json={"query": query}, timeout=15)
    assert response.status_code == 200, response.text
    return response.json()


def register_actor(setup: Setup) -> tuple[str, int]:
    slug = f"replica-{uuid4().hex[:8]}"
    response = httpx.post(
        f"{setup.server.url}/graphql",
        json={
            "query": "mutation ($a: RegisterActorInput!) { registerActor(input: $a) { position } }",
            "variables": {"a": {"slug": slug, "name": slug, "kind": "ARMED_GROUP"}},
        },
        headers={"Authorization": f"Bearer {setup.writer}"},
        timeout=15,
    )
    return slug, int(response.json()["data"]["registerActor"]["position"])


async def _execute(dsn: str, sql: str) -> Any:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


def projected_on(dsn: str) -> int:
    return int(asyncio.run(_execute(dsn, "SELECT position FROM rm.tracking")))


def wait_projected(dsn: str, position: int) -> None:
    deadline = time.monotonic() + 30
    while projected_on(dsn) < position:
        assert time.monotonic() < deadline, "never projected"
        time.sleep(0.05)


def test_a_write_is_read_back_through_the_replica_with_fresh(setup: Setup) -> None:
    slug, position = register_actor(setup)
    body = ask(setup, f'{{ fresh(position: {position}) {{ actor(ref: "{slug}") {{ slug }} }} }}')
    assert body == {"data": {"fresh": {"actor": {"slug": slug}}}}
    assert projected_on(setup.replica) >= position  # the replica itself has it


def test_queries_read_from_the_replica_and_a_lagging_one_is_bypassed(setup: Setup) -> None:
    """With the replica's replay paused, a new actor is on the primary only: a query that
    cannot see it read from the replica; `fresh` and `knownAtPosition` wait for the replica
    and answer STALE; past the lag allowed, reads go to the primary; resumed, back again."""
    asyncio.run(_execute(setup.replica, "SELECT pg_wal_replay_pause()"))
    try:
        slug, position = register_actor(setup)
        wait_projected(setup.primary, position)
        started = time.monotonic()
        assert ask(setup, f'{{ actor(ref: "{slug}") {{ slug }} }}') == {"data": {"actor": None}}
        stale = ask(setup, f"{{ fresh(position: {position}, timeoutMs: 300) {{ __typename }} }}")
        assert stale["errors"][0]["extensions"]["code"] == "STALE"
        history = ask(
            setup, f'{{ controlHistory(place: "hama", knownAtPosition: {position}) {{ status }} }}'
        )
        assert history["errors"][0]["extensions"]["code"] == "STALE"
        assert time.monotonic() - started < MAX_LAG + 6  # knownAtPosition waits 5 s at most
        wait_usable(setup.server.url, False)
        assert ask(setup, f'{{ actor(ref: "{slug}") {{ slug }} }}') == {
            "data": {"actor": {"slug": slug}}
        }
    finally:
        asyncio.run(_execute(setup.replica, "SELECT pg_wal_replay_resume()"))
    wait_usable(setup.server.url, True)
    later, position = register_actor(setup)
    body = ask(setup, f'{{ fresh(position: {position}) {{ actor(ref: "{later}") {{ slug }} }} }}')
    assert body == {"data": {"fresh": {"actor": {"slug": later}}}}


def test_a_subscription_resuming_from_an_old_cursor_catches_up_from_the_replica(
    setup: Setup,
) -> None:
    """From position 0, most incidents are older than the broadcaster's ring of 4: their
    pages come from the database, here the replica (it has replayed them all)."""
    from websockets.sync.client import connect  # noqa: PLC0415 - this test only

    total = int(asyncio.run(_execute(setup.primary, "SELECT count(*) FROM rm.incidents")))
    assert total >= 10  # the sample's incidents (its other events register places and actors)
    # Pages go to a replica only once it is seen to hold all they ask for (the tests above
    # have just written).
    wait_replayed(setup.server.url, httpx.get(f"{setup.server.url}/healthz").json()["position"])
    before = replicas(setup.server.url)[0]["reads"]
    subscription = 'subscription { incidents(after: "0") { cursor } }'
    ws = setup.server.url.replace("http://", "ws://") + "/graphql"
    with connect(ws, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(socket.recv(timeout=10))["type"] == "connection_ack"
        payload = {"query": subscription}
        socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        cursors = []
        while len(cursors) < total:
            message = json.loads(socket.recv(timeout=10))
            assert message["type"] == "next", message
            cursors.append(int(message["payload"]["data"]["incidents"]["cursor"]))
    assert cursors == sorted(set(cursors))  # in log order, once each
    assert replicas(setup.server.url)[0]["reads"] > before


def test_a_replica_keeping_up_under_steady_writes_stays_usable(setup: Setup) -> None:
    """Under a write every ~50 ms for longer than the lag allowed, the replica is a few
    positions behind at most checks, yet never for long: it must stay in use."""
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            register_actor(setup)
            time.sleep(0.05)

    thread = threading.Thread(target=writer)
    thread.start()
    seen = []
    try:
        deadline = time.monotonic() + MAX_LAG * 2.5
        while time.monotonic() < deadline:
            seen.append(replicas(setup.server.url)[0]["usable"])
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert len(seen) > 20
    assert all(seen), seen


def test_many_fields_asking_knownatposition_wait_once_and_past_the_head_at_once(
    setup: Setup,
) -> None:
    head = projected_on(setup.primary)
    wait_replayed(setup.server.url, head)
    many = "{ places(first: 100) { nodes { control(knownAtPosition: %d) { status } } } }"
    started = time.monotonic()
    body = ask(setup, many % head)
    assert "errors" not in body, body
    assert len(body["data"]["places"]["nodes"]) > 5
    past = ask(setup, many % (head + 1_000_000))  # not projected anywhere: as the primary
    assert "errors" not in past, past
    assert time.monotonic() - started < 3  # neither waited out a 5 s bound


def test_a_replica_stopped_under_readers_leaves_every_read_answered_by_the_primary(
    setup: Setup,
) -> None:
    answers: list[tuple[int, Any]] = []
    stop = threading.Event()

    def reader() -> None:
        with httpx.Client(timeout=15) as client:
            while not stop.is_set():
                response = client.post(
                    f"{setup.server.url}/graphql",
                    json={"query": '{ place(ref: "hama") { slug } }'},
                )
                answers.append((response.status_code, response.json()))

    readers = [threading.Thread(target=reader) for _ in range(4)]
    for thread in readers:
        thread.start()
    try:
        time.sleep(0.5)
        setup.pair.stop_replica()
        wait_usable(setup.server.url, False)
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in readers:
            thread.join(timeout=30)
    # Every read answered whole: one that found the replica gone ran again on the primary.
    assert len(answers) > 20
    expected = (200, {"data": {"place": {"slug": "hama"}}})
    assert [a for a in answers if a != expected] == []
    # From now on every read is the primary's, whole.
    for _ in range(20):
        assert ask(setup, '{ place(ref: "hama") { slug } }') == {
            "data": {"place": {"slug": "hama"}}
        }
    assert replicas(setup.server.url)[0]["usable"] is False
