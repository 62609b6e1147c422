"""A public endpoint over WebSocket, tried as an attacker would: revoked keys on open
sockets, oversized and flooding messages, too many operations or sockets, the legacy
subprotocol, and the deadline of a query sent over a socket. Raw `websockets` clients, so
every frame and close code is visible."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from api.auth import Role, create_key, revoke_key
from domain.identity import actor_id
from tests.support.sample_server import Server, start_server

pytestmark = pytest.mark.slow

WAIT = 10.0
TIGHT = {
    "FRONTLINE_MAX_SOCKETS_PER_KEY": "2",
    "FRONTLINE_MAX_OPERATIONS_PER_SOCKET": "3",
    "FRONTLINE_WS_MESSAGES_PER_SECOND": "5",
    "FRONTLINE_REQUEST_TIMEOUT_SECONDS": "2",
}
QUERY = '{ controlAt(place: "hama") { status } }'
LIVE = "subscription { incidents { cursor node { id } } }"


@pytest.fixture(scope="module")
def tight(postgres_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("tight-ws") / "serve.log"
    yield from start_server(postgres_dsn, log, **TIGHT)


@asynccontextmanager
async def socket_of(
    server: Server, key: str | None = None, protocol: str = "graphql-transport-ws"
) -> AsyncIterator[Any]:
    """A socket past `connection_init` (with ``key`` in its payload, if given)."""
    async with websockets.connect(
        server.ws,
        subprotocols=[protocol],
        max_size=2**24,  # type: ignore[list-item]
    ) as ws:
        payload = {} if key is None else {"Authorization": f"Bearer {key}"}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert json.loads(await asyncio.wait_for(ws.recv(), WAIT))["type"] == "connection_ack"
        yield ws


async def run(ws: Any, operation_id: str, query: str) -> list[dict[str, Any]]:
    """Send one operation; its frames up to its `complete` or `error`."""
    message = {"id": operation_id, "type": "subscribe", "payload": {"query": query}}
    await ws.send(json.dumps(message))
    frames = []
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        frames.append(frame)
        if frame.get("id") == operation_id and frame["type"] in ("complete", "error"):
            return frames


async def close_code(ws: Any) -> int | None:
    """Read until the server closes the socket; its close code."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), WAIT)
    except ConnectionClosed as closed:
        return None if closed.rcvd is None else closed.rcvd.code


async def new_key(server: Server, role: Role = Role.WRITER) -> str:
    conn = await asyncpg.connect(server.dsn)
    try:
        return await create_key(conn, "hardening ws", role)
    finally:
        await conn.close()


async def revoke(server: Server, key: str) -> None:
    conn = await asyncpg.connect(server.dsn)
    try:
        assert await revoke_key(conn, UUID(hex=key.split("_")[1]))
    finally:
        await conn.close()


# -- a revoked key ------------------------------------------------------------------------------

MUTATION = """mutation { registerActor(input: {slug: "ws-revoked", name: "WS", kind: OTHER}) {
  position } }"""


@pytest.mark.parametrize("operation", [QUERY, MUTATION], ids=["query", "mutation"])
async def test_a_revoked_key_ends_queries_and_mutations_on_its_open_socket(
    server: Server, operation: str
) -> None:
    key = await new_key(server)
    async with socket_of(server, key) as ws:
        [first, _] = await run(ws, "1", QUERY)
        assert first["payload"]["data"]["controlAt"]["status"] == "HELD"
        await revoke(server, key)
        [refused] = await run(ws, "2", operation)
        assert refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert await close_code(ws) == 4403
    assert await _actor_registered(server) is False


async def _actor_registered(server: Server) -> bool:
    conn = await asyncpg.connect(server.dsn)
    try:
        found = await conn.fetchval(
            "SELECT count(*) FROM public.frontline_events WHERE originator_id = $1",
            actor_id("ws-revoked"),
        )
        return bool(found)
    finally:
        await conn.close()


# -- message size and rate ------------------------------------------------------------------------


async def test_a_message_larger_than_the_body_limit_is_refused_before_it_is_read(
    server: Server,
) -> None:
    async with socket_of(server) as ws:
        padding = "x" * (2 * 1024 * 1024)  # the body limit is 1 MiB
        message = {"id": "1", "type": "subscribe", "payload": {"query": "{ a } #" + padding}}
        try:
            await ws.send(json.dumps(message))
        except ConnectionClosed as closed:  # closed while it was still being sent
            code = None if closed.rcvd is None else closed.rcvd.code
        else:
            code = await close_code(ws)
        assert code == 1009  # "message too big"


async def test_a_flood_of_messages_closes_the_socket_with_4429(tight: Server) -> None:
    async with socket_of(tight) as ws:
        for _ in range(30):  # 5 a second are allowed, in bursts of 10
            await ws.send(json.dumps({"type": "ping"}))
        assert await close_code(ws) == 4429
    async with socket_of(tight) as ws:  # others are served as before
        [answer, _] = await run(ws, "1", QUERY)
        assert answer["payload"]["data"]["controlAt"]["status"] == "HELD"


async def test_messages_at_the_allowed_rate_are_served(tight: Server) -> None:
    async with socket_of(tight) as ws:
        for n in range(8):
            [answer, _] = await run(ws, str(n), QUERY)
            assert answer["type"] == "next"
            await asyncio.sleep(0.25)


# -- how many at once ------------------------------------------------------------------------------


async def test_past_the_operations_per_socket_a_subscribe_gets_a_coded_error(
    tight: Server,
) -> None:
    async with socket_of(tight) as ws:
        for n in range(3):
            message = {"id": str(n), "type": "subscribe", "payload": {"query": LIVE}}
            await ws.send(json.dumps(message))
        await asyncio.sleep(0.3)
        [refused] = await run(ws, "3", LIVE)
        assert refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["code"] == "TOO_MANY_OPERATIONS"
        await ws.send(json.dumps({"id": "0", "type": "complete"}))  # one ends: room again
        await asyncio.sleep(0.3)
        [answer, _] = await run(ws, "4", QUERY)
        assert answer["type"] == "next"


async def test_past_the_sockets_per_key_a_new_socket_is_refused(tight: Server) -> None:
    key = await new_key(tight, Role.READER)
    async with socket_of(tight, key), socket_of(tight, key):
        async with websockets.connect(tight.ws, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}
            await ws.send(json.dumps(init))
            assert await close_code(ws) == 4403
        async with socket_of(tight):  # anonymous sockets are not this key's
            pass
    async with socket_of(tight, key):  # its sockets closed: room again
        pass


# -- the protocol itself ---------------------------------------------------------------------------


async def test_the_legacy_graphql_ws_subprotocol_is_not_offered(server: Server) -> None:
    try:
        async with websockets.connect(server.ws, subprotocols=["graphql-ws"]) as ws:  # type: ignore[list-item]
            assert ws.subprotocol != "graphql-ws"
            code = await close_code(ws)
    except InvalidStatus:
        return  # refused at the handshake: as good
    assert code == 4406


async def test_a_query_over_a_socket_has_the_request_deadline(tight: Server) -> None:
    async with socket_of(tight) as ws:
        started = asyncio.get_running_loop().time()
        [refused] = await run(
            ws, "1", "{ fresh(position: 2000000000, timeoutMs: 10000) { __typename } }"
        )
        elapsed = asyncio.get_running_loop().time() - started
        assert refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["code"] == "TIMEOUT"
        assert 1.5 < elapsed < 5
        [answer, _] = await run(ws, "2", QUERY)  # the socket goes on
        assert answer["type"] == "next"


@pytest.fixture(scope="module")
def few_sockets(postgres_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("few-sockets") / "serve.log"
    yield from start_server(postgres_dsn, log, FRONTLINE_MAX_SOCKETS="5")


async def test_past_the_socket_ceiling_a_socket_is_refused_and_http_is_still_served(
    few_sockets: Server,
) -> None:
    """Idle sockets, never initialised, once held every connection (/healthz answered 503)."""
    idle = [
        await websockets.connect(few_sockets.ws, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
        for _ in range(5)
    ]
    try:
        with pytest.raises(InvalidStatus):
            await websockets.connect(few_sockets.ws, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
        async with httpx.AsyncClient(timeout=WAIT) as http:
            assert (await http.get(f"{few_sockets.url}/healthz")).status_code == 200
        # And one that never says connection_init is closed within seconds, not a minute.
        started = asyncio.get_running_loop().time()
        assert await close_code(idle[0]) == 4408
        assert asyncio.get_running_loop().time() - started < 8
    finally:
        for ws in idle:
            await ws.close()
