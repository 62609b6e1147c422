"""FRONTLINE_LOG_FORMAT=json (frontline.logs): a real `frontline serve` writes one JSON object
a line, its access log included, each request's line carrying its request id."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.cli import run_frontline
from tests.support.databases import temporary_database
from tests.support.serving import Spawned, serve_env, spawn_serve

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(postgres_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Spawned]:
    log = tmp_path_factory.mktemp("logs") / "serve.log"
    with temporary_database(postgres_dsn, prefix="e2e", migrated=True) as dsn:
        env = serve_env(
            DATABASE_URL=dsn, FRONTLINE_LOAD_SAMPLE="false", FRONTLINE_LOG_FORMAT="json"
        )
        with spawn_serve(env, log) as spawned:
            yield spawned


def lines(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def access_line(log: Path, request_id: str) -> dict[str, object]:
    """The access log's line for ``request_id`` (uvicorn writes it as the answer starts)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = [
            line
            for line in lines(log)
            if line["logger"] == "uvicorn.access" and line.get("request_id") == request_id
        ]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no access log line for {request_id}")


def test_every_line_is_a_json_object(served: Spawned) -> None:
    httpx.get(f"{served.url}/livez", timeout=5)
    found = lines(served.log)  # json.loads raises on any line that is not JSON
    assert found
    for line in found:
        assert {"time", "level", "logger", "message"} <= line.keys()
    assert any(line["logger"] == "frontline" for line in found)  # the CLI's own
    assert any(str(line["logger"]).startswith("uvicorn") for line in found)  # uvicorn's, too


def test_a_clients_request_id_is_sent_back_and_logged(served: Spawned) -> None:
    response = httpx.post(
        f"{served.url}/graphql",
        json={"query": "{ __typename }"},
        headers={"X-Request-Id": "trace-abc.1:2"},
        timeout=5,
    )
    assert response.headers["x-request-id"] == "trace-abc.1:2"
    line = access_line(served.log, "trace-abc.1:2")
    assert "POST /graphql" in str(line["message"])


@pytest.mark.parametrize("sent", [None, "x" * 65, "no spaces", "a/b"])
def test_without_a_usable_request_id_the_server_makes_one(
    served: Spawned, sent: str | None
) -> None:
    headers = {} if sent is None else {"X-Request-Id": sent}
    response = httpx.get(f"{served.url}/livez", headers=headers, timeout=5)
    made = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    access_line(served.log, made)


def test_an_unknown_log_format_is_refused_before_anything_starts() -> None:
    done = run_frontline("serve", FRONTLINE_LOG_FORMAT="xml", DATABASE_URL="postgresql://nowhere/x")
    assert done.returncode == 2
    assert "FRONTLINE_LOG_FORMAT must be text or json" in done.stderr
