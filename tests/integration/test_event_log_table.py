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


# ---------------------------------------------------------------- the batch write path (0012)

BATCH = (
    "SELECT * FROM public.es_insert_event_arrays($1::uuid[], $2::bigint[], $3::text[], $4::bytea[])"
)


async def write_batch(
    conn: Pool | Connection | PoolConnectionProxy[asyncpg.Record], n: int
) -> list[int]:
    """``n`` new events through Frontline's write function (frontline.event_store)."""
    rows = await conn.fetch(
        BATCH, [uuid4() for _ in range(n)], [1] * n, ["test:Event"] * n, [b"{}"] * n
    )
    return [row[0] for row in rows]


async def test_the_write_function_gives_a_batch_the_next_positions_in_order(db_pool: Pool) -> None:
    await append(db_pool, (uuid4(), 1))
    before = await db_pool.fetchval("SELECT clock_timestamp()")

    assert await write_batch(db_pool, 5) == [2, 3, 4, 5, 6]
    assert await append(db_pool, (uuid4(), 1)) == [7]  # the row trigger carries on after it

    rows = await db_pool.fetch("SELECT recorded_at FROM frontline_events ORDER BY notification_id")
    times = [row["recorded_at"] for row in rows]
    assert times == sorted(times)
    assert before <= times[1]


async def test_concurrent_batches_through_the_write_function_stay_gapless(db_pool: Pool) -> None:
    got = await asyncio.gather(*(write_batch(db_pool, 3) for _ in range(12)))

    assert await positions(db_pool) == list(range(1, 37))
    assert sorted(p for batch in got for p in batch) == list(range(1, 37))
    assert all(batch == list(range(batch[0], batch[0] + 3)) for batch in got)


SUPPLIED = (
    "INSERT INTO frontline_events"
    " (originator_id, originator_version, topic, state, notification_id, recorded_at)"
    " SELECT gen_random_uuid(), 1, 't', '', p, coalesce($2, clock_timestamp())"
    " FROM unnest($1::bigint[]) AS p"
)


async def supply(db_pool: Pool, positions_: list[int], recorded_at: datetime | None = None) -> None:
    """Rows that come with their positions, as the write function's are (its setting on)."""
    async with db_pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT set_config('frontline.positions', 'assigned', true)")
        await conn.execute(SUPPLIED, positions_, recorded_at)


@pytest.mark.parametrize(
    ("supplied", "recorded_at"),
    [
        ([3], None),  # a gap after position 1
        ([2, 4], None),  # not consecutive
        ([1], None),  # a position taken
        ([2], datetime(2001, 1, 1, tzinfo=UTC)),  # a record time in the past
        ([2], datetime(2999, 1, 1, tzinfo=UTC)),  # ... or in the future
    ],
)
async def test_positions_and_record_times_a_writer_supplies_are_checked(
    db_pool: Pool, supplied: list[int], recorded_at: datetime | None
) -> None:
    await append(db_pool, (uuid4(), 1))

    with pytest.raises((asyncpg.CheckViolationError, asyncpg.UniqueViolationError)):
        await supply(db_pool, supplied, recorded_at)

    assert await positions(db_pool) == [1]
    await supply(db_pool, [2, 3])  # the next ones, now: accepted
    assert await positions(db_pool) == [1, 2, 3]


async def test_supplied_positions_are_refused_while_another_writer_holds_the_lock(
    db_pool: Pool,
) -> None:
    async with db_pool.acquire() as holder, holder.transaction():
        await write_batch(holder, 1)  # holds the event store's lock until it commits
        with pytest.raises(asyncpg.LockNotAvailableError):
            await supply(db_pool, [2])
    assert await positions(db_pool) == [1]


async def test_positions_are_not_supplied_during_an_import(db_pool: Pool) -> None:
    await append(db_pool, (uuid4(), 1))

    # A restore's record times are checked by the row trigger (0006); not on this path.
    async def supply_while_importing() -> None:
        async with db_pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT set_config('frontline.import', 'on', true)")
            await conn.execute("SELECT set_config('frontline.positions', 'assigned', true)")
            await conn.execute(SUPPLIED, [2], datetime(2999, 1, 1, tzinfo=UTC))

    with pytest.raises(asyncpg.CheckViolationError, match="importing"):
        await supply_while_importing()
    assert await positions(db_pool) == [1]
