"""Shared fixtures: a real PostgreSQL for the whole session, a fresh database per test.

With DATABASE_URL set, tests create (and drop) their databases on that server; the role needs
CREATEDB. Otherwise an embedded server (frontline/embedded.py) runs in a temporary directory.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from frontline.config import load_settings
from frontline.database import create_pool
from frontline.embedded import start_embedded_server, stop_embedded_server
from frontline.migrate import migrate
from readmodel.connections import Pool
from tests.support.databases import temporary_database


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """DSN of the session's PostgreSQL server (its maintenance database)."""
    database_url = load_settings().database_url
    if database_url:
        yield database_url
        return
    # Not under pytest's basetemp: pytest prunes old numbered basetemps, which would pull the
    # data directory from under a server still used by a concurrent session.
    data_dir = Path(tempfile.mkdtemp(prefix="frontline-test-pg-"))
    try:
        yield start_embedded_server(data_dir)
    finally:
        stop_embedded_server(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def blank_database_dsn(postgres_dsn: str) -> Iterator[str]:
    """DSN of a brand-new empty database, no migrations applied; dropped after the test."""
    with temporary_database(postgres_dsn) as dsn:
        yield dsn


@pytest.fixture
def database_dsn(blank_database_dsn: str) -> str:
    """DSN of a brand-new database with all migrations applied (an empty event log)."""
    asyncio.run(migrate(blank_database_dsn))
    return blank_database_dsn


@pytest.fixture
async def db_pool(database_dsn: str) -> AsyncIterator[Pool]:
    """An asyncpg pool on the test's migrated database."""
    pool = await create_pool(database_dsn, max_size=4)
    try:
        yield pool
    finally:
        await pool.close()
