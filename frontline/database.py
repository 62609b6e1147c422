"""Where PostgreSQL is, and how each side connects to it.

The write side (eventsourcing, psycopg) is configured through an environment mapping; the read
side and the API use an asyncpg pool. Both are derived from one DSN.
"""

from __future__ import annotations

import logging
from typing import Final
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
from psycopg.conninfo import conninfo_to_dict

from frontline import event_store
from frontline.config import Settings
from frontline.embedded import start_embedded_server
from readmodel.connections import Connection, Pool

logger = logging.getLogger(__name__)

#: Name of the eventsourcing application; it fixes the table name `frontline_events`.
APPLICATION_NAME: Final = "Frontline"
EVENTS_TABLE: Final = "frontline_events"

_URI_SCHEMES: Final = ("postgresql", "postgres")


class DatabaseConfigError(RuntimeError):
    """The database location can't be used (bad DSN, unusable data directory)."""


def resolve_dsn(settings: Settings) -> str:
    """Return DATABASE_URL if set, else start (or reuse) the embedded server and return its DSN.

    DATABASE_URL must be a URI (postgresql://user:password@host:port/dbname, or
    postgresql://user@/dbname?host=/socket/dir): asyncpg reads no key=value strings.
    """
    if settings.database_url:
        if urlsplit(settings.database_url).scheme not in _URI_SCHEMES:
            msg = "DATABASE_URL must be a postgresql:// URI"
            raise DatabaseConfigError(msg)
        return settings.database_url
    return start_embedded_server(settings.data_dir)


def dsn_with_database(dsn: str, dbname: str) -> str:
    """The same server and credentials, another database (URI DSNs only)."""
    parts = urlsplit(dsn)
    if parts.scheme not in _URI_SCHEMES:
        msg = "expected a postgresql:// URI"
        raise DatabaseConfigError(msg)
    return urlunsplit(parts._replace(path="/" + quote(dbname, safe="")))


def eventsourcing_env(dsn: str, *, pool_size: int = 5) -> dict[str, str]:
    """Map a libpq DSN (URI or key=value, TCP or unix socket) to eventsourcing's settings.

    CREATE_TABLE is off: migrations own the schema (migrations/0001_event_store.sql).
    POSTGRES_ENABLE_DB_FUNCTIONS is on: the default (pipeline) insert path deadlocks on
    batches of a few hundred events; see migrations/0004_insert_function.sql, which also
    says why positions stay gapless without eventsourcing's table lock. The recorder inserts
    through migrations/0010's function instead (frontline.event_store).
    """
    try:
        params = conninfo_to_dict(dsn)
    except Exception as exc:  # psycopg.ProgrammingError; don't echo the DSN (password)
        msg = f"DATABASE_URL is not a valid PostgreSQL connection string: {exc}"
        raise DatabaseConfigError(msg) from None
    host = str(params.get("host") or "localhost")
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "APPLICATION_RECORDER_TOPIC": event_store.TOPIC,
        "POSTGRES_DBNAME": str(params.get("dbname") or params.get("user") or "postgres"),
        "POSTGRES_HOST": host,
        "POSTGRES_PORT": str(params.get("port") or "5432"),
        "POSTGRES_USER": str(params.get("user") or "postgres"),
        "POSTGRES_PASSWORD": str(params.get("password") or ""),
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_LOCK_TIMEOUT": "5",
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": "5",
        "POSTGRES_PRE_PING": "y",
        "POSTGRES_ENABLE_DB_FUNCTIONS": "y",
        "CREATE_TABLE": "n",
    }


async def create_pool(
    dsn: str, *, min_size: int = 1, max_size: int = 10, statement_timeout_ms: int | None = None
) -> Pool:
    """An asyncpg pool for the read side and the API (URI DSNs, TCP or unix socket). With
    ``statement_timeout_ms``, PostgreSQL cancels any statement running longer (the API's
    pools: a slow query answers ``TIMEOUT`` instead of holding a connection)."""
    settings = {}
    if statement_timeout_ms is not None:
        settings["statement_timeout"] = str(statement_timeout_ms)
    return await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, reset=_no_session_reset, server_settings=settings
    )


async def _no_session_reset(_conn: Connection) -> None:
    """asyncpg resets every connection it takes back (advisory unlock, CLOSE ALL, UNLISTEN,
    RESET ALL): one more round trip per request, ~5% of a small query's cost. Nothing that
    borrows from this pool leaves session state: advisory locks, LISTEN and session settings
    live on dedicated connections (migrations, the sample loader, the projector, the
    broadcaster), and settings here are transaction-local. asyncpg still rolls back a
    transaction left open before this runs."""
