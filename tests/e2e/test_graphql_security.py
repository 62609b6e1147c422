"""Auth, limits and hostile input over real HTTP: keys and roles, closed reads, query
depth/token/alias limits, body size, malformed requests, and no trace ever leaking."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
from graphql import get_introspection_query

from api.auth import Role, create_key, revoke_key
from tests.support.graphql_client import ask, assert_no_leak, codes, data, head, post
from tests.support.sample_server import Server, start_server

pytestmark = pytest.mark.slow

MAX_BODY = 1024 * 1024

# -- every mutation, from introspection ----------------------------------------------------

TYPE_REF = "kind name ofType { kind name ofType { kind name ofType { kind name } } }"
MUTATIONS = f"""{{ __schema {{ mutationType {{ fields {{ name
    args {{ name type {{ {TYPE_REF} }} }} type {{ {TYPE_REF} }} }} }} }} }}"""
INPUT_TYPES = f"""{{ __schema {{ types {{ name kind isOneOf enumValues {{ name }}
    inputFields {{ name type {{ {TYPE_REF} }} }} }} }} }}"""
SCALARS: dict[str, Any] = {
    "String": "x",
    "ID": "SW5jaWRlbnQ6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw",
    "Int": 1,
    "Float": 1.0,
    "Boolean": False,
    "DateTime": "2024-12-05T00:00:00+03:00",
    "JSON": {},
}


def _type_literal(ref: dict[str, Any]) -> str:
    if ref["kind"] == "NON_NULL":
        return _type_literal(ref["ofType"]) + "!"
    if ref["kind"] == "LIST":
        return f"[{_type_literal(ref['ofType'])}]"
    return str(ref["name"])


def _value(ref: dict[str, Any], types: dict[str, dict[str, Any]]) -> Any:
    """A well-formed value of a GraphQL input type: its required fields only."""
    if ref["kind"] == "NON_NULL":
        return _value(ref["ofType"], types)
    if ref["kind"] == "LIST":
        return [_value(ref["ofType"], types)]
    named = types[ref["name"]]
    if named["kind"] == "SCALAR":
        return SCALARS[named["name"]]
    if named["kind"] == "ENUM":
        return named["enumValues"][0]["name"]
    fields = named["inputFields"]
    if named.get("isOneOf"):
        first = fields[0]
        return {first["name"]: _value(first["type"]["ofType"] or first["type"], types)}
    return {f["name"]: _value(f["type"], types) for f in fields if f["type"]["kind"] == "NON_NULL"}


def _selection(ref: dict[str, Any]) -> str:
    while ref.get("ofType"):
        ref = ref["ofType"]
    return "{ __typename }" if ref["kind"] in {"OBJECT", "INTERFACE", "UNION"} else ""


def every_mutation(server: Server) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(name, operation, variables) for each mutation field, with well-formed arguments."""
    fields = data(server, MUTATIONS)["__schema"]["mutationType"]["fields"]
    types = {t["name"]: t for t in data(server, INPUT_TYPES)["__schema"]["types"]}
    for field in fields:
        required = [a for a in field["args"] if a["type"]["kind"] == "NON_NULL"]
        params = ", ".join(f"${a['name']}: {_type_literal(a['type'])}" for a in required)
        args = ", ".join(f"{a['name']}: ${a['name']}" for a in required)
        operation = (
            f"mutation {'(' + params + ')' if params else ''} "
            f"{{ {field['name']}{'(' + args + ')' if args else ''} {_selection(field['type'])} }}"
        )
        yield field["name"], operation, {a["name"]: _value(a["type"], types) for a in required}


def test_introspection_lists_the_mutations_the_auth_tests_cover(server: Server) -> None:
    names = {name for name, _, _ in every_mutation(server)}
    assert {"registerPlace", "recordCapture", "recordBatch", "retract", "amend"} <= names
    assert len(names) >= 16


def test_every_mutation_without_a_key_is_unauthenticated(server: Server) -> None:
    before = head(server)
    for name, operation, variables in every_mutation(server):
        body = ask(server, operation, None, **variables)
        assert codes(body) == ["UNAUTHENTICATED"], (name, body)
    assert head(server) == before


def test_every_mutation_with_a_reader_key_is_forbidden(server: Server) -> None:
    before = head(server)
    for name, operation, variables in every_mutation(server):
        body = ask(server, operation, server.reader_key, **variables)
        assert codes(body) == ["FORBIDDEN"], (name, body)
    assert head(server) == before


def test_a_key_that_is_not_one_counts_as_no_key(server: Server) -> None:
    for key in ("nonsense", "fl_nothex_secret", f"fl_{'0' * 32}_guess", server.writer_key + "x"):
        body = ask(
            server, 'mutation { registerActor(input: {slug: "x", name: "X", kind: OTHER}) { id } }',
            key,
        )  # fmt: skip
        assert codes(body) == ["UNAUTHENTICATED"]


def test_an_admin_key_may_write(server: Server) -> None:
    result = data(
        server,
        'mutation { registerActor(input: {slug: "admin-made", name: "Admin Made", kind: OTHER}) '
        "{ actor { slug } } }",
        key=server.admin_key,
    )
    assert result["registerActor"]["actor"] == {"slug": "admin-made"}


async def _with_conn(dsn: str, action: Any) -> Any:
    conn = await asyncpg.connect(dsn)
    try:
        return await action(conn)
    finally:
        await conn.close()


def test_a_revoked_key_is_refused(server: Server) -> None:
    key = asyncio.run(_with_conn(server.dsn, lambda c: create_key(c, "soon revoked", Role.WRITER)))
    mutation = 'mutation { registerActor(input: {slug: "%s", name: "R", kind: OTHER}) { id } }'
    assert "errors" not in ask(server, mutation % "before-revoke", key)
    key_id = UUID(hex=key.removeprefix("fl_").partition("_")[0])
    assert asyncio.run(_with_conn(server.dsn, lambda c: revoke_key(c, key_id)))
    assert codes(ask(server, mutation % "after-revoke", key)) == ["UNAUTHENTICATED"]


def test_keys_are_stored_hashed_never_in_clear(server: Server) -> None:
    rows = asyncio.run(_with_conn(server.dsn, lambda c: c.fetch("SELECT * FROM public.api_keys")))
    stored = " ".join(
        (bytes(v).hex() if isinstance(v, bytes | memoryview) else str(v))
        for row in rows
        for v in row.values()
    )
    for key in (server.reader_key, server.writer_key, server.admin_key):
        secret = key.removeprefix("fl_").partition("_")[2]
        assert len(secret) >= 32
        assert secret not in stored
        assert key not in stored
        assert secret.encode().hex() not in stored


# -- closed reads --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def closed_server(postgres_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("closed") / "serve.log"
    yield from start_server(postgres_dsn, log, FRONTLINE_OPEN_READS="false")


CLOSED_READS = [
    '{ controlAt(place: "hama") { status } }',
    '{ place(ref: "hama") { slug } }',
    "{ places(first: 1) { nodes { slug } } }",
    "{ actors(first: 1) { nodes { slug } } }",
    "{ incidents(first: 1) { nodes { kind } } }",
    "{ log(first: 1) { nodes { position } } }",
    "{ controlMap(first: 1) { nodes { state { status } } } }",
    "{ controlMapGeoJson }",
    '{ controlHistory(place: "hama") { status } }',
    '{ changes(from: "2024-11-30T00:00:00Z", to: "2024-12-06T00:00:00Z") { place { slug } } }',
]


@pytest.mark.parametrize("query", CLOSED_READS)
def test_with_closed_reads_a_keyless_read_is_unauthenticated(
    closed_server: Server, query: str
) -> None:
    response = post(closed_server, query)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert codes(response.json()) == ["UNAUTHENTICATED"]
    assert "errors" not in ask(closed_server, query, closed_server.reader_key)


# -- abusive queries -----------------------------------------------------------------------


def test_a_query_deeper_than_the_limit_is_refused(server: Server) -> None:
    deep = '{ place(ref: "hama") { ' + "parent { " * 14 + "slug" + " }" * 14 + " } }"
    body = ask(server, deep)
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "depth" in body["errors"][0]["message"]


def test_a_query_with_too_many_tokens_is_refused(server: Server) -> None:
    body = ask(server, "{ " + " ".join(["__typename"] * 5000) + " }")
    assert codes(body) == ["GRAPHQL_PARSE_FAILED"]  # the parser stops at the limit


def test_a_query_with_too_many_aliases_is_refused(server: Server) -> None:
    aliases = " ".join(f'a{i}: controlAt(place: "hama") {{ status }}' for i in range(40))
    body = ask(server, "{ " + aliases + " }")
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert body.get("data") is None


def test_introspection_works(server: Server) -> None:
    schema = data(server, get_introspection_query(descriptions=True))["__schema"]
    assert schema["queryType"]["name"] == "Query"
    assert schema["mutationType"]["name"] == "Mutation"
    names = {t["name"] for t in schema["types"]}
    assert {"Place", "Actor", "Incident", "ControlState", "IncidentDetails"} <= names


# -- hostile HTTP --------------------------------------------------------------------------


def _still_serving(server: Server) -> None:
    assert data(server, '{ place(ref: "hama") { slug } }') == {"place": {"slug": "hama"}}


def test_a_body_over_the_limit_is_refused_with_413(server: Server) -> None:
    padding = "x" * (MAX_BODY + 1)
    response = httpx.post(
        server.graphql, json={"query": "{ __typename }", "padding": padding}, timeout=30
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    _still_serving(server)


def test_a_streamed_body_over_the_limit_is_refused_with_413(server: Server) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"query": "{ __typename }", "padding": "'
        for _ in range(20):
            yield b"x" * 65536  # 1.25 MiB in all, with no Content-Length
        yield b'"}'

    response = httpx.post(
        server.graphql,
        content=chunks(),
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    _still_serving(server)


def test_a_body_just_under_the_limit_is_served(server: Server) -> None:
    padding = "x" * (MAX_BODY - 100)
    response = httpx.post(
        server.graphql, json={"query": "{ __typename }", "extensions": {"p": padding}}, timeout=30
    )
    assert response.status_code == 200, response.text[:200]


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"query": ', "application/json"),
        (b"not json at all", "application/json"),
        (b'"a bare string"', "application/json"),
        (b"42", "application/json"),
        (b"null", "application/json"),
        (b'{"query": 42}', "application/json"),
        (b'{"query": "{ __typename }", "variables": "x"}', "application/json"),
        (b"[]", "application/json"),
        (b'{"query": "{ __typename }"}', "text/plain"),
        (b"query=%7B__typename%7D", "application/x-www-form-urlencoded"),
        (b"\xff\xfe\x00", "application/json"),
    ],
)
def test_a_malformed_request_is_a_client_error_and_the_server_keeps_serving(
    server: Server, content: bytes, content_type: str
) -> None:
    response = httpx.post(
        server.graphql, content=content, headers={"content-type": content_type}, timeout=10
    )
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert_no_leak(response.text)
    _still_serving(server)


@pytest.mark.parametrize(
    "variables",
    [{}, {"first": "ten"}, {"first": None}, {"first": 1.5}, {"first": 2**40}],
)
def test_a_variable_of_the_wrong_type_is_bad_user_input_not_a_server_error(
    server: Server, variables: dict[str, Any]
) -> None:
    body = ask(server, "query ($first: Int!) { log(first: $first) { __typename } }", **variables)
    assert codes(body) == ["BAD_USER_INPUT"], body


def test_a_datetime_variable_without_an_offset_is_refused_with_a_code(server: Server) -> None:
    query = 'query ($k: DateTime) { controlAt(place: "hama", knownAt: $k) { status } }'
    assert codes(ask(server, query, k="yesterday")) == ["BAD_USER_INPUT"]
    assert codes(ask(server, query, k="2024-12-04T12:00:00")) == ["INVALID_TIME"]


def test_no_error_response_leaks_a_traceback_or_a_path(server: Server) -> None:
    """Send a catalogue of bad requests; no answer may carry a trace, a file or a path."""
    requests = [
        "{ nope }",
        '{ node(id: "\\u0000") { id } }',
        '{ controlAt(place: "hama", asOf: "2024-13-45") { status } }',
        '{ controlAt(place: "hama", knownAt: "2024-12-01T00:00:00") { status } }',
        '{ incidents(first: 1, after: "!!!") { __typename } }',
        '{ places(first: 1, after: "b2Zmc2V0Oi01") { __typename } }',
        '{ places(first: 1, search: "   ") { __typename } }',
        "{ controlMap(first: 1, where: {area: {latitude: 99, longitude: 0, radiusKm: -1}}) "
        "{ __typename } }",
        "{ fresh(position: 10000000, timeoutMs: 10) { __typename } }",
        "mutation { recordBatch(commands: []) { position } }",
        "subscription { nothing }",
        "query A { __typename } query B { __typename }",
        "{" * 300,
    ]
    for query in requests:
        response = post(server, query, server.writer_key)
        assert response.status_code < 500, (query, response.text)
        assert_no_leak(response.text)
        if response.headers.get("content-type", "").startswith("application/json"):
            for error in response.json().get("errors", []):
                assert error.get("extensions", {}).get("code"), (query, error)
                assert error.get("extensions", {}).get("code") != "INTERNAL_SERVER_ERROR"
    _still_serving(server)
