"""The API as standard GraphQL clients expect it, beyond the spec's own audit
(test_graphql_over_http.py): status codes and media types, one operation per request,
the error codes of parsing and validation, persisted queries, and Relay connections."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.graphql_client import codes, data
from tests.support.sample_server import Server

pytestmark = pytest.mark.slow

GRAPHQL_RESPONSE = "application/graphql-response+json"


def send(server: Server, body: dict[str, Any], accept: str | None = None) -> httpx.Response:
    headers = {} if accept is None else {"Accept": accept}
    return httpx.post(server.graphql, json=body, headers=headers, timeout=10)


@pytest.mark.parametrize(
    ("query", "code"),
    [("{ controlAt(place: ", "GRAPHQL_PARSE_FAILED"), ("{ nope }", "GRAPHQL_VALIDATION_FAILED")],
    ids=["parse", "validation"],
)
def test_a_request_error_is_a_400_without_data_for_graphql_response_clients(
    server: Server, query: str, code: str
) -> None:
    response = send(server, {"query": query}, GRAPHQL_RESPONSE)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = response.json()
    assert "data" not in body
    assert codes(body) == [code]
    # A client of plain JSON still gets a 200, as GraphQL servers always answered.
    legacy = send(server, {"query": query})
    assert legacy.status_code == 200
    assert legacy.headers["content-type"].startswith("application/json")
    assert codes(legacy.json()) == [code]


def test_an_execution_error_is_a_200_with_its_data(server: Server) -> None:
    response = send(server, {"query": '{ place(ref: "hama") { slug } node(id: "x") { id } }'},
                    GRAPHQL_RESPONSE)  # fmt: skip
    assert response.status_code == 200
    body = response.json()
    assert body["data"]["place"] == {"slug": "hama"}
    assert codes(body) == ["INVALID_ID"]


def test_several_operations_without_an_operation_name_are_refused(server: Server) -> None:
    document = 'query A { __typename } query B { place(ref: "hama") { slug } }'
    body = send(server, {"query": document}).json()
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert body.get("data") is None
    named = send(server, {"query": document, "operationName": "B"}).json()
    assert named == {"data": {"place": {"slug": "hama"}}}


def test_a_hash_only_request_gets_the_error_apollo_falls_back_on(server: Server) -> None:
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}
    body = send(server, {"extensions": persisted}).json()
    [error] = body["errors"]
    assert error["message"] == "PersistedQueryNotSupported"
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_SUPPORTED"
    # The link then sends the query with the hash, which simply runs.
    full = send(server, {"query": "{ __typename }", "extensions": persisted}).json()
    assert full == {"data": {"__typename": "Query"}}


def test_a_body_that_is_not_json_gets_a_json_error(server: Server) -> None:
    response = httpx.post(
        server.graphql, content=b"{", headers={"Content-Type": "application/json"}, timeout=10
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


PAGE = """query ($after: String) { places(first: 2, after: $after) {
  edges { cursor node { slug } }
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""


def test_connections_have_relay_s_page_info(server: Server) -> None:
    first = data(server, PAGE)["places"]
    info = first["pageInfo"]
    assert info["hasPreviousPage"] is False
    assert info["startCursor"] == first["edges"][0]["cursor"]
    assert info["endCursor"] == first["edges"][-1]["cursor"]
    second = data(server, PAGE, after=info["endCursor"])["places"]
    assert second["pageInfo"]["hasPreviousPage"] is True


REGISTER = """mutation ($s: String!, $n: String!) { registerPlace(input: {slug: $s, name: $n,
  kind: VILLAGE, latitude: 35.0, longitude: 36.0, country: "Syria"}) { position } }"""


@pytest.mark.parametrize("field", ["places", "controlMap"])
def test_a_place_registered_between_two_pages_repeats_and_skips_nothing(
    server: Server, field: str
) -> None:
    node = "slug" if field == "places" else "place { slug }"
    query = f"""query ($after: String) {{ {field}(first: 3, after: $after) {{
      nodes {{ {node} }} pageInfo {{ endCursor hasNextPage }} }} }}"""

    def slugs(page: dict[str, Any]) -> list[str]:
        return [n["slug"] if "slug" in n else n["place"]["slug"] for n in page["nodes"]]

    first = data(server, query)[field]
    # "Aaa…" sorts before every name of the first page: an offset cursor would repeat a row.
    data(server, REGISTER, server.writer_key, s=f"aaa-{field.lower()}", n=f"Aaa {field}")
    data(server, "{ fresh(position: 1) { __typename } }")
    seen = slugs(first)
    after = first["pageInfo"]["endCursor"]
    while after is not None:
        page = data(server, query, after=after)[field]
        seen += slugs(page)
        after = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None
    assert len(seen) == len(set(seen)), seen
    everything = data(server, f"{{ {field}(first: 100) {{ nodes {{ {node} }} }} }}")[field]
    assert set(seen) == set(slugs(everything)) - {f"aaa-{field.lower()}"}


def test_a_mutation_over_get_is_refused(server: Server) -> None:
    response = httpx.get(
        server.graphql,
        params={
            "query": 'mutation { registerActor(input: {slug: "via-get", name: "G", '
            "kind: OTHER}) { position } }"
        },
        headers=server.headers(server.writer_key),
        timeout=10,
    )
    assert response.status_code == 405  # the GraphQL-over-HTTP spec's MUST
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
