"""A public endpoint over HTTP, tried as an attacker would: each finding of the hardening
review, over the wire, against a real `frontline serve` (one with the default limits, one
with tight limits so that timeouts and ceilings are reached quickly)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest

from api.auth import INSERT_KEY, Role, create_key
from api.live.broadcast import APPLICATION_NAME as BROADCASTER
from tests.support.graphql_client import ask, assert_no_leak, codes, data, post
from tests.support.sample_server import Server, start_server

pytestmark = pytest.mark.slow

ATTACK = (
    "{ actors(first:100){nodes{incidents(first:100){nodes{actors{incidents(first:100)"
    "{nodes{id}}}}}}}}"
)
#: Just under the default cost limit (50,000): 2 + 100 × (3 + 100 × 4) = 40,302.
COSTLIEST_ADMITTED = (
    "{ actors(first: 100) { nodes { incidents(first: 100) { nodes { id kind summary status }"
    " } } } }"
)
BYSTANDER = '{ controlAt(place: "hama") { status controllers { slug } } }'
TIGHT = {
    "FRONTLINE_HEAD_TIMEOUT_SECONDS": "1",
    "FRONTLINE_KEEPALIVE_SECONDS": "1",
    "FRONTLINE_REQUEST_TIMEOUT_SECONDS": "2",
    "FRONTLINE_MAX_RESPONSE_BYTES": "2000",
    "FRONTLINE_MAX_CONNECTIONS": "30",
    "FRONTLINE_CORS_ORIGINS": "https://newsroom.example",
}
NEVER = 2_000_000_000  # a log position no test reaches (GraphQL Int is 32-bit)


@pytest.fixture(scope="module")
def tight(postgres_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("tight") / "serve.log"
    yield from start_server(postgres_dsn, log, **TIGHT)


@pytest.fixture(scope="module")
def closed(postgres_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("closed") / "serve.log"
    yield from start_server(postgres_dsn, log, FRONTLINE_OPEN_READS="false")


def port_of(server: Server) -> int:
    return int(server.url.rsplit(":", 1)[1])


def raw_connection(server: Server) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port_of(server)), timeout=10)
    connection.settimeout(10)
    return connection


def read_all(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return received


# -- the cost of a query ---------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_the_query_that_took_22_seconds_is_refused_with_its_cost(
    server: Server, method: str
) -> None:
    started = time.monotonic()
    if method == "POST":
        response = post(server, ATTACK)
    else:  # any web page could make its visitors send this one
        response = httpx.get(server.graphql, params={"query": ATTACK}, timeout=20)
    assert time.monotonic() - started < 2
    body = response.json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert error["extensions"]["cost"] > 1_000_000
    assert error["extensions"]["maxCost"] == 50_000
    assert body.get("data") is None


async def test_a_bystander_is_served_while_the_costliest_admitted_query_runs_twenty_times(
    server: Server,
) -> None:
    """Completion and no 5xx; the latencies are `make bench`'s (bench/attack.py)."""
    async with httpx.AsyncClient(timeout=120) as http:

        async def send(query: str) -> httpx.Response:
            return await http.post(server.graphql, json={"query": query})

        attacks = [asyncio.create_task(send(COSTLIEST_ADMITTED)) for _ in range(20)]
        await asyncio.sleep(0.05)
        bystanders = [await send(BYSTANDER) for _ in range(5)]
        # A busy request pool does not make the server look down: /healthz has its own.
        health = await http.get(f"{server.url}/healthz")
        finished = await asyncio.gather(*attacks)
    assert health.status_code == 200, health.text
    for response in [*finished, *bystanders]:
        assert response.status_code == 200, response.text
        assert "errors" not in response.json(), response.text
    assert all(r.json()["data"]["controlAt"]["status"] == "HELD" for r in bystanders)


async def _rechecks(server: Server, seconds: float = 2.0) -> set[Any]:
    """When, over ``seconds``, a connection of the server's request pool (not its
    broadcaster's) ran the projected-position query that a waiting `fresh` re-checks with:
    a set of (pid, query start)."""
    conn = await asyncpg.connect(server.dsn)
    seen: set[Any] = set()
    try:
        for _ in range(int(seconds / 0.05)):
            rows = await conn.fetch(
                "SELECT pid, query_start FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND application_name <> $1 "
                "AND query LIKE 'SELECT position FROM rm.tracking%'",
                BROADCASTER,
            )
            seen |= {tuple(r) for r in rows}
            await asyncio.sleep(0.05)
    finally:
        await conn.close()
    return seen


async def test_a_request_whose_client_hangs_up_stops_its_work(server: Server) -> None:
    """A waiting `fresh` re-checks the read models twice a second for up to 5 s; once its
    client has gone, it stops (uvicorn alone would run it to the end)."""
    body = f'{{"query": "{{ fresh(position: {NEVER}, timeoutMs: 10000) {{ __typename }} }}"}}'
    request = (
        f"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    ).encode()
    connection = raw_connection(server)
    connection.sendall(request)
    await asyncio.sleep(0.5)
    while_waiting = await _rechecks(server)
    connection.close()  # the client hangs up with 4 s of waiting left
    await asyncio.sleep(0.5)
    settled = await _rechecks(server, 0.1)
    after_hanging_up = await _rechecks(server) - settled
    assert len(while_waiting) >= 3, while_waiting
    assert after_hanging_up == set(), after_hanging_up


def test_fresh_waits_at_most_half_the_deadline_and_answers_stale(server: Server) -> None:
    """Asked to wait 10 s (the request deadline), `fresh` gives up at 5 s with its typed
    STALE answer, not the deadline's 503."""
    started = time.monotonic()
    response = post(server, f"{{ fresh(position: {NEVER}, timeoutMs: 10000) {{ __typename }} }}")
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert codes(response.json()) == ["STALE"]
    assert 4.5 < elapsed < 8, elapsed


def test_a_request_past_its_deadline_gets_503_timeout(tight: Server) -> None:
    started = time.monotonic()
    response = post(tight, f"{{ fresh(position: {NEVER}, timeoutMs: 10000) {{ __typename }} }}")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert codes(response.json()) == ["TIMEOUT"]
    assert 1.5 < elapsed < 5, elapsed


def test_a_response_over_the_size_limit_is_replaced_by_an_error(tight: Server) -> None:
    body = ask(tight, "{ controlMapGeoJson }")
    assert codes(body) == ["RESPONSE_TOO_LARGE"]
    assert body["data"] is None
    assert data(tight, BYSTANDER)["controlAt"]["status"] == "HELD"  # small ones still pass


# -- the HTTP server ---------------------------------------------------------------------------


def test_a_request_head_over_the_limit_gets_431(server: Server) -> None:
    big = {"Authorization": "Bearer " + "x" * 64 * 1024}
    response = httpx.post(server.graphql, json={"query": BYSTANDER}, headers=big, timeout=20)
    assert response.status_code == 431


def test_a_twenty_megabyte_header_is_cut_off_early(server: Server) -> None:
    """The server answers 431 and hangs up long before the header ends (what the client
    manages to send before it notices is up to the kernel's buffers, not the server)."""
    connection = raw_connection(server)
    sent = 0
    answered = False
    try:
        connection.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ")
        chunk = b"x" * 65536
        while sent < 20 * 1024 * 1024:
            if select.select([connection], [], [], 0)[0]:
                answered = True  # the server has spoken (or closed): stop sending
                break
            connection.sendall(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        answered = True
    answer = read_all(connection)
    connection.close()
    assert answered, "the server read all 20 MiB of one header"
    assert sent < 8 * 1024 * 1024, sent
    assert answer.startswith(b"HTTP/1.1 431") or answer == b""


def test_a_client_sending_its_head_byte_by_byte_is_timed_out(tight: Server) -> None:
    connection = raw_connection(tight)
    started = time.monotonic()
    connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finishes the head
    answer = read_all(connection)
    connection.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert 0.8 < time.monotonic() - started < 5


def test_a_connection_that_never_sends_is_closed(tight: Server) -> None:
    connection = raw_connection(tight)
    started = time.monotonic()
    answer = read_all(connection)
    connection.close()
    assert answer.startswith(b"HTTP/1.1 408")
    assert time.monotonic() - started < 5


def test_an_idle_keep_alive_connection_is_closed(tight: Server) -> None:
    connection = raw_connection(tight)
    connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    started = time.monotonic()
    answer = read_all(connection)  # one response, then the close after the idle timeout
    connection.close()
    assert answer.startswith(b"HTTP/1.1 200")
    assert answer.count(b"HTTP/1.1") == 1
    assert 0.8 < time.monotonic() - started < 5


def test_past_the_connection_ceiling_a_request_gets_503_not_a_queue(tight: Server) -> None:
    held = [raw_connection(tight) for _ in range(int(TIGHT["FRONTLINE_MAX_CONNECTIONS"]))]
    try:
        time.sleep(0.1)
        response = httpx.get(f"{tight.url}/healthz", timeout=10)
        assert response.status_code == 503
    finally:
        for connection in held:
            connection.close()
    time.sleep(0.2)
    assert httpx.get(f"{tight.url}/healthz", timeout=10).status_code == 200


def test_every_json_answer_says_nosniff(server: Server) -> None:
    for response in (
        post(server, BYSTANDER),
        post(server, ATTACK),
        httpx.post(server.graphql, content=b"{", timeout=10),
        httpx.get(f"{server.url}/healthz", timeout=10),
    ):
        assert response.headers["x-content-type-options"] == "nosniff", response


def test_media_types_are_compared_case_insensitively(server: Server) -> None:
    response = httpx.post(
        server.graphql,
        content=json.dumps({"query": BYSTANDER}).encode(),
        headers={"Content-Type": "APPLICATION/JSON; charset=UTF-8"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["controlAt"]["status"] == "HELD"


def test_cors_lets_only_the_named_origins_read(tight: Server, server: Server) -> None:
    def preflight(target: Server, origin: str) -> httpx.Response:
        return httpx.options(
            target.graphql,
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,authorization",
            },
            timeout=10,
        )

    allowed = preflight(tight, "https://newsroom.example")
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://newsroom.example"
    assert "access-control-allow-origin" not in preflight(tight, "https://evil.example").headers
    # Off by default.
    assert (
        "access-control-allow-origin" not in preflight(server, "https://newsroom.example").headers
    )
    simple = httpx.post(
        tight.graphql,
        json={"query": BYSTANDER},
        headers={"Origin": "https://newsroom.example"},
        timeout=10,
    )
    assert simple.headers["access-control-allow-origin"] == "https://newsroom.example"


# -- odd input is the client's, never a 500 ----------------------------------------------------

Y9999 = "9999-12-31T23:59:59-12:00"  # past year 9999 in UTC
Y1 = "0001-01-01T00:00:00+14:00"  # before year 1 in UTC
HUGE = "99999999999999999999999"  # beyond 64 bits
ODD_QUERIES = {
    "GeoJSON map at year 9999": f'{{ controlMapGeoJson(asOf: "{Y9999}") }}',
    "controlAt at year 1": f'{{ controlAt(place: "hama", asOf: "{Y1}") {{ status }} }}',
    "controlMap at year 1": (
        f'{{ controlMap(first: 1, asOf: "{Y1}") {{ nodes {{ place {{ slug }} }} }} }}'
    ),
    "changes at year 1": f'{{ changes(from: "{Y1}", to: "{Y9999}") {{ place {{ slug }} }} }}',
    "gains and losses at year 1": (
        f'{{ actor(ref: "hts") {{ gainsAndLosses(from: "{Y1}", to: "2024-12-06T00:00:00Z") '
        "{ gained { place { slug } } } } }"
    ),
    "incident filter at year 1": (
        f'{{ incidents(first: 1, filter: {{occurredFrom: "{Y1}"}}) {{ nodes {{ id }} }} }}'
    ),
    "log cursor beyond 64 bits": f'{{ log(first: 1, after: "{HUGE}") {{ nodes {{ position }} }} }}',
    "feed cursor beyond 64 bits": (
        '{ incidents(first: 1, logOrder: true, after: "'
        + base64.urlsafe_b64encode(f"log:{HUGE}".encode()).decode()
        + '") { nodes { id } } }'
    ),
    "a lone surrogate in a literal": '{ place(ref: "\\ud800") { slug } }',
}


def _log_lines(server: Server) -> int:
    return len(server.log.read_text(errors="replace").splitlines())


@pytest.mark.parametrize("query", ODD_QUERIES.values(), ids=ODD_QUERIES.keys())
def test_odd_input_gets_a_coded_error_and_at_most_one_log_line(server: Server, query: str) -> None:
    before = _log_lines(server)
    response = post(server, query)
    assert response.status_code < 500, response.text
    assert_no_leak(response.text)
    found = codes(response.json())
    assert found, response.text
    assert "INTERNAL_SERVER_ERROR" not in found
    time.sleep(0.2)  # the log is written by the server process
    written = server.log.read_text(errors="replace").splitlines()[before:]
    assert not any("Traceback" in line for line in written)
    assert len([line for line in written if "/graphql" not in line]) <= 1, written


def test_a_lone_surrogate_in_a_variable_is_a_400(server: Server) -> None:
    response = httpx.post(
        server.graphql,
        content=b'{"query": "query ($r: String!) { place(ref: $r) { slug } }", '
        b'"variables": {"r": "\\ud800"}}',
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400


def test_an_anticipated_operation_in_year_9999_is_refused_with_a_code(server: Server) -> None:
    body = ask(
        server,
        """mutation { recordAnticipatedOperation(
             incident: {occurredAt: "2024-12-05T00:00:00+03:00", places: ["homs"],
                        sources: [{outlet: "Wire", quote: "soon"}],
                        idempotencyKey: "hardening/year-9999"},
             details: {actor: "hts", objective: "homs", description: "an offensive",
                       expectedFrom: "9999-12-31T00:00:00Z"}) { position } }""",
        server.writer_key,
    )
    assert codes(body) == ["INVALID_TIME"]


# -- what a write may say --------------------------------------------------------------------

REGISTER = "mutation ($p: RegisterPlaceInput!) { registerPlace(input: $p) { position } }"
CAPTURE = """mutation ($s: SourceInput!) { recordCapture(
    incident: {occurredAt: "2024-12-05T00:00:00+03:00", places: ["erze"], sources: [$s]},
    details: {by: ["hts"]}) { position } }"""


def _place(name: str) -> dict[str, Any]:
    return {
        "slug": f"hygiene-{uuid4().hex[:8]}",
        "name": name,
        "kind": "VILLAGE",
        "latitude": 35.1,
        "longitude": 36.6,
        "country": "Syria",
    }


@pytest.mark.parametrize(
    "name",
    ["\u200b\u200b\u200b", "\u2066\u2069", "Hama\u202e", "\u202eamaH"],
    ids=["zero-width only", "bidi isolates only", "trailing override", "leading override"],
)
def test_a_name_without_a_visible_character_or_with_bidi_controls_is_refused(
    server: Server, name: str
) -> None:
    body = ask(server, REGISTER, server.writer_key, p=_place(name))
    assert codes(body) == ["INVALID_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "name"


def test_a_right_to_left_name_with_its_marks_is_accepted(server: Server) -> None:
    body = ask(server, REGISTER, server.writer_key, p=_place("حماة\u200f"))
    assert "errors" not in body, body


@pytest.mark.parametrize(
    "url",
    [
        "https://user:secret@example.org/report",
        "https://example.org/a\n<script>alert(1)</script>",
        "https://example.org/a b",
        "javascript:alert(1)",
    ],
    ids=["credentials", "newline and markup", "space", "not http"],
)
def test_a_source_url_must_be_plain_http(server: Server, url: str) -> None:
    body = ask(server, CAPTURE, server.writer_key, s={"outlet": "Wire", "quote": "q", "url": url})
    assert codes(body) == ["INVALID_INPUT"]


def test_a_key_name_is_bounded_when_the_key_is_made(server: Server) -> None:
    made = subprocess.run(
        [sys.executable, "-m", "frontline", "keys", "create", "--name", "n" * 101],
        env={"DATABASE_URL": server.dsn, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 2
    assert "1 to 100 characters" in made.stderr
    assert "Traceback" not in made.stderr


async def test_a_key_with_a_long_name_made_before_the_bound_can_still_write(
    server: Server,
) -> None:
    key_id, secret = uuid4(), "long-name-secret"
    digest = hashlib.sha256(secret.encode()).digest()
    conn = await asyncpg.connect(server.dsn)
    try:
        await conn.execute(INSERT_KEY, key_id, "n" * 195, Role.WRITER.name.lower(), digest)
    finally:
        await conn.close()
    key = f"fl_{key_id.hex}_{secret}"
    body = ask(server, CAPTURE, key, s={"outlet": "Wire", "quote": "long name"})
    assert "errors" not in body, body


# -- idempotency keys belong to their writer ----------------------------------------------------

KEYED = """mutation ($k: String!) { recordCapture(
    incident: {occurredAt: "2024-12-05T00:00:00+03:00", places: ["kafrtun"],
               sources: [{outlet: "Wire", quote: "scoped"}], idempotencyKey: $k},
    details: {by: ["hts"]}) { id position replayed } }"""


async def _writer_key(server: Server, name: str) -> str:
    conn = await asyncpg.connect(server.dsn)
    try:
        return await create_key(conn, name, Role.WRITER)
    finally:
        await conn.close()


async def test_an_idempotency_key_belongs_to_the_api_key_that_sent_it(server: Server) -> None:
    other = await _writer_key(server, "another newsroom")
    first = data(server, KEYED, server.writer_key, k="readme/hama-airport-captured")
    squatted = data(server, KEYED, other, k="readme/hama-airport-captured")
    retried = data(server, KEYED, server.writer_key, k="readme/hama-airport-captured")
    assert squatted["recordCapture"]["replayed"] is False
    assert squatted["recordCapture"]["id"] != first["recordCapture"]["id"]
    assert retried["recordCapture"] == {**first["recordCapture"], "replayed": True}


async def test_an_idempotency_key_is_shown_only_to_its_writer_and_to_admins(
    server: Server,
) -> None:
    key = f"hardening/visible-{uuid4().hex[:8]}"
    position = data(server, KEYED, server.writer_key, k=key)["recordCapture"]["position"]
    query = "query ($a: String) { log(first: 1, after: $a) { nodes { data } } }"

    def shown(api_key: str | None) -> Any:
        [entry] = data(server, query, api_key, a=str(position - 1))["log"]["nodes"]
        return entry["data"]["meta"]["key"]

    assert shown(None) is None
    assert shown(server.reader_key) is None
    assert shown(await _writer_key(server, "someone else")) is None
    assert shown(server.writer_key) == key
    assert str(shown(server.admin_key)).endswith("/" + key)


# -- closed reads close every path ---------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        f"{{ fresh(position: {NEVER}, timeoutMs: 10000) {{ __typename }} }}",
        "{ __schema { types { name } } }",
        "{ placez(first: 1) { nodes { slug } } }",  # would answer "Did you mean places?"
    ],
    ids=["fresh", "introspection", "suggestions"],
)
def test_with_closed_reads_nothing_answers_an_anonymous_caller(closed: Server, query: str) -> None:
    started = time.monotonic()
    response = post(closed, query)
    assert time.monotonic() - started < 2  # refused, not polled for 10 s
    assert response.status_code == 401
    assert codes(response.json()) == ["UNAUTHENTICATED"]
    assert "places" not in response.text


def test_with_closed_reads_healthz_tells_an_anonymous_caller_only_its_status(
    closed: Server,
) -> None:
    assert httpx.get(f"{closed.url}/healthz", timeout=10).json() == {"status": "ok"}
    detailed = httpx.get(
        f"{closed.url}/healthz", headers=closed.headers(closed.reader_key), timeout=10
    ).json()
    assert detailed["position"] >= 32
    assert "subscriptions" in detailed


def test_a_client_s_idempotency_key_is_at_most_200_characters(server: Server) -> None:
    body = ask(server, KEYED, server.writer_key, k="k" * 201)
    assert codes(body) == ["INVALID_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "idempotencyKey"
    assert "errors" not in ask(server, KEYED, server.writer_key, k="k" * 200)


# -- found by trying ---------------------------------------------------------------------------


def test_a_document_asking_one_field_hundreds_of_times_is_refused_before_validation(
    server: Server,
) -> None:
    """Validating 440 copies of one field once took 0.8 s of CPU (graphql-core compares
    every pair); the document is refused unvalidated."""
    query = "{ " + 'controlAt(place: "hama") { status } ' * 440 + " }"
    started = time.monotonic()
    body = ask(server, query)
    assert time.monotonic() - started < 0.5
    assert codes(body) == ["QUERY_TOO_COMPLEX"]
    aliased = " ".join(f'a{i}: controlAt(place: "hama") {{ status }}' for i in range(20))
    assert "errors" not in ask(server, "{ " + aliased + " }")


def test_a_string_or_list_longer_than_any_input_is_refused(server: Server) -> None:
    query = "query ($g: String) { places(first: 1, governorate: $g) { nodes { slug } } }"
    response = post(server, query, g="x" * 10_001)
    assert response.status_code == 400
    assert "10,000 characters" in response.text
    kinds = "query ($k: [PlaceKind!]) { places(first: 1, kinds: $k) { nodes { slug } } }"
    response = post(server, kinds, k=["VILLAGE"] * 1_001)
    assert response.status_code == 400


def test_a_client_hanging_up_mid_body_leaves_no_traceback(server: Server) -> None:
    before = _log_lines(server)
    for _ in range(5):
        connection = raw_connection(server)
        connection.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"query": '
        )
        connection.close()
    time.sleep(0.5)
    written = server.log.read_text(errors="replace").splitlines()[before:]
    assert not any("Traceback" in line for line in written), written
