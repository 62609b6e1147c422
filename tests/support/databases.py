"""Throwaway databases on the session's PostgreSQL server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import unquote, urlsplit
from uuid import uuid4

import asyncpg

from frontline.database import dsn_with_database
from frontline.migrate import migrate


async def admin(dsn: str, *statements: str) -> None:
    """Run ``statements`` in order on one connection to ``dsn`` (CREATE DATABASE and the like
    cannot run inside a pool's transaction)."""
    connection = await asyncpg.connect(dsn)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def database_name(dsn: str) -> str:
    """The database a URI DSN names (tests make theirs with ``dsn_with_database``)."""
    return unquote(urlsplit(dsn).path.lstrip("/"))


@contextmanager
def temporary_database(
    server_dsn: str, *, prefix: str = "test", template: str | None = None, migrated: bool = False
) -> Iterator[str]:
    """A brand-new database on ``server_dsn``'s server, dropped when the block ends; its DSN.
    With ``template`` (the DSN of another database on that server, unused while copied) it
    starts as a copy of that one, which is much faster than migrating and filling it anew."""
    name = f"{prefix}_{uuid4().hex}"
    copy = "" if template is None else f' TEMPLATE "{database_name(template)}"'
    asyncio.run(admin(server_dsn, f'CREATE DATABASE "{name}"{copy}'))
    try:
        dsn = dsn_with_database(server_dsn, name)
        if migrated:
            asyncio.run(migrate(dsn))
        yield dsn
    finally:
        # FORCE: a test may leave connections open (a killed server, a leaked pool).
        asyncio.run(admin(server_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
