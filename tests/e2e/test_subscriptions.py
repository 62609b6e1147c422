"""Subscriptions over graphql-transport-ws, with a real client against a running server.

Writes go through the HTTP API with the writer key; each test that writes uses slugs of its
own and filters on them, so the module's tests don't see each other's incidents.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
import websockets
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportError, TransportQueryError
from gql.transport.websockets import WebsocketsTransport
from websockets.exceptions import ConnectionClosed

from api.auth import Role, create_key, revoke_key
from api.graphql.context import KEY_RECHECK_SECONDS
from api.live.broadcast import APPLICATION_NAME
from frontline.config import Settings
from tests.support.sample_server import Server, start_server

pytestmark = pytest.mark.slow

WAIT = 10.0  # seconds any expected item may take, at most

INCIDENTS = """
subscription ($after: String, $filter: IncidentFilter) {
  incidents(after: $after, filter: $filter) {
    cursor
    node { id kind recordedPosition summary places { slug } actors { slug } }
  }
}"""
CONTROL_CHANGES = """
subscription ($after: String, $where: ControlChangeFilter) {
  controlChanges(after: $after, where: $where) {
    cursor position since beforeStatus afterStatus
    place { slug }
    beforeControllers { slug }
    afterControllers { slug }
    evidence { id kind }
  }
}"""
FEED = """
query ($filter: IncidentFilter) {
  incidents(first: 100, logOrder: true, filter: $filter) {
    nodes { id recordedPosition }
  }
}"""


# ---------------------------------------------------------------- servers


@pytest.fixture(scope="module")
def tiny_ring_server(
    postgres_dsn: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server that keeps only 3 rows per feed in memory: subscribers fall out of the ring
    all the time and must catch up from the database."""
    log: Path = tmp_path_factory.mktemp("tiny") / "serve.log"
    yield from start_server(postgres_dsn, log, FRONTLINE_SUBSCRIPTION_BUFFER="3")


@pytest.fixture(scope="module")
def closed_server(postgres_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose reads need a key."""
    log: Path = tmp_path_factory.mktemp("closed") / "serve.log"
    yield from start_server(postgres_dsn, log, FRONTLINE_OPEN_READS="false")


@pytest.fixture(params=["server", "tiny_ring_server"])
def any_server(request: pytest.FixtureRequest) -> Server:
    found: Server = request.getfixturevalue(request.param)
    return found


# ---------------------------------------------------------------- helpers


async def ask(server: Server, query: str, key: str | None = None, **variables: Any) -> Any:
    async with httpx.AsyncClient(timeout=WAIT) as http:
        response = await http.post(
            server.graphql,
            json={"query": query, "variables": variables},
            headers=server.headers(key),
        )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def head(server: Server) -> str:
    """The log's head position, as a cursor (retried while the server is busy). Asked with
    the reader key: with closed reads an anonymous /healthz says only its status."""
    headers = server.headers(server.reader_key)
    async with httpx.AsyncClient(timeout=WAIT) as http, asyncio.timeout(WAIT):
        for _ in range(100):
            health = (await http.get(f"{server.url}/healthz", headers=headers)).json()
            if health["status"] == "ok":
                return str(health["position"])
            await asyncio.sleep(0.1)
    pytest.fail(f"the server stays unhealthy: {health}")


async def settled(server: Server) -> None:
    """Wait until the server answers a health check promptly again."""
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(30):
        while True:
            start = loop.time()
            await head(server)
            if loop.time() - start < 0.2:
                return
            await asyncio.sleep(0.2)


async def register(server: Server, actor: str, place: str | None = None) -> None:
    await ask(
        server,
        "mutation ($a: RegisterActorInput!) { registerActor(input: $a) { position } }",
        server.writer_key,
        a={"slug": actor, "name": actor, "kind": "OTHER"},
    )
    if place is not None:
        await ask(
            server,
            "mutation ($p: RegisterPlaceInput!) { registerPlace(input: $p) { position } }",
            server.writer_key,
            p={
                "slug": place,
                "name": place,
                "kind": "VILLAGE",
                "latitude": 35.2,
                "longitude": 36.7,
                "country": "Syria",
                "governorate": "Hama",
            },
        )


def incident(places: list[str], summary: str) -> dict[str, Any]:
    return {
        "occurredAt": datetime.now(UTC).isoformat(),
        "places": places,
        "sources": [{"outlet": "e2e"}],
        "summary": summary,
        "idempotencyKey": f"e2e-sub-{uuid4()}",
    }


async def record_clash(server: Server, actor: str, summary: str, place: str = "hama") -> int:
    data = await ask(
        server,
        """mutation ($i: IncidentInput!, $d: ClashInput!) {
             recordClash(incident: $i, details: $d) { position } }""",
        server.writer_key,
        i=incident([place], summary),
        d={"parties": [actor, "syrian-arab-army"]},
    )
    return int(data["recordClash"]["position"])


async def record_capture(server: Server, place: str, by: str) -> tuple[int, str]:
    data = await ask(
        server,
        """mutation ($i: IncidentInput!, $d: CaptureInput!) {
             recordCapture(incident: $i, details: $d) { position id } }""",
        server.writer_key,
        i=incident([place], f"{place} captured by {by}"),
        d={"by": [by]},
    )
    payload = data["recordCapture"]
    return int(payload["position"]), payload["id"]


def transport(server: Server, init: dict[str, Any] | None) -> WebsocketsTransport:
    return WebsocketsTransport(
        url=server.ws,
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        init_payload=init,
    )


@asynccontextmanager
async def subscribe(
    server: Server, query: str, key: str | None = "reader", **variables: Any
) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
    """The stream of one subscription's results (the `data` of each `next`)."""
    key = server.reader_key if key == "reader" else key
    init = None if key is None else {"Authorization": f"Bearer {key}"}
    async with Client(transport=transport(server, init)) as session:
        request = GraphQLRequest(query, variable_values=variables)
        async with aclosing(session.subscribe(request)) as stream:
            yield stream


async def take(stream: AsyncIterator[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """The next ``n`` results, each within WAIT seconds."""
    found = []
    for _ in range(n):
        found.append(await asyncio.wait_for(anext(stream), WAIT))
    return found


async def nothing_more(stream: AsyncIterator[dict[str, Any]], seconds: float = 1.5) -> None:
    """Nothing arrives within ``seconds`` (this ends the stream: call it last)."""
    try:
        extra = await asyncio.wait_for(anext(stream), seconds)
    except TimeoutError:
        return
    pytest.fail(f"unexpected item: {extra}")


def edges(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r["incidents"] for r in results]


async def started(stream: AsyncIterator[dict[str, Any]]) -> asyncio.Task[dict[str, Any]]:
    """Start waiting for the first item; the short sleep lets the server register the
    subscription before the test writes (a live-only stream starts at the present)."""
    task = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.5)
    return task


# ---------------------------------------------------------------- live and catch-up


async def test_a_new_incident_is_delivered_live_with_its_cursor(server: Server) -> None:
    await register(server, "sub-live")
    # Reads are open on this server: no key needed.
    async with subscribe(server, INCIDENTS, key=None, filter={"actor": "sub-live"}) as stream:
        first = await started(stream)
        position = await record_clash(server, "sub-live", "live clash")
        edge = (await asyncio.wait_for(first, WAIT))["incidents"]
    assert edge["cursor"] == str(position)
    assert edge["node"]["recordedPosition"] == position
    assert edge["node"]["summary"] == "live clash"
    assert {a["slug"] for a in edge["node"]["actors"]} == {"sub-live", "syrian-arab-army"}


async def test_catch_up_from_an_early_cursor_replays_the_log_then_goes_live(
    server: Server,
) -> None:
    recorded = (await ask(server, FEED))["incidents"]["nodes"]
    assert len(recorded) >= 17  # the sample, and whatever earlier tests wrote
    async with subscribe(server, INCIDENTS, after="0") as stream:
        caught_up = edges(await take(stream, len(recorded)))
        position = await record_clash(server, "hts", "after the catch-up")
        live = edges(await take(stream, 1))
    assert [e["node"]["id"] for e in caught_up] == [n["id"] for n in recorded]
    assert [e["cursor"] for e in caught_up] == [str(n["recordedPosition"]) for n in recorded]
    assert live[0]["cursor"] == str(position)


async def test_a_cursor_from_the_middle_resumes_right_after_it(server: Server) -> None:
    recorded = (await ask(server, FEED))["incidents"]["nodes"]
    middle = recorded[5]["recordedPosition"]
    async with subscribe(server, INCIDENTS, after=str(middle)) as stream:
        rest = edges(await take(stream, len(recorded) - 6))
        await nothing_more(stream)
    assert [e["node"]["id"] for e in rest] == [n["id"] for n in recorded[6:]]


async def test_reconnecting_with_the_last_cursor_misses_nothing_while_writes_go_on(
    any_server: Server,
) -> None:
    server = any_server
    await register(server, "sub-resume")
    start = await head(server)
    count = 30

    async def write() -> list[int]:
        positions = []
        for n in range(count):
            positions.append(await record_clash(server, "sub-resume", f"resume {n}"))
            await asyncio.sleep(0.02)
        return positions

    writing = asyncio.create_task(write())
    received: list[dict[str, Any]] = []
    cursor = start
    # Three short sessions while the writer runs, then one to collect the rest.
    for batch in (4, 7, 5, None):
        async with subscribe(
            server, INCIDENTS, after=cursor, filter={"actor": "sub-resume"}
        ) as stream:
            wanted = count - len(received) if batch is None else batch
            got = edges(await take(stream, wanted))
            if batch is None:
                await nothing_more(stream, 1.0)
        received += got
        cursor = got[-1]["cursor"]
    positions = await writing
    assert [e["node"]["recordedPosition"] for e in received] == positions
    assert [e["node"]["summary"] for e in received] == [f"resume {n}" for n in range(count)]


async def test_live_delivery_survives_losing_the_listen_connection(server: Server) -> None:
    await register(server, "sub-relisten")
    async with subscribe(
        server, INCIDENTS, after=await head(server), filter={"actor": "sub-relisten"}
    ) as stream:
        conn = await asyncpg.connect(server.dsn)
        try:
            # What a PostgreSQL restart does to it (and whatever NOTIFY it would have got).
            killed = await conn.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = $1 AND datname = current_database()",
                APPLICATION_NAME,
            )
            assert killed == 1
            position = await record_clash(server, "sub-relisten", "after the restart")
            [edge] = edges(await take(stream, 1))
            assert edge["cursor"] == str(position)
            listening = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE application_name = $1 AND datname = current_database()",
                APPLICATION_NAME,
            )
            assert listening == 1, "the broadcaster listens again"
        finally:
            await conn.close()


# ---------------------------------------------------------------- filters


@pytest.mark.parametrize(
    "incident_filter",
    [
        {"kinds": ["CAPTURE"]},
        {"kinds": ["AIRCRAFT_LOSS", "AIR_STRIKE"]},
        {"actor": "russian-aerospace-forces"},
        {"place": "hama"},
        {"governorate": "Aleppo"},
        {"statuses": ["REPORTED", "CORROBORATED"], "kinds": ["CAPTURE", "WITHDRAWAL"]},
        {"occurredFrom": "2024-12-04T12:00:00+00:00", "occurredTo": "2024-12-05T12:00:00+00:00"},
        {"area": {"latitude": 35.15, "longitude": 36.65, "radiusKm": 3}},
        {
            "area": {
                "minLatitude": 35.1,
                "minLongitude": 36.6,
                "maxLatitude": 35.2,
                "maxLongitude": 36.67,
            }
        },
    ],
    ids=["kind", "kinds", "actor", "place", "governorate", "status", "window", "near", "bbox"],
)
async def test_a_filtered_stream_catches_up_with_what_the_filtered_feed_lists(
    server: Server, incident_filter: dict[str, Any]
) -> None:
    expected = (await ask(server, FEED, filter=incident_filter))["incidents"]["nodes"]
    assert expected, "the filter should match part of the sample"
    async with subscribe(server, INCIDENTS, after="0", filter=incident_filter) as stream:
        found = edges(await take(stream, len(expected)))
        await nothing_more(stream, 1.0)
    assert [e["node"]["id"] for e in found] == [n["id"] for n in expected]


async def test_a_live_stream_filtered_by_kind_skips_other_kinds(server: Server) -> None:
    await register(server, "sub-kind", place="sub-kind-town")
    filters = {"kinds": ["CAPTURE"], "actor": "sub-kind"}
    async with subscribe(server, INCIDENTS, after=await head(server), filter=filters) as stream:
        await record_clash(server, "sub-kind", "not a capture", place="sub-kind-town")
        position, _ = await record_capture(server, "sub-kind-town", "sub-kind")
        found = edges(await take(stream, 1))
    assert found[0]["cursor"] == str(position)
    assert found[0]["node"]["kind"] == "CAPTURE"


# ---------------------------------------------------------------- control changes


async def test_a_hand_over_is_delivered_with_its_evidence(server: Server) -> None:
    await register(server, "sub-holder", place="sub-town")
    where = {"actor": "sub-holder"}
    async with subscribe(server, CONTROL_CHANGES, after=await head(server), where=where) as s:
        position, incident_id = await record_capture(server, "sub-town", "sub-holder")
        [result] = await take(s, 1)
    change = result["controlChanges"]
    assert change["position"] == position
    assert change["place"] == {"slug": "sub-town"}
    assert change["afterStatus"] == "HELD"
    assert change["afterControllers"] == [{"slug": "sub-holder"}]
    assert change["evidence"] == [{"id": incident_id, "kind": "CAPTURE"}]
    assert change["cursor"].startswith(f"{position}:")


async def test_hand_overs_catch_up_by_area_and_resume_after_a_cursor(server: Server) -> None:
    near_hama = {"area": {"latitude": 35.13, "longitude": 36.75, "radiusKm": 2}}
    async with subscribe(server, CONTROL_CHANGES, after="0", where=near_hama) as stream:
        [first] = await take(stream, 1)
        await nothing_more(stream, 1.0)
    change = first["controlChanges"]
    assert change["place"] == {"slug": "hama"}
    assert {a["slug"] for a in change["afterControllers"]} >= {"hts"}
    assert change["evidence"], "a hand-over names its evidence"
    async with subscribe(
        server, CONTROL_CHANGES, after=change["cursor"], where=near_hama
    ) as stream:
        await nothing_more(stream, 1.0)


# ---------------------------------------------------------------- isolation and auth


def _small_buffer_socket(server: Server) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    host, port = server.url.removeprefix("http://").split(":")
    sock.connect((host, int(port)))
    return sock


# About 9 KB per incident: 25 such subscriptions (as many as one socket may run at once) over
# the log (20+ incidents) outgrow the socket buffers on both ends (4 MB at most on Linux).
HEAVY = (
    'subscription { incidents(after: "0") { cursor node { id summary '
    + " ".join(f"s{i}: sources {{ outlet quote url }}" for i in range(25))
    + " } } }"
)
STALLED_SUBSCRIPTIONS = Settings().max_operations_per_socket


async def test_a_subscriber_that_never_reads_does_not_stall_the_others(
    any_server: Server,
) -> None:
    server = any_server
    await register(server, "sub-prompt")
    # This client subscribes to the whole log many times over and stops reading: its socket
    # buffers fill up and the server's sends to it block.
    stalled = await websockets.connect(
        server.ws,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        sock=_small_buffer_socket(server),
        max_queue=1,
        max_size=2**24,
        close_timeout=1,
    )
    try:
        init = {"type": "connection_init", "payload": {"apiKey": server.reader_key}}
        await stalled.send(json.dumps(init))
        assert json.loads(await stalled.recv())["type"] == "connection_ack"
        for n in range(STALLED_SUBSCRIPTIONS):
            message = {"id": str(n), "type": "subscribe", "payload": {"query": HEAVY}}
            await stalled.send(json.dumps(message))
        # Serving them is a burst of work until the buffers are full; then it stops.
        await settled(server)

        loop = asyncio.get_running_loop()
        after = await head(server)
        async with subscribe(
            server, INCIDENTS, after=after, filter={"actor": "sub-prompt"}
        ) as stream:
            for n in range(5):
                start = loop.time()
                position = await record_clash(server, "sub-prompt", f"prompt {n}")
                [edge] = edges(await take(stream, 1))
                assert edge["cursor"] == str(position)
                assert loop.time() - start < 5.0

        # Once it reads again, the stalled client gets every incident, in order, on each
        # of its subscriptions: being slow cost it nothing but time.
        expected = [n["id"] for n in (await ask(server, FEED))["incidents"]["nodes"]]
        received: dict[str, list[str]] = {str(n): [] for n in range(STALLED_SUBSCRIPTIONS)}
        async with asyncio.timeout(60):
            while any(len(ids) < len(expected) for ids in received.values()):
                message = json.loads(await stalled.recv())
                assert message["type"] == "next", message
                received[message["id"]].append(
                    message["payload"]["data"]["incidents"]["node"]["id"]
                )
        assert all(ids == expected for ids in received.values())
    finally:
        await stalled.close()


async def test_with_closed_reads_an_anonymous_subscriber_is_refused(
    closed_server: Server,
) -> None:
    with pytest.raises((TransportError, ConnectionClosed)):
        async with subscribe(closed_server, INCIDENTS, key=None, after="0") as stream:
            await take(stream, 1)


@pytest.mark.parametrize("init", ["authorization", "Authorization", "apiKey"])
async def test_with_closed_reads_a_reader_key_in_connection_init_subscribes(
    closed_server: Server, init: str
) -> None:
    key = closed_server.reader_key
    payload = {init: key if init == "apiKey" else f"Bearer {key}"}
    async with Client(transport=transport(closed_server, payload)) as session:
        request = GraphQLRequest(INCIDENTS, variable_values={"after": "0"})
        async with aclosing(session.subscribe(request)) as stream:
            [first] = edges(await take(stream, 1))
    assert first["cursor"] == "1" or int(first["cursor"]) > 0


async def test_with_closed_reads_a_wrong_key_is_refused(closed_server: Server) -> None:
    with pytest.raises((TransportError, ConnectionClosed)):
        async with subscribe(closed_server, INCIDENTS, key="fl_0_wrong", after="0") as stream:
            await take(stream, 1)


@pytest.mark.parametrize("resuming", [False, True], ids=["shared live stream", "own stream"])
async def test_a_key_revoked_while_its_subscription_is_open_gets_nothing_more(
    closed_server: Server, resuming: bool
) -> None:
    """Both paths: a live subscription shares its stream (api/live/fanout.py), one resuming
    from a cursor runs its own. The subscription ends with UNAUTHENTICATED, and the socket
    that authenticated with the key is closed (4403)."""
    server = closed_server
    conn = await asyncpg.connect(server.dsn)
    try:
        key = await create_key(conn, "revoked while subscribed", Role.READER)
    finally:
        await conn.close()
    await register(server, "sub-revoked")
    only = {"actor": "sub-revoked"}
    variables: dict[str, Any] = {"filter": only}
    if resuming:
        variables["after"] = await head(server)
    async with websockets.connect(server.ws, subprotocols=["graphql-transport-ws"]) as socket_:  # type: ignore[list-item]
        await socket_.send(json.dumps({"type": "connection_init", "payload": {"apiKey": key}}))
        assert json.loads(await socket_.recv())["type"] == "connection_ack"
        subscribe_ = {"query": INCIDENTS, "variables": variables}
        await socket_.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe_}))
        await asyncio.sleep(0.5)  # registered before the write (a live stream starts now)
        await record_clash(server, "sub-revoked", "before the revocation")
        first = json.loads(await asyncio.wait_for(socket_.recv(), WAIT))
        assert first["payload"]["data"]["incidents"]["node"]["summary"]
        conn = await asyncpg.connect(server.dsn)
        try:
            assert await revoke_key(conn, UUID(hex=key.split("_")[1]))
        finally:
            await conn.close()
        await asyncio.sleep(KEY_RECHECK_SECONDS + 0.5)
        await record_clash(server, "sub-revoked", "after the revocation")
        frames, code = await frames_until_closed(socket_)
    assert code == 4403
    [error] = frames[0]["payload"]["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert all(f.get("payload", {}).get("data") is None for f in frames)  # nothing more


async def frames_until_closed(socket_: Any) -> tuple[list[dict[str, Any]], int | None]:
    """Every frame the server sends until it closes the socket, and its close code."""
    frames = []
    try:
        while True:
            frames.append(json.loads(await asyncio.wait_for(socket_.recv(), WAIT)))
    except ConnectionClosed as closed:
        return frames, None if closed.rcvd is None else closed.rcvd.code


async def test_a_malformed_cursor_is_a_typed_error(server: Server) -> None:
    with pytest.raises(TransportQueryError) as raised:
        async with subscribe(server, INCIDENTS, after="yesterday") as stream:
            await take(stream, 1)
    [error] = raised.value.errors or []
    assert error["extensions"] == {"code": "INVALID_CURSOR", "field": "after"}


# ---------------------------------------------------------------- one row, many selections

AS_OF = """
subscription ($after: String, $filter: IncidentFilter, $asOf: DateTime) {
  incidents(after: $after, filter: $filter) {
    cursor node { summary places { slug control(asOf: $asOf) { status } } }
  }
}"""


async def test_subscribers_of_one_row_each_get_their_own_selection_and_variables(
    server: Server,
) -> None:
    """The server executes a row once per distinct selection and the variables it uses
    (api/graphql/execution.py): the root field's arguments may differ, the rest may not."""
    await register(server, "sub-shared", "sub-shared-village")
    only = {"actor": "sub-shared"}
    past = "2000-01-01T00:00:00Z"
    async with (
        subscribe(server, INCIDENTS, filter=only) as full,
        subscribe(server, INCIDENTS, filter=only, after=await head(server)) as resumed,
        subscribe(server, AS_OF, filter=only) as now,
        subscribe(server, AS_OF, filter=only, asOf=past) as then,
    ):
        waiting = [await started(s) for s in (full, resumed, now, then)]
        await record_capture(server, "sub-shared-village", "sub-shared")
        got = [(await asyncio.wait_for(w, WAIT))["incidents"] for w in waiting]
    assert got[0] == got[1]
    assert set(got[0]["node"]) == {"id", "kind", "recordedPosition", "summary", "places", "actors"}
    assert got[2]["node"]["places"] == [
        {"slug": "sub-shared-village", "control": {"status": "HELD"}}
    ]
    assert got[3]["node"]["places"] == [{"slug": "sub-shared-village", "control": None}]
    assert got[2]["cursor"] == got[3]["cursor"] == got[0]["cursor"]


# ---------------------------------------------------------------- shared live streams


async def _healthz(server: Server) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=WAIT) as http:
        body: dict[str, Any] = (await http.get(f"{server.url}/healthz")).json()
        return body


async def test_identical_live_subscribers_share_one_stream_and_each_gets_every_item(
    server: Server,
) -> None:
    """api/live/fanout.py: sockets that follow the same live subscription share one stream; each
    still gets every item, in order, under its own operation id."""
    await register(server, "sub-fanout")
    only = {"actor": "sub-fanout"}
    before = (await _healthz(server))["subscriptions"]
    async with contextlib.AsyncExitStack() as stack:
        streams = [
            await stack.enter_async_context(subscribe(server, INCIDENTS, filter=only, after=None))
            for _ in range(12)
        ]
        waiting = [await started(s) for s in streams]
        during = (await _healthz(server))["subscriptions"]
        positions = [await record_clash(server, "sub-fanout", f"shared {n}") for n in range(5)]
        got = [[(await asyncio.wait_for(w, WAIT))["incidents"]] for w in waiting]
        for stream, received in zip(streams, got, strict=True):
            received.extend(edges(await take(stream, 4)))
    assert during["sharedStreams"] == before["sharedStreams"] + 1
    assert during["sharedMembers"] == before["sharedMembers"] + 12
    for items in got:
        assert [int(e["cursor"]) for e in items] == positions
        assert [e["node"]["summary"] for e in items] == [f"shared {n}" for n in range(5)]


LIGHT = """
subscription ($filter: IncidentFilter) {
  incidents(filter: $filter) { cursor node { id summary } }
}"""
# The usual client form: resumes through its $after when it has one, null when live.
LIGHT_RESUMABLE = """
subscription ($after: String, $filter: IncidentFilter) {
  incidents(after: $after, filter: $filter) { cursor node { id summary } }
}"""


@pytest.mark.parametrize("query", [LIGHT, LIGHT_RESUMABLE], ids=["no after", "after: $after"])
async def test_a_shared_subscriber_that_falls_behind_goes_on_alone_and_misses_nothing(
    tiny_ring_server: Server, query: str
) -> None:
    """With room for 3 frames per member, a burst of 60 leaves members behind the shared
    stream (a selection that needs no database reads a page of rows without pausing);
    each goes on from its last cursor on its own, through the database."""
    server = tiny_ring_server
    actor = f"sub-behind-{uuid4().hex[:8]}"
    await register(server, actor)
    only = {"actor": actor}
    batch = [
        {"clash": {"incident": incident(["hama"], f"burst {n}"),
                   "details": {"parties": [actor, "syrian-arab-army"]}}}
        for n in range(60)
    ]  # fmt: skip
    async with contextlib.AsyncExitStack() as stack:
        streams = [
            await stack.enter_async_context(subscribe(server, query, filter=only, after=None))
            for _ in range(3)
        ]
        waiting = [await started(s) for s in streams]
        await ask(
            server,
            "mutation ($c: [BatchCommand!]!) { recordBatch(commands: $c) { position } }",
            server.writer_key,
            c=batch,
        )
        got = []
        for stream, first in zip(streams, waiting, strict=True):
            got.append([(await asyncio.wait_for(first, WAIT))["incidents"]])
            got[-1] += edges(await take(stream, 59))
    for items in got:
        assert [e["node"]["summary"] for e in items] == [f"burst {n}" for n in range(60)]
    assert "goes on alone" in server.log.read_text()
