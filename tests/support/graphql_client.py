"""A tiny GraphQL client for the tests: over HTTP to a served `Server` (httpx, the real wire),
or in this process to an `InProcess` schema where the wire is not the point."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.support.in_process import InProcess
from tests.support.sample_server import Server

# Leaks that must never reach a client, whatever it sends.
LEAKS = ("Traceback", 'File "', "/work/", '.py"', "site-packages")


def post(server: Server, query: str, key: str | None = None, **variables: Any) -> httpx.Response:
    return httpx.post(
        server.graphql,
        json={"query": query, "variables": variables},
        headers=server.headers(key),
        timeout=20,
    )


def ask(
    server: Server | InProcess, query: str, key: str | None = None, **variables: Any
) -> dict[str, Any]:
    """The JSON body of a GraphQL request, which must have been answered with 200."""
    if isinstance(server, InProcess):
        answer = server.ask(query, key, **variables)
        assert_no_leak(json.dumps(answer))
        return answer
    response = post(server, query, key, **variables)
    assert response.status_code == 200, response.text
    assert_no_leak(response.text)
    body: dict[str, Any] = response.json()
    return body


def data(server: Server | InProcess, query: str, key: str | None = None, **variables: Any) -> Any:
    """The data of a request that must succeed without any error."""
    body = ask(server, query, key, **variables)
    assert "errors" not in body, body["errors"]
    return body["data"]


def codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


def head(server: Server | InProcess) -> int:
    """The log's head position, from /healthz."""
    if isinstance(server, InProcess):
        return server.head()
    headers = server.headers(server.reader_key)  # closed reads hide the position otherwise
    health = httpx.get(f"{server.url}/healthz", headers=headers, timeout=10)
    position: int = health.json()["position"]
    return position


def assert_no_leak(text: str) -> None:
    for leak in LEAKS:
        assert leak not in text, f"{leak!r} leaked to the client: {text[:500]}"


SOURCE = '{outlet: "E2E Wire", channel: ARTICLE, role: INDEPENDENT, quote: "As reported."}'


def incident(occurred_at: str, places: list[str], key: str | None = None) -> str:
    """An IncidentInput literal."""
    refs = ", ".join(f'"{p}"' for p in places)
    idem = "" if key is None else f', idempotencyKey: "{key}"'
    return f'{{occurredAt: "{occurred_at}", places: [{refs}], sources: [{SOURCE}]{idem}}}'
