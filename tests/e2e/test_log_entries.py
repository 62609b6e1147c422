"""Every change reaches subscribers, the same way every time.

`logEntries` streams every entry of the log (recordings, each correction, registrations)
with the incident as it stood right after it; `incidents` streams each incident as it was
recorded. A cursor names the same item whichever path serves it: a subscription's in-memory
ring, the database (a server whose ring holds 2 rows), or a live stream shared by identical
subscriptions. A property test drives random writes and corrections through all three.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.graphql_client import codes, head
from tests.support.sample_server import Server, serve_database, start_server

pytestmark = pytest.mark.slow

WAIT = 15.0
ENTRY = """
  cursor position type reason recordedBy aggregateId
  source { outlet quote }
  amendment { before { occurredAt precision places { slug } }
              after { occurredAt precision places { slug } } }
  incident { id status occurredAt precision summary places { slug } }
  place { slug } actor { slug }
"""
ENTRIES = f"subscription ($after: String, $filter: EntryFilter) {{ logEntries(after: $after, filter: $filter) {{ {ENTRY} }} }}"  # noqa: E501
INCIDENTS = """subscription ($after: String) { incidents(after: $after) {
  cursor node { id status summary occurredAt places { slug } } } }"""


@pytest.fixture(scope="module")
def ring(postgres_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose subscriptions read the recent log from an in-memory ring."""
    log = tmp_path_factory.mktemp("entries") / "serve.log"
    yield from start_server(postgres_dsn, log)


@pytest.fixture(scope="module")
def paged(ring: Server) -> Iterator[Server]:
    """A second server on the same database, whose ring holds 2 rows: its subscribers read
    from the database, a page at a time."""
    yield from serve_database(ring, FRONTLINE_SUBSCRIPTION_BUFFER="2")


async def mutate(server: Server, query: str, **variables: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=WAIT) as http:
        response = await http.post(
            server.graphql,
            json={"query": query, "variables": variables},
            headers=server.headers(server.writer_key),
        )
    body: dict[str, Any] = response.json()
    return body


class Stream:
    """One graphql-transport-ws subscription over a raw socket."""

    def __init__(self, server: Server, query: str, **variables: Any) -> None:
        self.server, self.query, self.variables = server, query, variables
        self.socket: Any = None

    async def __aenter__(self) -> Stream:
        self.socket = await websockets.connect(
            self.server.ws,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        )
        await self.socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await self.socket.recv())["type"] == "connection_ack"
        payload = {"query": self.query, "variables": self.variables}
        await self.socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.socket.close()

    async def until(self, position: int) -> list[dict[str, Any]]:
        """Items up to and including log position ``position``."""
        items: list[dict[str, Any]] = []
        async with asyncio.timeout(WAIT):
            while not items or int(items[-1]["cursor"]) < position:
                message = json.loads(await self.socket.recv())
                assert message["type"] == "next", message
                assert "errors" not in message["payload"], message
                [item] = message["payload"]["data"].values()
                items.append(item)
        return items


async def _head(server: Server) -> int:
    return await asyncio.to_thread(head, server)


async def _projected(server: Server, position: int) -> None:
    query = f"{{ fresh(position: {position}, timeoutMs: 10000) {{ __typename }} }}"
    async with httpx.AsyncClient(timeout=WAIT) as http:
        body = (await http.post(server.graphql, json={"query": query})).json()
    assert "errors" not in body, body


# -- what an entry says --------------------------------------------------------------------------


async def test_a_subscriber_from_the_start_gets_every_entry_of_the_sample_in_log_order(
    ring: Server,
) -> None:
    sample_head = 32
    async with Stream(ring, ENTRIES, after="0") as stream:
        entries = await stream.until(sample_head)
    assert [e["position"] for e in entries] == list(range(1, sample_head + 1))
    types = {e["type"] for e in entries}
    assert {"Place.Registered", "Actor.Registered", "Incident.Recorded"} <= types
    registered = next(e for e in entries if e["type"] == "Place.Registered")
    assert registered["place"]["slug"]
    assert registered["incident"] is None
    recorded = next(e for e in entries if e["type"] == "Incident.Recorded")
    assert recorded["incident"]["status"] == "REPORTED"


RECORD = """mutation ($key: String!) { recordCapture(
  incident: {occurredAt: "2024-12-05T00:00:00+03:00", precision: DAY, places: ["erze"],
             sources: [{outlet: "Wire", quote: "taken"}], summary: "followed",
             idempotencyKey: $key},
  details: {by: ["hts"], takenFrom: "syrian-arab-army"}) { id position } }"""
DISPUTE = """mutation ($i: ID!) { dispute(correction: {incident: $i},
  source: {outlet: "Army", role: PARTY, quote: "no"}, disputedBy: "syrian-arab-army",
  reason: "the army denies it") { position } }"""
AMEND = """mutation ($i: ID!) { amend(correction: {incident: $i}, amendment: {
  occurredAt: "2024-12-06T00:00:00+03:00", precision: DAY, places: ["kafrtun"],
  reason: "a day later, the next village"}) { position } }"""
RETRACT = """mutation ($i: ID!) { retract(correction: {incident: $i}, reason: "old footage") {
  position } }"""


async def test_corrections_reach_a_subscriber_with_their_own_fields(ring: Server) -> None:
    """The bot that announced a capture hears it disputed, amended and retracted."""
    after = await _head(ring)
    only = {"place": "kafrtun"}
    async with Stream(ring, ENTRIES, after=str(after), filter=only) as stream:
        recorded = await mutate(ring, RECORD, key="entries/followed")
        await asyncio.sleep(0)
        incident = recorded["data"]["recordCapture"]["id"]
        for correction in (DISPUTE, AMEND, RETRACT):
            body = await mutate(ring, correction, i=incident)
            assert "errors" not in body, body
        last = body["data"]["retract"]["position"]
        entries = await stream.until(last)
    # The filter is on the incident as of each entry: it was at Erze until the amendment.
    assert [e["type"] for e in entries] == ["Incident.Amended", "Incident.Retracted"]
    amended, retracted = entries
    assert amended["reason"] == "a day later, the next village"
    assert amended["amendment"]["before"]["places"] == [{"slug": "erze"}]
    assert amended["amendment"]["after"]["places"] == [{"slug": "kafrtun"}]
    assert amended["amendment"]["after"]["occurredAt"].startswith("2024-12-06")
    assert amended["incident"]["status"] == "DISPUTED"
    assert retracted["incident"]["status"] == "RETRACTED"
    assert retracted["reason"] == "old footage"


async def test_the_disputed_entry_carries_its_source_and_party(ring: Server) -> None:
    after = await _head(ring)
    async with Stream(
        ring, ENTRIES, after=str(after), filter={"types": ["Incident.Disputed"]}
    ) as stream:
        recorded = await mutate(ring, RECORD, key="entries/disputed")
        body = await mutate(ring, DISPUTE, i=recorded["data"]["recordCapture"]["id"])
        [entry] = await stream.until(body["data"]["dispute"]["position"])
    assert entry["reason"] == "the army denies it"
    assert entry["source"] == {"outlet": "Army", "quote": "no"}
    assert entry["incident"]["status"] == "DISPUTED"


async def test_an_unknown_entry_filter_value_is_a_typed_error(ring: Server) -> None:
    async with httpx.AsyncClient(timeout=WAIT) as http:
        body = (
            await http.post(
                ring.graphql,
                json={"query": ENTRIES, "variables": {"filter": {"kinds": ["NOPE"]}}},
            )
        ).json()
    assert codes(body)


# -- the same item from every path -------------------------------------------------------------

# What a random history does: record a capture, or correct one recorded before (by index).
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("record"), st.sampled_from(["erze", "kafrtun", "yadgun", "hama"])),
        st.tuples(
            st.sampled_from(["corroborate", "dispute", "confirm", "amend", "retract"]),
            st.integers(0, 5),
        ),
    ),
    min_size=2,
    max_size=10,
)
CORRECTIONS = {
    "corroborate": """mutation ($i: ID!) { corroborate(correction: {incident: $i},
        source: {outlet: "Second wire", quote: "also"}) { position } }""",
    "dispute": DISPUTE,
    "confirm": """mutation ($i: ID!) { confirm(correction: {incident: $i},
        source: {outlet: "Geolocated", quote: "yes"}) { position } }""",
    "amend": """mutation ($i: ID!) { amend(correction: {incident: $i}, amendment: {
        occurredAt: "2024-12-07T00:00:00+03:00", precision: DAY, reason: "later"}) {
        position } }""",
    "retract": RETRACT,
}
RECORD_AT = """mutation ($p: String!) { recordCapture(
  incident: {occurredAt: "2024-12-05T00:00:00+03:00", precision: DAY, places: [$p],
             sources: [{outlet: "Wire", quote: "taken"}], summary: "random"},
  details: {by: ["hts"]}) { id position } }"""


async def _write(server: Server, operations: list[tuple[str, Any]]) -> int | None:
    """Carry the operations out; the log position of the last incident recorded, if any."""
    recorded: list[str] = []
    last_record = None
    for name, argument in operations:
        if name == "record":
            body = (await mutate(server, RECORD_AT, p=argument))["data"]["recordCapture"]
            recorded.append(body["id"])
            last_record = body["position"]
        elif recorded:
            # A correction the domain refuses (of a retracted incident) writes nothing.
            await mutate(server, CORRECTIONS[name], i=recorded[argument % len(recorded)])
    return last_record


async def _every_path(ring: Server, paged: Server, operations: list[tuple[str, Any]]) -> None:
    start = await _head(ring)
    # Live subscriptions with no cursor share one stream with their identical twins.
    async with (
        Stream(ring, ENTRIES) as entries,
        Stream(ring, ENTRIES),
        Stream(ring, INCIDENTS) as incidents,
        Stream(ring, INCIDENTS),
    ):
        await asyncio.sleep(0.5)  # live from now: registered before the writes
        last_record = await _write(ring, operations)
        end = await _head(ring)
        if end == start:
            return  # every correction came before any recording: nothing was written
        await _projected(ring, end)
        await _projected(paged, end)
        followed = [(ENTRIES, entries, end), (INCIDENTS, incidents, last_record)]
        for query, shared, last in followed:
            if last is None:
                continue  # nothing recorded, nothing to compare
            async with (
                Stream(ring, query, after=str(start)) as from_ring,
                Stream(paged, query, after=str(start)) as from_database,
            ):
                served = [await s.until(last) for s in (shared, from_ring, from_database)]
            assert served[0] == served[1] == served[2], query
            cursors = [int(item["cursor"]) for item in served[0]]
            assert cursors == sorted(set(cursors))
            assert cursors[-1] == last


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=OPERATIONS)
def test_ring_database_and_shared_stream_deliver_identical_items(
    ring: Server, paged: Server, operations: list[tuple[str, Any]]
) -> None:
    asyncio.run(_every_path(ring, paged, operations))
