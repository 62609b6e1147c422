"""`frontline serve` as a real process, probed over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import asyncpg
import httpx
import pytest

from frontline.embedded import EMBEDDED_PGDATA, stop_embedded_server
from tests.support.serving import serve_env as serving_env
from tests.support.serving import spawn_serve

pytestmark = pytest.mark.slow


def serve_env(**values: str) -> dict[str, str]:
    return serving_env(FRONTLINE_LOAD_SAMPLE="false", **values)


@contextmanager
def serving(env: Mapping[str, str], log: Path) -> Iterator[str]:
    """Run `frontline serve` until the block ends; yield its base URL once it's healthy."""
    with spawn_serve(env, log) as spawned:
        yield spawned.url


def health(base_url: str) -> tuple[int, Any]:
    """The status and body of /healthz, without its live-subscription counts (checked here:
    none on a server nobody subscribes to), its lag, its process id, its projector (None
    until the projector's first connection takes the lock) and its replicas (none here)."""
    response = httpx.get(f"{base_url}/healthz", timeout=5)
    body = response.json()
    subscriptions = body.pop("subscriptions", None)
    if response.status_code == 200:
        assert subscriptions == {"streams": 0, "sharedStreams": 0, "sharedMembers": 0}
        projected, lag = body.pop("projected"), body.pop("lag")
        assert lag == body["position"] - projected >= 0
        assert isinstance(body.pop("process"), int)  # the answering process's pid
        leader = body.pop("projector")
        assert leader is None or leader.startswith("frontline-projector ")
        assert body.pop("replicas") == []
    return response.status_code, body


def append_event(dsn: str) -> None:
    async def insert() -> None:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(
                "INSERT INTO frontline_events (originator_id, originator_version, topic, state)"
                " VALUES ($1, 1, 'test:Event', '')",
                uuid4(),
            )
        finally:
            await connection.close()

    asyncio.run(insert())


def test_serve_migrates_an_empty_database_and_keeps_its_data_across_restarts(
    blank_database_dsn: str, tmp_path: Path
) -> None:
    env = serve_env(DATABASE_URL=blank_database_dsn)
    log = tmp_path / "serve.log"

    with serving(env, log) as url:
        assert health(url) == (200, {"status": "ok", "position": 0})
        append_event(blank_database_dsn)
        assert health(url) == (200, {"status": "ok", "position": 1})

    with serving(env, log) as url:
        assert health(url) == (200, {"status": "ok", "position": 1})


def test_health_turns_503_when_the_database_goes_away(
    postgres_dsn: str, blank_database_dsn: str, tmp_path: Path
) -> None:
    with serving(serve_env(DATABASE_URL=blank_database_dsn), tmp_path / "serve.log") as url:
        assert health(url)[0] == 200
        name = urlsplit(blank_database_dsn).path.lstrip("/")
        asyncio.run(drop_database(postgres_dsn, name))

        status, body = health(url)

        assert status == 503
        assert body["status"] == "unavailable"


async def drop_database(admin_dsn: str, name: str) -> None:
    connection = await asyncpg.connect(admin_dsn)
    try:
        await connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def test_without_database_url_serve_runs_embedded_postgres_that_outlives_restarts(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    env = serve_env(FRONTLINE_DATA_DIR=str(data_dir))
    log = tmp_path / "serve.log"
    pgdata = data_dir / EMBEDDED_PGDATA
    try:
        with serving(env, log) as url:
            assert health(url) == (200, {"status": "ok", "position": 0})
        # The server outlives `serve`: the same postmaster answers the next run.
        postmaster = (pgdata / "postmaster.pid").read_text().split()[0]
        append_event(f"postgresql://postgres:@/postgres?host={pgdata}")

        with serving(env, log) as url:
            assert health(url) == (200, {"status": "ok", "position": 1})
        assert (pgdata / "postmaster.pid").read_text().split()[0] == postmaster
    finally:
        stop_embedded_server(data_dir)

    assert not (pgdata / "postmaster.pid").exists()
