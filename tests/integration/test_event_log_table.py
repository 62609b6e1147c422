"""The event log table's own guarantees, enforced by PostgreSQL whoever writes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg
import pytest
from asyncpg.pool import PoolConnectionProxy

from readmodel.connections import Connection, Pool

# The shape of eventsourcing's own INSERT: named columns, many rows in one statement.
INSERT = """
INSERT INTO frontline_events (originator_id, originator_version, topic, state)
SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::bytea[])
RETURNING notification_id
"""


async def append(
    conn: Pool | Connection | PoolConnectionProxy[asyncpg.Record], *events: tuple[UUID, int]
) -> list[int]:
    rows = await conn.fetch(
        INSERT,
        [originator for originator, _ in events],
        [version for _, version in events],
        ["test:Event"] * len(events),
        [b"{}"] * len(events),
    )
    return [row["notification_id"] for row in rows]


async def positions(pool: Pool) -> list[int]:
    rows = await pool.fetch("SELECT notification_id FROM frontline_events ORDER BY 1")
    return [row["notification_id"] for row in rows]


async def test_positions_start_at_one_and_a_multi_row_insert_gets_consecutive_ones(
    db_pool: Pool,
) -> None:
    a, b = uuid4(), uuid4()

    first = await append(db_pool, (a, 1))
    batch = await append(db_pool, (a, 2), (b, 1), (a, 3), (b, 2))

    assert first == [1]
    assert batch == [2, 3, 4, 5]


async def test_failed_insert_leaves_no_gap(db_pool: Pool) -> None:
    a = uuid4()
    await append(db_pool, (a, 1))

    # A version conflict (another writer got there first) fails the whole statement...
    with pytest.raises(asyncpg.UniqueViolationError):
        await append(db_pool, (uuid4(), 1), (a, 1))

    # ... and burns no position.
    assert await append(db_pool, (a, 2)) == [2]
    assert await positions(db_pool) == [1, 2]


async def test_rolled_back_transaction_leaves_no_gap(db_pool: Pool) -> None:
    async with db_pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        assert await append(conn, (uuid4(), 1)) == [1]
        await transaction.rollback()

    assert await append(db_pool, (uuid4(), 1)) == [1]


async def test_concurrent_writers_skipping_the_table_lock_still_get_gapless_positions(
    db_pool: Pool,
) -> None:
    # eventsourcing locks the table before inserting; the trigger's own lock covers writers
    # that don't (psql, other tools).
    await asyncio.gather(*(append(db_pool, (uuid4(), 1), (uuid4(), 1)) for _ in range(12)))

    assert await positions(db_pool) == list(range(1, 25))


async def test_writer_cannot_choose_its_position_or_record_time(db_pool: Pool) -> None:
    past = datetime(2001, 1, 1, tzinfo=UTC)

    await db_pool.execute(
        "INSERT INTO frontline_events"
        " (originator_id, originator_version, topic, state, notification_id, recorded_at)"
        " VALUES ($1, 1, 't', '', 999, $2)",
        uuid4(),
        past,
    )

    row = await db_pool.fetchrow("SELECT notification_id, recorded_at FROM frontline_events")
    assert row is not None
    assert row["notification_id"] == 1
    assert row["recorded_at"] > past


async def test_recorded_at_is_the_database_clock_and_never_decreases_with_position(
    db_pool: Pool,
) -> None:
    before = await db_pool.fetchval("SELECT clock_timestamp()")
    for _ in range(3):
        await append(db_pool, (uuid4(), 1), (uuid4(), 1))
    after = await db_pool.fetchval("SELECT clock_timestamp()")

    rows = await db_pool.fetch("SELECT recorded_at FROM frontline_events ORDER BY notification_id")
    times = [row["recorded_at"] for row in rows]
    assert times == sorted(times)
    assert before <= times[0]
    assert times[-1] <= after


@pytest.mark.parametrize(
    ("operation", "statement"),
    [
        ("UPDATE", "UPDATE frontline_events SET topic = 'forged'"),
        ("DELETE", "DELETE FROM frontline_events"),
        ("TRUNCATE", "TRUNCATE frontline_events"),
    ],
)
async def test_log_rejects_changes_to_recorded_events(
    db_pool: Pool, operation: str, statement: str
) -> None:
    await append(db_pool, (uuid4(), 1))

    expected = f"append-only: {operation} is not allowed"
    with pytest.raises(asyncpg.PostgresError, match=expected) as error:
        await db_pool.execute(statement)

    assert error.value.sqlstate == "FL001"
    assert await positions(db_pool) == [1]
    assert await db_pool.fetchval("SELECT topic FROM frontline_events") == "test:Event"
