"""How the read side and the API hold PostgreSQL: asyncpg pools and connections, and the
errors that mean "the database is away for now" (not the request's fault, not a bug)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

import asyncpg
from eventsourcing.persistence import InterfaceError as PersistenceInterfaceError
from eventsourcing.persistence import OperationalError as PersistenceOperationalError

if TYPE_CHECKING:
    Pool: TypeAlias = asyncpg.Pool[asyncpg.Record]
    Connection: TypeAlias = asyncpg.Connection[asyncpg.Record]
else:  # asyncpg's classes are generic only in asyncpg-stubs, not at run time
    Pool = asyncpg.Pool
    Connection = asyncpg.Connection

#: The database is down, restarting or was just swapped under a connection: a temporary
#: condition, reported as ``UNAVAILABLE`` / 503 ("retry shortly"). Read side: asyncpg; write
#: side: eventsourcing's wrappers of psycopg's errors. asyncpg.InternalClientError is here
#: because that is what a pooled connection raises when PostgreSQL shut down while it was idle
#: ("cannot switch to state 12; another operation (2) is in progress": the server's FATAL
#: was consumed in between); the pool then terminates it, so a retry gets a fresh one. Its
#: other subclass, OutdatedSchemaCacheError (a rebuild swapped the tables), passes on retry too.
DATABASE_DOWN: tuple[type[Exception], ...] = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    PersistenceOperationalError,
    PersistenceInterfaceError,
)
