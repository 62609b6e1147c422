"""A served database holding the bundled sample, with a reader, a writer and an admin key:
what the over-the-wire tests (tests/e2e) ask."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import asyncpg
import httpx
import pytest

from api.auth import Role, create_key
from tests.support.databases import temporary_database
from tests.support.serving import STARTUP_SECONDS, Spawned, serve_env, spawn_serve


@dataclass(frozen=True)
class Server:
    url: str  # http://127.0.0.1:PORT
    dsn: str
    writer_key: str
    reader_key: str
    admin_key: str
    log: Path

    @property
    def graphql(self) -> str:
        return f"{self.url}/graphql"

    @property
    def ws(self) -> str:
        return self.graphql.replace("http://", "ws://")

    def headers(self, key: str | None) -> dict[str, str]:
        return {} if key is None else {"Authorization": f"Bearer {key}"}


async def _create_keys(dsn: str) -> tuple[str, str, str]:
    """A reader, a writer and an admin key (in Role's order)."""
    conn = await asyncpg.connect(dsn)
    try:
        reader, writer, admin = [await create_key(conn, f"test {r.name.lower()}", r) for r in Role]
    finally:
        await conn.close()
    return reader, writer, admin


def start_server(postgres_dsn: str, log: Path, **env_overrides: str) -> Iterator[Server]:
    """Create a database, serve it with the sample loaded, yield, then stop and drop it."""
    with temporary_database(postgres_dsn, prefix="e2e", migrated=True) as dsn:
        reader, writer, admin = asyncio.run(_create_keys(dsn))
        yield from serve_database(Server("", dsn, writer, reader, admin, log), **env_overrides)


def serve_database(database: Server, **env_overrides: str) -> Iterator[Server]:
    """Serve ``database``'s database (and keys) with one more `frontline serve` process."""
    env = serve_env(DATABASE_URL=database.dsn, FRONTLINE_LOAD_SAMPLE="true") | env_overrides

    def projected(spawned: Spawned) -> None:
        _wait_until_projected(replace(database, url=spawned.url), spawned)

    with spawn_serve(env, database.log, ready=projected) as spawned:
        yield replace(database, url=spawned.url)


def _wait_until_projected(server: Server, spawned: Spawned) -> None:
    """Healthy, and the sample projected (so tests can read it at once). Asked with the
    reader key: with closed reads nothing answers an anonymous caller."""
    deadline = time.monotonic() + STARTUP_SECONDS
    headers = server.headers(server.reader_key)
    query = {"query": '{ fresh(position: 1, timeoutMs: 100) { place(ref: "hama") { slug } } }'}
    while time.monotonic() < deadline:
        spawned.check_running()
        try:
            response = httpx.post(server.graphql, json=query, headers=headers, timeout=5)
            body = response.json()
            if response.status_code == 200 and (body.get("data") or {}).get("fresh"):
                health = httpx.get(f"{server.url}/healthz", headers=headers, timeout=5)
                head = health.json()["position"]
                fresh = {"query": f"{{ fresh(position: {head}) {{ __typename }} }}"}
                answer = httpx.post(server.graphql, json=fresh, headers=headers, timeout=10)
                if answer.json().get("data"):
                    return
        except (httpx.TransportError, ValueError):
            pass
        time.sleep(0.2)
    pytest.fail(f"serve not ready after {STARTUP_SECONDS}s:\n{server.log.read_text()}")


def start_server_on_a_thread(
    postgres_dsn: str, log: Path, **env_overrides: str
) -> Iterator[Server]:
    """``start_server``, started and stopped on a thread of its own: the helper runs asyncio,
    which cannot run beside Playwright's loop (browser tests) on the test's thread."""
    serving = start_server(postgres_dsn, log, **env_overrides)
    with ThreadPoolExecutor(1) as thread:
        started = thread.submit(next, serving).result()
        try:
            yield started
        finally:
            thread.submit(next, serving, None).result()
