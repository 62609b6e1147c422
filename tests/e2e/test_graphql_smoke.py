"""The seed article's first questions, asked over real HTTP."""

from __future__ import annotations

import httpx

from tests.support.sample_server import Server


def ask(server: Server, query: str, key: str | None = None, **variables: object) -> dict:
    response = httpx.post(
        server.graphql,
        json={"query": query, "variables": variables},
        headers=server.headers(key),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_who_holds_hama_now_is_answered_with_its_evidence(server: Server) -> None:
    body = ask(
        server,
        '{ controlAt(place: "hama") { status controllers { slug } evidence { kind } } }',
    )
    state = body["data"]["controlAt"]
    assert state["status"] == "HELD"
    assert "hts" in {a["slug"] for a in state["controllers"]}
    assert {e["kind"] for e in state["evidence"]} == {"CAPTURE"}


def test_a_write_without_a_key_is_unauthenticated_and_writes_nothing(server: Server) -> None:
    head = httpx.get(f"{server.url}/healthz").json()["position"]
    body = ask(
        server,
        """mutation { registerActor(input: {slug: "nobody", name: "Nobody", kind: OTHER}) {
             position } }""",
    )
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert httpx.get(f"{server.url}/healthz").json()["position"] == head


def test_a_writer_records_and_reads_its_own_write(server: Server) -> None:
    body = ask(
        server,
        """mutation { registerActor(input: {slug: "smoke-actor", name: "Smoke", kind: OTHER}) {
             position replayed actor { slug name } } }""",
        key=server.writer_key,
    )
    payload = body["data"]["registerActor"]
    assert payload["position"] > 0
    assert payload["actor"] == {"slug": "smoke-actor", "name": "Smoke"}
