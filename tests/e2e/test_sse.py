"""Subscriptions over Server-Sent Events (GraphQL over SSE, distinct connections mode): what
`curl -N` and a browser's EventSource can follow without a WebSocket library."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from tests.support.graphql_client import codes, head, post
from tests.support.sample_server import Server, start_server

pytestmark = pytest.mark.slow

WAIT = 15.0
FEED = "subscription ($after: String) { incidents(after: $after) { cursor node { summary } } }"
ENTRIES = "subscription ($after: String) { logEntries(after: $after) { cursor type } }"
EVENT_STREAM = {"Accept": "text/event-stream"}
REGISTER = """mutation ($s: String!) { registerActor(input: {slug: $s, name: $s, kind: OTHER}) {
  position } }"""


@pytest.fixture(scope="module")
def tight(postgres_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A 2-second request deadline: a stream must outlive it."""
    log = tmp_path_factory.mktemp("sse") / "serve.log"
    yield from start_server(postgres_dsn, log, FRONTLINE_REQUEST_TIMEOUT_SECONDS="2")


@asynccontextmanager
async def events(
    server: Server, query: str, *, get: bool = False, **variables: Any
) -> AsyncIterator[AsyncIterator[tuple[str, Any]]]:
    """The (event, data) pairs of one SSE subscription."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(WAIT, read=None)) as http:
        if get:  # as EventSource does it
            params = {"query": query, "variables": json.dumps(variables)}
            stream = http.stream("GET", server.graphql, params=params, headers=EVENT_STREAM)
        else:
            body = {"query": query, "variables": variables}
            stream = http.stream("POST", server.graphql, json=body, headers=EVENT_STREAM)
        async with stream as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")

            async def parsed() -> AsyncIterator[tuple[str, Any]]:
                event, data = None, None
                async for line in response.aiter_lines():
                    if line.startswith("event: "):
                        event = line.removeprefix("event: ")
                    elif line.startswith("data: "):
                        data = line.removeprefix("data: ")
                    elif line == "" and event is not None:
                        yield event, json.loads(data) if data else None
                        event, data = None, None

            yield parsed()


async def take(stream: AsyncIterator[tuple[str, Any]], n: int) -> list[Any]:
    found = []
    async with asyncio.timeout(WAIT):
        while len(found) < n:
            event, data = await anext(stream)
            assert event == "next", (event, data)
            found.append(data["data"])
    return found


@pytest.mark.parametrize("get", [False, True], ids=["POST (curl -N)", "GET (EventSource)"])
async def test_a_subscriber_over_sse_catches_up_then_follows_live(
    server: Server, get: bool
) -> None:
    after = str(await asyncio.to_thread(head, server) - 2)
    async with events(server, ENTRIES, get=get, after=after) as stream:
        caught_up = await take(stream, 2)
        await asyncio.to_thread(post, server, REGISTER, server.writer_key, s=f"sse-{int(get)}")
        [live] = await take(stream, 1)
    cursors = [e["logEntries"]["cursor"] for e in caught_up]
    assert cursors == [str(int(after) + 1), str(int(after) + 2)]
    assert live["logEntries"]["type"] == "Actor.Registered"


def test_a_subscription_sent_as_a_plain_request_is_a_coded_client_error(server: Server) -> None:
    response = post(server, FEED)
    body = response.json()
    assert codes(body) == ["STREAM_REQUIRED"]
    assert "INTERNAL_SERVER_ERROR" not in response.text


async def test_an_sse_stream_outlives_the_request_deadline(tight: Server) -> None:
    async with events(tight, ENTRIES) as stream:
        await asyncio.sleep(3)  # past the 2 s deadline
        await asyncio.to_thread(post, tight, REGISTER, tight.writer_key, s="sse-outlives")
        [live] = await take(stream, 1)
    assert live["logEntries"]["type"] == "Actor.Registered"


async def _streams(server: Server) -> int:
    async with httpx.AsyncClient(timeout=WAIT) as http:
        health = (await http.get(f"{server.url}/healthz")).json()
    return int(health["subscriptions"]["streams"])


async def test_an_sse_stream_ends_when_its_client_goes_away(server: Server) -> None:
    before = await _streams(server)
    async with events(server, ENTRIES, after="0") as stream:
        await take(stream, 1)
        assert await _streams(server) == before + 1
    for _ in range(100):  # polled: the server notices the hang-up on its own time
        if await _streams(server) == before:
            return
        await asyncio.sleep(0.1)
    pytest.fail("the stream outlived its client")
