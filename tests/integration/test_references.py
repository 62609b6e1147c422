"""Time and references a client can use: every write's record time, `knownAtPosition` beside
every `knownAt`, corrections that name their incident by idempotency key, and unknown places
or actors named back as the client sent them."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from api.auth import Role, create_key
from tests.support.graphql_client import ask, codes, data
from tests.support.in_process import InProcess

pytestmark = pytest.mark.slow


CAPTURE = """mutation ($ik: String, $places: [String!]!, $from: String) { recordCapture(
  incident: {occurredAt: "2024-11-20T00:00:00+03:00", precision: DAY, places: $places,
             sources: [{outlet: "Wire", quote: "taken"}], idempotencyKey: $ik},
  details: {by: ["hts"], takenFrom: $from}) { id position recordedAt replayed } }"""
DISPUTE_BY_KEY = """mutation ($k: String!) { dispute(correction: {incidentKey: $k},
  source: {outlet: "Army", role: PARTY, quote: "no"}, reason: "denied") {
  id position recordedAt } }"""


async def _log_time(api: InProcess, position: int) -> Any:
    conn = await asyncpg.connect(api.dsn)
    try:
        return await conn.fetchval(
            "SELECT recorded_at FROM public.frontline_events WHERE notification_id = $1", position
        )
    finally:
        await conn.close()


async def test_a_mutation_returns_the_record_time_of_what_it_wrote(api: InProcess) -> None:
    written = data(api, CAPTURE, api.writer_key, places=["yadgun"], ik="refs/time")
    payload = written["recordCapture"]
    stored = await _log_time(api, payload["position"])
    assert payload["recordedAt"] == stored.isoformat()
    replayed = data(api, CAPTURE, api.writer_key, places=["yadgun"], ik="refs/time")
    assert replayed["recordCapture"] == {**payload, "replayed": True}


KNOWN_AT_POSITION = """query ($p: Int!) {
  controlAt(place: "al-wahshiyya", asOf: "2024-11-25T00:00:00Z", knownAtPosition: $p) {
    status controllers { slug } }
  controlHistory(place: "al-wahshiyya", knownAtPosition: $p) { status }
  controlMap(first: 100, knownAtPosition: $p) { nodes { place { slug } state { status } } }
  controlMapGeoJson(knownAtPosition: $p)
  changes(from: "2024-11-01T00:00:00Z", to: "2024-12-30T00:00:00Z", knownAtPosition: $p) {
    place { slug } }
  place(ref: "al-wahshiyya") { control(knownAtPosition: $p) { status }
                               history(knownAtPosition: $p) { status } }
  actor(ref: "hts") { placesHeld(knownAtPosition: $p) { slug }
    gainsAndLosses(from: "2024-11-01T00:00:00Z", to: "2024-12-30T00:00:00Z",
                   knownAtPosition: $p) { gained { place { slug } } } }
}"""


def test_known_at_position_asks_what_was_known_right_after_a_write(api: InProcess) -> None:
    """Before the write, al-Wahshiyya is the army's (as the sample infers); right after a
    late report of HTS taking it on 20 Nov, the history starts with HTS."""
    written = data(
        api, CAPTURE, api.writer_key, places=["al-wahshiyya"], ik="refs/late",
        **{"from": "syrian-arab-army"},
    )["recordCapture"]  # fmt: skip
    position = written["position"]
    before = data(api, KNOWN_AT_POSITION, p=position - 1)
    after = data(api, KNOWN_AT_POSITION, p=position)
    assert before["controlHistory"] != after["controlHistory"]
    assert before["controlAt"]["controllers"] == [{"slug": "syrian-arab-army"}]
    assert after["controlAt"]["controllers"] == [{"slug": "hts"}]
    assert before["place"]["history"] == before["controlHistory"]
    assert after["place"]["history"] == after["controlHistory"]
    by_time = data(
        api,
        'query ($k: DateTime!) { controlHistory(place: "al-wahshiyya", knownAt: $k) { status } }',
        k=written["recordedAt"],
    )
    assert by_time["controlHistory"] == after["controlHistory"]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ('knownAt: "2024-12-01T00:00:00Z", knownAtPosition: 3', "knownAtPosition"),
        ("knownAtPosition: -1", "knownAtPosition"),
    ],
)
def test_known_at_position_is_checked(api: InProcess, arguments: str, field: str) -> None:
    body = ask(api, f'{{ controlAt(place: "hama", {arguments}) {{ status }} }}')
    assert codes(body) == ["INVALID_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == field


async def test_a_correction_can_name_its_incident_by_the_idempotency_key(api: InProcess) -> None:
    written = data(api, CAPTURE, api.writer_key, places=["erze"], ik="refs/by-key")
    disputed = data(api, DISPUTE_BY_KEY, api.writer_key, k="refs/by-key")["dispute"]
    assert disputed["id"] == written["recordCapture"]["id"]
    # Another writer's key names nothing: keys belong to who recorded with them.
    conn = await asyncpg.connect(api.dsn)
    try:
        other = await create_key(conn, "another desk", Role.WRITER)
    finally:
        await conn.close()
    assert codes(ask(api, DISPUTE_BY_KEY, other, k="refs/by-key")) == ["UNKNOWN_INCIDENT"]


def test_a_correction_names_its_incident_one_way_only(api: InProcess) -> None:
    both = """mutation { retract(correction: {incident: "SW5jaWRlbnQ6eA==", incidentKey: "k"},
      reason: "r") { position } }"""
    neither = 'mutation { retract(correction: {}, reason: "r") { position } }'
    for query in (both, neither):
        body = ask(api, query, api.writer_key)
        assert codes(body) == ["INVALID_INPUT"], body
        assert body["errors"][0]["extensions"]["field"] == "incident"


@pytest.mark.parametrize(
    ("variables", "code", "field", "named"),
    [
        ({"places": ["nowhere-at-all"]}, "UNKNOWN_PLACE", "places", "nowhere-at-all"),
        (
            {"places": ["erze"], "from": "nobody-at-all"},
            "UNKNOWN_ACTOR",
            "takenFrom",
            "nobody-at-all",
        ),
    ],
    ids=["a place", "an actor"],
)
def test_an_unknown_place_or_actor_is_named_as_the_client_sent_it(
    api: InProcess, variables: dict[str, Any], code: str, field: str, named: str
) -> None:
    body = ask(api, CAPTURE, api.writer_key, **variables)
    assert codes(body) == [code]
    [error] = body["errors"]
    assert error["extensions"]["field"] == field
    assert repr(named) in error["message"]
    assert "-" * 4 not in error["message"].replace(named, "")  # no derived UUID
