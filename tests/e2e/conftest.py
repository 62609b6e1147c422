"""A running `frontline serve` with the bundled sample and API keys, for over-the-wire tests.

Module-scoped: one server per test module. Tests that write use their own idempotency keys
and slugs, so they don't step on each other or on the sample.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from uuid import uuid4

import asyncpg
import httpx
import pytest

from api.auth import Role, create_key
from frontline.database import dsn_with_database
from frontline.migrate import migrate

STARTUP_SECONDS = 60.0


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _prepare(admin_dsn: str, name: str) -> tuple[str, str, str, str]:
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    dsn = dsn_with_database(admin_dsn, name)
    await migrate(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        keys = [await create_key(conn, f"test {r.name.lower()}", r) for r in Role]
    finally:
        await conn.close()
    return dsn, keys[0], keys[1], keys[2]


async def _drop(admin_dsn: str, name: str) -> None:
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def start_server(postgres_dsn: str, log: Path, **env_overrides: str) -> Iterator[Server]:
    """Create a database, serve it with the sample loaded, yield, then stop and drop it."""
    name = f"e2e_{uuid4().hex}"
    dsn, reader, writer, admin = asyncio.run(_prepare(postgres_dsn, name))
    try:
        yield from serve_database(Server("", dsn, writer, reader, admin, log), **env_overrides)
    finally:
        asyncio.run(_drop(postgres_dsn, name))


def serve_database(database: Server, **env_overrides: str) -> Iterator[Server]:
    """Serve ``database``'s database (and keys) with one more `frontline serve` process."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "FRONTLINE_"))}
    env |= {"DATABASE_URL": database.dsn, "FRONTLINE_LOAD_SAMPLE": "true"} | env_overrides
    with database.log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "frontline", "serve", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = replace(database, url=f"http://127.0.0.1:{port}")
    try:
        _wait_until_projected(server, process)
        yield server
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_projected(server: Server, process: subprocess.Popen[bytes]) -> None:
    """Healthy, and the sample projected (so tests can read it at once). Asked with the
    reader key: with closed reads nothing answers an anonymous caller."""
    deadline = time.monotonic() + STARTUP_SECONDS
    headers = server.headers(server.reader_key)
    query = {"query": '{ fresh(position: 1, timeoutMs: 100) { place(ref: "hama") { slug } } }'}
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"serve exited with {process.returncode}:\n{server.log.read_text()}")
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


@pytest.fixture(scope="module")
def server(postgres_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server on a fresh database holding the bundled sample, with reader/writer/admin keys."""
    log = tmp_path_factory.mktemp("server") / "serve.log"
    yield from start_server(postgres_dsn, log)
