"""GET /metrics, /livez and /readyz (api.metrics) of a real `frontline serve`: scraped over
HTTP and parsed by prometheus-client's own parser."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from api.metrics import MAX_LABEL_VALUES, OTHER
from tests.support.databases import temporary_database
from tests.support.graphql_client import ask
from tests.support.sample_server import Server, _create_keys
from tests.support.serving import serve_env, spawn_serve

pytestmark = pytest.mark.slow

PLACE = 'query PlaceOfHama { place(ref: "hama") { slug } }'
# The query of issue 10 that took 22 seconds: refused for its cost (tests/e2e/test_hardening_http).
COSTLY = (
    "{ actors(first:100){nodes{incidents(first:100){nodes{actors{incidents(first:100)"
    "{nodes{id}}}}}}}}"
)


def scrape(url: str, key: str | None = None) -> list[Sample]:
    headers = {} if key is None else {"Authorization": f"Bearer {key}"}
    response = httpx.get(f"{url}/metrics", headers=headers, timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return [s for family in text_string_to_metric_families(response.text) for s in family.samples]


def value(samples: list[Sample], name: str, **labels: str) -> float:
    found = [s.value for s in samples if s.name == name and labels.items() <= s.labels.items()]
    assert found, f"no sample {name} {labels}"
    return sum(found)


def register_actor(server: Server) -> int:
    slug = f"metrics-{uuid4().hex[:8]}"
    body = ask(
        server,
        "mutation ($a: RegisterActorInput!) { registerActor(input: $a) { position } }",
        server.writer_key,
        a={"slug": slug, "name": slug, "kind": "ARMED_GROUP"},
    )
    return int(body["data"]["registerActor"]["position"])


def test_livez_and_readyz_answer_while_the_server_is_healthy(server: Server) -> None:
    live = httpx.get(f"{server.url}/livez", timeout=5)
    ready = httpx.get(f"{server.url}/readyz", timeout=5)
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    assert ready.status_code == 200
    assert ready.json()["status"] == "ok"


def test_metrics_count_requests_by_operation_errors_refusals_and_writes(server: Server) -> None:
    before = scrape(server.url)
    for _ in range(3):
        assert ask(server, PLACE) == {"data": {"place": {"slug": "hama"}}}
    assert ask(server, "{ nosuchfield }")["errors"][0]["extensions"]["code"] == (
        "GRAPHQL_VALIDATION_FAILED"
    )
    assert ask(server, COSTLY)["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    position = register_actor(server)
    ask(server, f"{{ fresh(position: {position}, timeoutMs: 10000) {{ __typename }} }}")
    time.sleep(1.1)  # the database's figures are read at most once a second
    after = scrape(server.url)

    def grew(name: str, **labels: str) -> float:
        return (
            value(after, name, **labels) - value(before, name, **labels)
            if any(s.name == name and labels.items() <= s.labels.items() for s in before)
            else value(after, name, **labels)
        )

    bucket = "frontline_graphql_request_seconds_count"
    assert grew(bucket, type="query", operation="PlaceOfHama") == 3
    assert grew(bucket, type="mutation", operation="") >= 1
    assert grew("frontline_graphql_errors_total", code="GRAPHQL_VALIDATION_FAILED") >= 1
    assert grew("frontline_graphql_errors_total", code="QUERY_TOO_COSTLY") >= 1
    assert grew("frontline_cost_refusals_total") >= 1
    assert grew("frontline_events_appended_total") >= 1
    # The database's figures, as /healthz reports them.
    health = httpx.get(f"{server.url}/healthz", timeout=5).json()
    assert value(after, "frontline_log_position") == health["position"] >= position
    assert value(after, "frontline_projected_position") == health["projected"]
    assert value(after, "frontline_projection_lag_positions") == 0
    assert value(after, "frontline_projection_lag_seconds") == 0
    assert value(after, "frontline_database_up") == 1
    assert value(after, "frontline_projector_leader_present") == 1
    [leader] = [s for s in after if s.name == "frontline_projector_leader_info"]
    assert leader.labels["name"] == health["projector"]
    assert leader.labels["name"].startswith("frontline-projector ")
    assert value(after, "frontline_db_pool_max") >= value(after, "frontline_db_pool_connections")
    assert value(after, "frontline_db_pool_connections") >= 1


def test_the_projector_named_by_healthz_is_the_servers_child(server: Server) -> None:
    """The leader's name carries the pid of the process holding the lock: `serve`'s
    projector child, not the API process."""
    health = httpx.get(f"{server.url}/healthz", timeout=5).json()
    pid = int(health["projector"].rsplit(":", 1)[1])
    stat = Path(f"/proc/{pid}/stat").read_text()
    assert int(stat.rsplit(")", 1)[1].split()[1]) == health["process"]


def test_operation_names_clients_choose_are_capped(server: Server) -> None:
    """A client sending ever new operation names, or long ones, cannot grow the registry or
    the scrape: a name past 64 characters is never a label, and past the first 64 names
    every other is `(other)`."""
    long = "L" + "o" * 20_000  # one token: within the parser's bounds
    ask(server, f'query {long} {{ place(ref: "hama") {{ slug }} }}')
    for n in range(MAX_LABEL_VALUES + 6):
        ask(server, f'query Named{n} {{ place(ref: "hama") {{ slug }} }}')
    time.sleep(1.1)  # a scrape's text is made at most once a second
    text = httpx.get(f"{server.url}/metrics", timeout=10).text
    assert long[:100] not in text
    assert len(text) < 200_000
    names = {
        s.labels["operation"]
        for s in scrape(server.url)
        if s.name == "frontline_graphql_request_seconds_count"
    }
    assert len(names) <= MAX_LABEL_VALUES + 1
    assert OTHER in names


def test_websockets_open_are_counted(server: Server) -> None:
    from websockets.sync.client import connect  # noqa: PLC0415 - this test only

    with connect(server.ws, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        ws.send('{"type": "connection_init", "payload": {}}')
        assert "connection_ack" in ws.recv(timeout=5)
        time.sleep(1.1)  # a scrape's text is made at most once a second
        assert value(scrape(server.url), "frontline_websockets_open") >= 1


@pytest.fixture(scope="module")
def lagging(postgres_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server without a projector, whose readiness allows half a second of lag, and
    with closed reads."""
    log = tmp_path_factory.mktemp("lagging") / "serve.log"
    with temporary_database(postgres_dsn, prefix="e2e", migrated=True) as dsn:
        reader, writer, admin = asyncio.run(_create_keys(dsn))
        server = Server("", dsn, writer, reader, admin, log)
        env = serve_env(
            DATABASE_URL=dsn,
            FRONTLINE_LOAD_SAMPLE="false",
            FRONTLINE_RUN_PROJECTOR="false",
            FRONTLINE_READY_MAX_LAG_SECONDS="0.5",
            FRONTLINE_OPEN_READS="false",
        )
        with spawn_serve(env, log) as spawned:
            yield replace(server, url=spawned.url)


def test_readyz_fails_while_the_projection_lags_and_livez_does_not(lagging: Server) -> None:
    assert httpx.get(f"{lagging.url}/readyz", timeout=5).status_code == 200
    register_actor(lagging)
    time.sleep(1.2)  # older than the half second allowed, and past the figures' second
    ready = httpx.get(f"{lagging.url}/readyz", timeout=5)
    assert ready.status_code == 503
    assert ready.json()["lag"] == 1
    assert "projection" in ready.json()["reason"]
    assert httpx.get(f"{lagging.url}/livez", timeout=5).status_code == 200
    samples = scrape(lagging.url, lagging.reader_key)
    assert value(samples, "frontline_projector_leader_present") == 0
    assert value(samples, "frontline_projection_lag_positions") == 1
    assert value(samples, "frontline_projection_lag_seconds") > 0.5


def test_with_closed_reads_metrics_need_a_key_and_probes_do_not(lagging: Server) -> None:
    assert httpx.get(f"{lagging.url}/metrics", timeout=5).status_code == 401
    bad = httpx.get(f"{lagging.url}/metrics", headers={"Authorization": "Bearer nope"}, timeout=5)
    assert bad.status_code == 401
    assert value(scrape(lagging.url, lagging.reader_key), "frontline_database_up") == 1
    assert httpx.get(f"{lagging.url}/livez", timeout=5).status_code == 200
