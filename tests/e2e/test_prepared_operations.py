"""A query text's later answers (api.graphql.prepared: validated once, then run straight
through graphql-core) are the answers Strawberry's own path gave it the first time, over real
HTTP: data, errors and their codes, status and content type."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.sample_server import Server

# (query, variables, key): answers with data, domain errors, variables the schema refuses,
# an unauthenticated write, a text refused by validation, a partial result with an error.
CASES: list[tuple[str, dict[str, Any] | None, str | None]] = [
    ('{ place(ref: "hama") { slug name kind latitude longitude } }', None, None),
    ("query ($p: String!) { controlAt(place: $p) { status controllers { slug } } }",
     {"p": "hama"}, None),
    ("query ($p: String!) { controlAt(place: $p) { status } }", {"p": "no-such-place"}, None),
    ("query ($p: String!) { controlAt(place: $p) { status } }", {"p": 12}, None),
    ("query ($p: String!) { controlAt(place: $p) { status } }", {}, None),
    ("query ($n: Int!) { places(first: $n) { nodes { slug } } }", {"n": 3}, "reader"),
    ("query ($n: Int!) { places(first: $n) { nodes { slug } } }", {"n": -1}, None),
    ('{ controlAt(place: "hama") { status nosuchfield } }', None, None),
    ('mutation { registerActor(input: {slug: "x", name: "X", kind: OTHER}) { position } }',
     None, None),
    ('{ hama: place(ref: "hama") { slug } nowhere: place(ref: "nowhere") { slug } }', None, None),
    ('{ place(ref: "hama") { slug } node(id: "x") { id } }', None, None),
]  # fmt: skip


def _answer(server: Server, query: str, variables: dict[str, Any] | None, key: str | None) -> Any:
    keys = {"reader": server.reader_key, None: None}
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    response = httpx.post(server.graphql, json=body, headers=server.headers(keys[key]), timeout=10)
    return response.status_code, response.headers["content-type"], response.json()


@pytest.mark.parametrize(("n", "case"), list(enumerate(CASES)))
def test_a_text_is_answered_the_same_the_first_time_and_after(
    server: Server, n: int, case: tuple[str, dict[str, Any] | None, str | None]
) -> None:
    query, variables, key = case
    # A text of its own (a comment makes it so), so that its first answer is Strawberry's:
    # cases share queries, and the module's server remembers every text it has run.
    query = f"# case {n}\n{query}"
    first = _answer(server, query, variables, key)
    assert first[0] in (200, 400)
    again = [_answer(server, query, variables, key) for _ in range(3)]
    assert again == [first] * 3


def test_errors_keep_their_codes_on_the_prepared_path(server: Server) -> None:
    query = (
        'query ($p: String!) { place(ref: "hama") { slug } '
        'controlAt(place: $p) { status } node(id: "x") { id } }'
    )
    for _ in range(3):
        _, _, body = _answer(server, query, {"p": "hama"}, None)
        assert body["data"]["place"] == {"slug": "hama"}
        assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_ID"]
        _, _, body = _answer(server, query, {"p": 12}, None)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


def test_a_prepared_mutation_text_is_still_refused_over_get(server: Server) -> None:
    mutation = 'mutation { registerActor(input: {slug: "y", name: "Y", kind: OTHER}) { position } }'
    httpx.post(server.graphql, json={"query": mutation}, timeout=10)  # remembered now
    response = httpx.get(server.graphql, params={"query": mutation}, timeout=10)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
