"""Hostile input over the wire: every bad request gets a clear 4xx or a GraphQL error with
`extensions.code`, never a 500 or a traceback, writes nothing, and the server keeps serving."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import from_schema, nodes

from api.graphql.schema import schema
from tests.support.graphql_client import assert_no_leak, codes, head
from tests.support.sample_server import Server

pytestmark = pytest.mark.slow


def raw(server: Server, content: bytes, content_type: str | None = "application/json") -> Any:
    headers = {} if content_type is None else {"Content-Type": content_type}
    return httpx.post(server.graphql, content=content, headers=headers, timeout=20)


def assert_refused_cleanly(response: httpx.Response) -> None:
    """A 4xx, or a 200 whose every error carries a code; no trace either way."""
    assert response.status_code < 500, response.text
    assert_no_leak(response.text)
    if response.status_code == 200:
        found = codes(response.json())
        assert found, f"expected an error: {response.text}"
        assert all(found), response.text
    else:
        assert 400 <= response.status_code < 500, response.text


@pytest.fixture
def still_serving(server: Server) -> Iterator[None]:
    """After the test: nothing was written and the server still answers."""
    before = head(server)
    yield
    assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
    assert head(server) == before


# -- the request itself is wrong --------------------------------------------------------------

BAD_BODIES = {
    "truncated JSON": b'{"query": "{ places(first: 1) { nodes { slug } } }"',
    "JSON with trailing garbage": b'{"query": "{ __typename }"} trailing',
    "a JSON string": b'"{ __typename }"',
    "a JSON number": b"42",
    "JSON null": b"null",
    "an empty body": b"",
    "query is a number": b'{"query": 42}',
    "query is null": b'{"query": null}',
    "variables is a list": b'{"query": "{ __typename }", "variables": [1, 2]}',
    "variables is a string": b'{"query": "{ __typename }", "variables": "x"}',
    "operationName is an object": b'{"query": "{ __typename }", "operationName": {}}',
    "invalid UTF-8 in the body": b'{"query": "{ place(ref: \\"\xff\xfe\xc3\\") { slug } }"}',
    "a lone surrogate escape": b'{"query": "{ place(ref: \\"\\ud800\\") { slug } }"}',
    "a NUL in a string": b'{"query": "{ place(ref: \\"ha\\u0000ma\\") { slug } }"}',
    "deeply nested JSON": b'{"query": "{ __typename }", "variables": '
    + b'{"a": ' * 5000
    + b"1"
    + b"}" * 5001,
    "an empty batch": b"[]",
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_a_malformed_body_is_refused_cleanly(
    server: Server, still_serving: None, body: bytes
) -> None:
    assert_refused_cleanly(raw(server, body))


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/xml",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin-1",
        "application/x-www-form-urlencoded",
    ],
)
def test_a_wrong_content_type_is_refused_cleanly(
    server: Server, still_serving: None, content_type: str | None
) -> None:
    response = raw(server, b'{"query": "{ __typename }"}', content_type)
    # Refused, or (for a JSON body under a lenient type) answered; never a server error.
    assert response.status_code < 500, response.text
    assert_no_leak(response.text)


def test_an_oversized_body_is_refused_and_the_server_keeps_serving(
    server: Server, still_serving: None
) -> None:
    padding = " " * (2 * 1024 * 1024)
    response = raw(server, json.dumps({"query": "{ __typename }" + padding}).encode())
    assert response.status_code == 413, response.text
    assert codes(response.json()) == ["PAYLOAD_TOO_LARGE"]


# -- the query is hostile ---------------------------------------------------------------------

FRAGMENT_BOMB = (
    "query { ...A } "
    + " ".join(
        f"fragment {chr(65 + i)} on Query {{ ...{chr(66 + i)} ...{chr(66 + i)} }}"
        for i in range(20)
    )
    + " fragment U on Query { __typename }"
)
CYCLIC_FRAGMENTS = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"
ALIAS_BOMB = (
    "{ " + " ".join(f"a{i}: places(first: 100) {{ nodes {{ slug }} }}" for i in range(500)) + " }"
)
DIRECTIVE_BOMB = "{ __typename " + "@include(if: true) " * 2000 + "}"
DEEP = '{ place(ref: "hama") { ' + "parent { " * 60 + "slug" + " }" * 61 + " }"
HOSTILE_QUERIES = {
    "fragment bomb": FRAGMENT_BOMB,
    "cyclic fragments": CYCLIC_FRAGMENTS,
    "alias bomb": ALIAS_BOMB,
    "directive bomb": DIRECTIVE_BOMB,
    "deep nesting": DEEP,
    "unterminated string": '{ place(ref: "hama) { slug } }',
    "a huge page": "{ places(first: 1000000000) { nodes { slug } } }",
    "a page size past Int": "{ places(first: 99999999999999999999) { nodes { slug } } }",
    "a negative page": "{ incidents(first: -1) { nodes { id } } }",
    "an unknown field": "{ dropTables }",
    "a subscription over HTTP": "subscription { __typename }",
    "two anonymous operations": "{ __typename } { __typename }",
}


@pytest.mark.parametrize("query", HOSTILE_QUERIES.values(), ids=HOSTILE_QUERIES.keys())
def test_a_hostile_query_is_refused_cleanly(
    server: Server, still_serving: None, query: str
) -> None:
    started = time.monotonic()
    response = httpx.post(server.graphql, json={"query": query}, timeout=30)
    assert time.monotonic() - started < 10, "a hostile query took the server 10 s"
    assert_refused_cleanly(response)


# -- SQL metacharacters in every string argument ----------------------------------------------

NASTY = [
    "'; DROP TABLE frontline_events; --",
    '" OR 1=1 --',
    "hama' OR '1'='1",
    "%",
    "_",
    "\\",
    "$1",
    "$$; SELECT pg_sleep(10); $$",
    "hama\u0000",
    "ح' ; --",
    "x" * 10_000,
]
STRING_ARGUMENTS = {
    "place ref": "place(ref: $s) { slug }",
    "actor ref": "actor(ref: $s) { slug }",
    "controlAt place": "controlAt(place: $s) { status }",
    "controlHistory place": "controlHistory(place: $s) { status }",
    "places search": "places(first: 5, search: $s) { nodes { slug } }",
    "actors search": "actors(first: 5, search: $s) { nodes { slug } }",
    "map governorate": "controlMap(first: 5, where: {governorate: $s}) { nodes { __typename } }",
    "map controller": "controlMap(first: 5, where: {controller: $s}) { nodes { __typename } }",
    "feed governorate": "incidents(first: 5, filter: {governorate: $s}) { nodes { id } }",
    "feed place": "incidents(first: 5, filter: {place: $s}) { nodes { id } }",
    "feed actor": "incidents(first: 5, filter: {actor: $s}) { nodes { id } }",
    "feed cursor": "incidents(first: 5, after: $s) { nodes { id } }",
    "map cursor": "controlMap(first: 5, after: $s) { nodes { place { slug } } }",
    "log cursor": "log(first: 5, after: $s) { nodes { position } }",
    "node id": "node(id: $s) { id }",
    "incident id": "incident(id: $s) { id }",
}


@pytest.mark.parametrize("field", STRING_ARGUMENTS.values(), ids=STRING_ARGUMENTS.keys())
def test_sql_metacharacters_in_a_string_argument_are_just_data(
    server: Server, still_serving: None, field: str
) -> None:
    kind = "ID" if field.startswith(("node", "incident(")) else "String"
    query = f"query ($s: {kind}!) {{ {field} }}"
    for value in NASTY:
        response = httpx.post(
            server.graphql, json={"query": query, "variables": {"s": value}}, timeout=30
        )
        assert response.status_code == 200, response.text
        assert_no_leak(response.text)
        body = response.json()
        # Either nothing matched (null / empty) or a typed refusal; never an internal error.
        assert "INTERNAL_SERVER_ERROR" not in codes(body), (value, body)
        assert all(codes(body)), (value, body)


def test_sql_metacharacters_in_a_write_are_stored_verbatim(server: Server) -> None:
    value = "'; DELETE FROM frontline_events; -- $$ \\ %_"
    response = httpx.post(
        server.graphql,
        json={
            "query": """mutation ($s: String!) { recordCapture(
                incident: {occurredAt: "2024-12-05T00:00:00+03:00", places: ["erze"],
                           sources: [{outlet: $s, quote: $s}], summary: $s,
                           idempotencyKey: "hostile/sql-write"},
                details: {by: ["hts"]}) { position incident { summary } } }""",
            "variables": {"s": value},
        },
        headers=server.headers(server.writer_key),
        timeout=30,
    )
    body = response.json()
    assert "errors" not in body, body
    assert body["data"]["recordCapture"]["incident"]["summary"] == value
    assert head(server) == body["data"]["recordCapture"]["position"]


def test_a_nul_character_in_a_write_is_refused_before_it_can_stall_the_projector(
    server: Server, still_serving: None
) -> None:
    """PostgreSQL text cannot hold NUL: recorded, such an event could never be projected and
    every read model would stall behind it."""
    response = httpx.post(
        server.graphql,
        json={
            "query": """mutation ($s: String!) { recordCapture(
                incident: {occurredAt: "2024-12-05T00:00:00+03:00", places: ["erze"],
                           sources: [{outlet: "Wire"}], summary: $s},
                details: {by: ["hts"]}) { position } }""",
            "variables": {"s": "poison\u0000pill"},
        },
        headers=server.headers(server.writer_key),
        timeout=30,
    )
    assert codes(response.json()) == ["INVALID_INPUT"], response.text


# -- fuzzing the whole schema -----------------------------------------------------------------

SCALARS = {
    "DateTime": st.datetimes(timezones=st.timezones()).map(lambda t: nodes.String(t.isoformat())),
    "JSON": st.just(nodes.String("{}")),
}
FUZZED = from_schema(str(schema), custom_scalars=SCALARS)


@given(query=FUZZED)
@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_fuzzed_queries_and_mutations_never_fail_the_server_nor_write_when_refused(
    server: Server, query: str
) -> None:
    """Every query and mutation hypothesis-graphql builds from the schema (NUL characters
    and nulls included), sent with a writer key."""
    before = head(server)
    response = httpx.post(
        server.graphql,
        json={"query": query},
        headers=server.headers(server.writer_key),
        timeout=30,
    )
    assert response.status_code < 500, response.text
    assert_no_leak(response.text)
    body = response.json()
    assert "INTERNAL_SERVER_ERROR" not in codes(body), (query, body)
    if body.get("errors"):
        assert all(codes(body)), body
        assert head(server) == before, f"a refused request wrote to the log: {query}"
