"""``frontline rebuild``: replay the whole log into fresh read models and swap them in.

The live schema keeps serving (and the live projector keeps projecting) while the scratch
schema is built. The swap locks the live tracking row, so the live projector finishes its
batch first and then waits; the last few events are applied to the scratch schema inside the
same transaction, and the schemas are renamed. Readers see the old models or the new ones,
never a mix.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Iterator
from typing import Any, Final

from readmodel.projector import LIVE_SCHEMA, Progress, catch_up

logger = logging.getLogger(__name__)

SCRATCH_SCHEMA = "rm_rebuild"
RETIRED_SCHEMA = "rm_retired"
#: The read models this code reads: what `frontline_create_read_models` makes (the version
#: it writes into `read_model_version`, migrations/0007 and 0008). A live schema that is
#: older is rebuilt before serving (``rebuild_if_outdated``).
READ_MODELS_VERSION: Final = 3
#: Session advisory lock key held while deciding to rebuild ("FRONTRBD").
REBUILD_LOCK_KEY: Final = 0x46524F4E54524244


async def read_models_version(conn: Any, schema: str = LIVE_SCHEMA) -> int:
    """The version of the read models in ``schema`` (1: made before versions existed)."""
    table = await conn.fetchval("SELECT to_regclass($1)", f"{schema}.read_model_version")
    if table is None:
        return 1
    return int(await conn.fetchval(f"SELECT version FROM {schema}.read_model_version"))


async def rebuild_if_outdated(conn: Any, *, progress: Progress | None = None) -> int | None:
    """Rebuild the live read models if they are older than this code reads (after an
    upgrade); returns the events replayed, or None when they were current. Servers that
    start together rebuild once: the others wait, then find the models current."""
    await conn.execute("SELECT pg_advisory_lock($1)", REBUILD_LOCK_KEY)
    try:
        found = await read_models_version(conn)
        if found >= READ_MODELS_VERSION:
            return None
        logger.warning(
            "the read models are version %d, this release reads version %d: rebuilding them "
            "from the log before serving",
            found,
            READ_MODELS_VERSION,
        )
        return await rebuild(conn, progress=progress)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", REBUILD_LOCK_KEY)


async def rebuild(conn: Any, *, progress: Progress | None = None, limit: int = 1000) -> int:
    """Rebuild every read model from position 0; returns the number of events replayed."""
    await conn.execute(f"DROP SCHEMA IF EXISTS {SCRATCH_SCHEMA} CASCADE")
    await conn.execute("SELECT public.frontline_create_read_models($1)", SCRATCH_SCHEMA)
    # The scratch schema's batches need not wait for the disk: a crash loses the scratch
    # schema, which the next rebuild drops anyway. The swap below commits durably.
    await conn.execute("SET synchronous_commit TO off")
    try:
        with collection_paused():
            replayed = await catch_up(conn, SCRATCH_SCHEMA, limit=limit, progress=progress)
    finally:
        await conn.execute("RESET synchronous_commit")
    # Fresh tables have no planner statistics until autovacuum gets to them; without them the
    # first queries on the swapped-in models chose poor plans (control map at 100k: 80 ms
    # instead of 20). Gather them before the swap, outside its lock.
    await analyze(conn, SCRATCH_SCHEMA)
    async with conn.transaction():
        await conn.execute(f"LOCK TABLE {LIVE_SCHEMA}.tracking IN ACCESS EXCLUSIVE MODE")
        replayed += await catch_up(conn, SCRATCH_SCHEMA, limit=limit, progress=progress)
        await conn.execute(f"DROP SCHEMA IF EXISTS {RETIRED_SCHEMA} CASCADE")
        await conn.execute(f"ALTER SCHEMA {LIVE_SCHEMA} RENAME TO {RETIRED_SCHEMA}")
        await conn.execute(f"ALTER SCHEMA {SCRATCH_SCHEMA} RENAME TO {LIVE_SCHEMA}")
        await conn.execute(f"DROP SCHEMA {RETIRED_SCHEMA} CASCADE")
    return replayed


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic garbage collection while a rebuild replays the log. Projecting allocates
    millions of small objects and keeps many (``Memory``), so the collector kept scanning
    them all: a quarter of a rebuild's CPU at 10,000 events, more the more ``Memory`` holds.
    A rebuild's batches leave no cycles behind (``gc.collect()`` after a 10,000-event one
    found none), so reference counting frees everything as before; and a rebuild ends. Not
    the live projector: it runs for as long as the server, beside other code. Restored even
    on error."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


async def analyze(conn: Any, schema: str) -> None:
    tables = await conn.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1", schema
    )
    for row in tables:
        await conn.execute(f'ANALYZE "{schema}"."{row[0]}"')
