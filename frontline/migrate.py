"""Apply `migrations/NNNN_name.sql` in order, each once, each in its own transaction.

Applied migrations are recorded in `schema_migrations` with their SHA-256. Editing a migration
that has been applied is refused: ship a new migration instead. Concurrent starters (several
API processes, a CLI run) serialize on a PostgreSQL advisory lock, so each migration runs once.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Final

import asyncpg

logger = logging.getLogger(__name__)

#: Session advisory lock key held while migrating ("FRONTMIG" in ASCII).
MIGRATION_LOCK_KEY: Final = 0x46524F4E544D4947

_FILE_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS public.schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    sha256 text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
_SELECT_APPLIED = "SELECT version, name, sha256 FROM public.schema_migrations ORDER BY version"
_INSERT_APPLIED = "INSERT INTO public.schema_migrations (version, name, sha256) VALUES ($1, $2, $3)"


class MigrationError(RuntimeError):
    """The migrations on disk and the database disagree; nothing was changed."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def filename(self) -> str:
        return f"{self.version:04d}_{self.name}.sql"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(directory: Traversable | Path | None = None) -> list[Migration]:
    """Read the migrations in `directory` (default: the `migrations` package), by version."""
    root: Traversable | Path = directory if directory is not None else files("migrations")
    found: dict[int, Migration] = {}
    for entry in root.iterdir():
        match = _FILE_NAME.match(entry.name)
        if match is None:
            continue
        migration = Migration(
            version=int(match["version"]),
            name=match["name"],
            sql=entry.read_text(encoding="utf-8"),
        )
        if migration.version in found:
            msg = (
                f"two migrations share version {migration.version:04d}: "
                f"{found[migration.version].filename} and {migration.filename}"
            )
            raise MigrationError(msg)
        found[migration.version] = migration
    return [found[version] for version in sorted(found)]


async def migrate(dsn: str, migrations: Sequence[Migration] | None = None) -> list[Migration]:
    """Apply the pending migrations to the database at `dsn`; return those applied."""
    connection = await asyncpg.connect(dsn)
    try:
        return await migrate_connection(connection, migrations)
    finally:
        await connection.close()


async def migrate_connection(
    connection: asyncpg.Connection, migrations: Sequence[Migration] | None = None
) -> list[Migration]:
    """Like `migrate`, on an open connection (which must not be inside a transaction)."""
    wanted = list(migrations) if migrations is not None else load_migrations()
    await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
    try:
        await connection.execute(_CREATE_TABLE)
        applied = {
            row["version"]: (row["name"], row["sha256"])
            for row in await connection.fetch(_SELECT_APPLIED)
        }
        pending = _check(wanted, applied)
        for migration in pending:
            logger.info("applying migration %s", migration.filename)
            async with connection.transaction():
                await connection.execute(migration.sql)
                await connection.execute(
                    _INSERT_APPLIED, migration.version, migration.name, migration.sha256
                )
        return pending
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)


def _check(wanted: Iterable[Migration], applied: dict[int, tuple[str, str]]) -> list[Migration]:
    """Return the pending migrations, or refuse if what was applied no longer matches."""
    known = {migration.version for migration in wanted}
    unknown = sorted(set(applied) - known)
    if unknown:
        names = ", ".join(f"{v:04d}_{applied[v][0]}.sql" for v in unknown)
        msg = f"the database has migrations this code doesn't know ({names}): upgrade Frontline"
        raise MigrationError(msg)
    pending: list[Migration] = []
    for migration in wanted:
        if migration.version not in applied:
            pending.append(migration)
            continue
        name, sha256 = applied[migration.version]
        if (name, sha256) != (migration.name, migration.sha256):
            msg = (
                f"migration {migration.filename} was changed after it was applied "
                f"(applied as {migration.version:04d}_{name}.sql, sha256 {sha256[:12]}…, "
                f"now {migration.sha256[:12]}…). Restore it and add a new migration instead."
            )
            raise MigrationError(msg)
    if pending and applied and pending[0].version < max(applied):
        msg = (
            f"migration {pending[0].filename} is new but sorts before "
            f"{max(applied):04d}_{applied[max(applied)][0]}.sql, which is already applied: "
            "renumber it after the last applied migration"
        )
        raise MigrationError(msg)
    return pending
