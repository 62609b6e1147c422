"""The projector on a real PostgreSQL: exactly once, resumable, rebuildable, single-leader."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from domain import commands as c
from domain.application import Frontline
from domain.details import AircraftLoss, Assessment, Capture, Clash, Withdrawal
from domain.identity import actor_id, place_id
from domain.values import Coordinates, Source, ValidTime
from readmodel.projector import Projector, catch_up, project_batch, projected_position
from readmodel.queries import control_at
from readmodel.rebuild import rebuild

T0 = datetime(2024, 12, 1, tzinfo=UTC)
SOURCE = Source(outlet="Test Wire")
READ_MODEL_TABLES = (
    "places", "actors", "incidents", "place_facts", "control", "control_changes", "tracking",
    "incident_versions", "log_entries", "read_model_version",
)  # fmt: skip


def seed_world(app: Frontline) -> None:
    for slug in ("hama", "erze", "kafrtun"):
        app.execute(
            c.RegisterPlace(slug, slug.title(), "village", Coordinates(35.1, 36.7), "Syria")
        )
    app.execute(c.RegisterActor("hts", "HTS", "armed_group"))
    app.execute(c.RegisterActor("saa", "Syrian Arab Army", "state_force"))


def capture(
    app: Frontline, by: str, taken_from: str | None, places: tuple[str, ...], at: datetime
) -> Any:
    return app.execute(
        c.RecordIncident(
            details=Capture(by=(actor_id(by),), taken_from=taken_from and actor_id(taken_from)),
            valid_time=ValidTime(at),
            places=tuple(place_id(p) for p in places),
            sources=(SOURCE,),
        )
    )


def record_history(app: Frontline) -> None:
    """A little of everything: captures, a late report, a dispute, an amendment, a retraction."""
    first = capture(app, "hts", "saa", ("hama", "erze"), T0 + timedelta(days=4))
    capture(app, "saa", "hts", ("erze",), T0 + timedelta(days=5))
    capture(app, "hts", "saa", ("kafrtun",), T0 + timedelta(days=1))  # a late report
    app.execute(c.Dispute(first.id, SOURCE, actor_id("saa"), "the army denies it"))
    app.execute(
        c.RecordIncident(
            details=Withdrawal(actor=actor_id("saa"), redeployment=True),
            valid_time=ValidTime(T0 + timedelta(days=4), "day"),
            places=(place_id("hama"),),
            sources=(SOURCE,),
        )
    )
    wrong = capture(app, "saa", "hts", ("kafrtun",), T0 + timedelta(days=2))
    app.execute(c.Amend(wrong.id, "it was Erze", places=(place_id("erze"),)))
    app.execute(c.Retract(wrong.id, "fabricated footage"))
    app.execute(
        c.RecordIncident(
            details=AircraftLoss(aircraft="helicopter", outcome="destroyed"),
            valid_time=ValidTime(T0 + timedelta(days=4)),
            places=(place_id("hama"),),
            sources=(SOURCE,),
        )
    )


def record_assessments(app: Frontline) -> None:
    """Assessments of every kind among the incidents: a baseline before the first capture,
    one overriding a capture, a contest between parties, a confirmed one outranking a capture
    at its instant, an unknown, and one retracted."""

    def assess(status: str, holders: tuple[str, ...], places: tuple[str, ...], at: datetime,
               tier: str = "assessed") -> Any:  # fmt: skip
        return app.execute(
            c.RecordIncident(
                details=Assessment(status, tuple(actor_id(h) for h in holders), tier),  # type: ignore[arg-type]
                valid_time=ValidTime(at, "day"),
                places=tuple(place_id(p) for p in places),
                sources=(SOURCE,),
            )
        )

    assess("held", ("saa",), ("hama", "erze", "kafrtun"), T0 - timedelta(days=3))
    assess("held", ("saa",), ("erze",), T0 + timedelta(days=6))
    assess("contested", ("saa", "hts"), ("kafrtun",), T0 + timedelta(days=3))
    assess("held", ("hts",), ("hama",), T0 + timedelta(days=4), "confirmed")
    assess("unknown", (), ("erze",), T0 + timedelta(days=8))
    wrong = assess("held", ("hts",), ("kafrtun",), T0 + timedelta(days=7))
    app.execute(c.Retract(wrong.id, "misread map"))


async def snapshot(conn: asyncpg.Connection, schema: str = "rm") -> dict[str, list[Any]]:
    """Every read-model row, minus surrogate ids, in a stable order."""
    tables = {}
    for table in READ_MODEL_TABLES:
        rows = await conn.fetch(f"SELECT * FROM {schema}.{table}")
        tables[table] = sorted(
            tuple((k, str(v)) for k, v in dict(row).items() if k != "id") for row in rows
        )
    return tables


async def test_projection_applies_every_event_once_and_tracks_the_head(
    app: Frontline, db_pool: Any
) -> None:
    seed_world(app)
    record_history(app)
    async with db_pool.acquire() as conn:
        applied = await catch_up(conn)
        assert applied == app.head_position()
        assert await projected_position(conn) == app.head_position()
        assert await catch_up(conn) == 0  # nothing is applied twice
        assert await conn.fetchval("SELECT count(*) FROM rm.incidents") == 6


async def test_rebuild_from_zero_equals_the_incrementally_built_read_models(
    app: Frontline, db_pool: Any
) -> None:
    seed_world(app)
    async with db_pool.acquire() as conn:
        await catch_up(conn)
        # Project after every write, as a live server would, then rebuild in one go.
        for step in (
            lambda: capture(app, "hts", "saa", ("hama",), T0 + timedelta(days=4)),
            lambda: capture(app, "saa", None, ("hama",), T0 + timedelta(days=4, hours=6)),
            lambda: capture(app, "hts", "saa", ("erze",), T0 + timedelta(days=3)),
            lambda: record_history(app),
            lambda: record_assessments(app),
        ):
            step()
            await catch_up(conn)
        incremental = await snapshot(conn)
        replayed = await rebuild(conn)
        assert replayed == app.head_position()
        assert await snapshot(conn) == incremental
        schemas = await conn.fetch("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'rm%'")
        assert [r["nspname"] for r in schemas] == ["rm"]


async def test_rebuilt_read_models_go_live_with_planner_statistics(
    app: Frontline, db_pool: Any
) -> None:
    seed_world(app)
    record_history(app)
    async with db_pool.acquire() as conn:
        await rebuild(conn)
        unanalyzed = await conn.fetch(
            "SELECT relname FROM pg_stat_user_tables "
            "WHERE schemaname = 'rm' AND last_analyze IS NULL AND last_autoanalyze IS NULL"
        )
    assert [r["relname"] for r in unanalyzed] == []


async def test_a_failed_batch_leaves_no_trace_and_is_applied_once_on_retry(
    app: Frontline, db_pool: Any
) -> None:
    seed_world(app)
    record_history(app)
    async with db_pool.acquire() as conn:
        await conn.execute(
            "ALTER TABLE rm.control ADD CONSTRAINT fail_on_write CHECK (false) NOT VALID"
        )
        with pytest.raises(asyncpg.CheckViolationError):
            await catch_up(conn, limit=100)
        assert await projected_position(conn) == 0
        assert await conn.fetchval("SELECT count(*) FROM rm.incidents") == 0
        await conn.execute("ALTER TABLE rm.control DROP CONSTRAINT fail_on_write")
        await catch_up(conn)
        expected = await snapshot(conn)
        await rebuild(conn)
        assert await snapshot(conn) == expected


async def test_batches_resume_from_the_committed_position(app: Frontline, db_pool: Any) -> None:
    seed_world(app)
    record_history(app)
    async with db_pool.acquire() as conn:
        assert await project_batch(conn, limit=4) == 4
        assert await projected_position(conn) == 4
        await catch_up(conn, limit=3)
        resumed = await snapshot(conn)
        await rebuild(conn)
        assert await snapshot(conn) == resumed


async def test_only_one_projector_holds_the_lock_and_a_standby_takes_over(
    app: Frontline, database_dsn: str, db_pool: Any
) -> None:
    seed_world(app)
    first, second = (
        Projector(database_dsn, poll_interval=0.05),
        Projector(database_dsn, poll_interval=0.05),
    )
    stop_first, stop_second = asyncio.Event(), asyncio.Event()
    running_first = asyncio.create_task(first.run(stop_first))
    await asyncio.wait_for(first.has_lock.wait(), 5)
    running_second = asyncio.create_task(second.run(stop_second))
    await asyncio.sleep(0.3)
    assert not second.has_lock.is_set()
    stop_first.set()
    await running_first
    await asyncio.wait_for(second.has_lock.wait(), 5)
    capture(app, "hts", "saa", ("hama",), T0)
    async with db_pool.acquire() as conn:
        for _ in range(100):
            if await projected_position(conn) == app.head_position():
                break
            await asyncio.sleep(0.05)
        assert await projected_position(conn) == app.head_position()
    stop_second.set()
    await running_second


async def test_the_projector_wakes_on_notify_without_waiting_for_the_poll(
    app: Frontline, database_dsn: str, db_pool: Any
) -> None:
    projector = Projector(database_dsn, poll_interval=30)
    stop = asyncio.Event()
    running = asyncio.create_task(projector.run(stop))
    await asyncio.wait_for(projector.has_lock.wait(), 5)
    seed_world(app)
    async with db_pool.acquire() as conn:
        for _ in range(100):
            if await projected_position(conn) == app.head_position():
                break
            await asyncio.sleep(0.05)
        assert await projected_position(conn) == app.head_position()
    stop.set()
    await running


async def test_a_hand_over_is_logged_once_and_a_late_report_of_the_past_is_not(
    app: Frontline, db_pool: Any
) -> None:
    seed_world(app)
    taken = capture(app, "hts", "saa", ("hama",), T0 + timedelta(days=4))
    capture(app, "hts", "saa", ("erze",), T0 + timedelta(days=1))
    # A late report about the day before: history changes, but not who holds Hama now.
    capture(app, "saa", None, ("hama",), T0 + timedelta(days=3))
    retaken = capture(app, "saa", "hts", ("hama",), T0 + timedelta(days=6))
    async with db_pool.acquire() as conn:
        await catch_up(conn)
        rows = await conn.fetch(
            "SELECT * FROM rm.control_changes WHERE place_id = $1 ORDER BY position",
            place_id("hama"),
        )
    assert [(r["before_controllers"], r["after_controllers"]) for r in rows] == [
        ([], [actor_id("hts")]),
        ([actor_id("hts")], [actor_id("saa")]),
    ]
    assert [r["evidence"] for r in rows] == [[taken.id], [retaken.id]]
    assert [r["position"] for r in rows] == [taken.position, retaken.position]


async def test_an_amendment_that_makes_a_capture_a_clash_stops_it_deciding_control(
    app: Frontline, db_pool: Any
) -> None:
    seed_world(app)
    taken = capture(app, "hts", "saa", ("hama",), T0 + timedelta(days=4))
    async with db_pool.acquire() as conn:
        await catch_up(conn)
        assert await control_at(conn, place_id("hama"), T0 + timedelta(days=5)) is not None
        app.execute(
            c.Amend(taken.id, "recoded", details=Clash(parties=(actor_id("hts"), actor_id("saa"))))
        )
        await catch_up(conn)
        assert await control_at(conn, place_id("hama"), T0 + timedelta(days=5)) is None
        assert await conn.fetchval("SELECT count(*) FROM rm.place_facts") == 0
        incremental = await snapshot(conn)
        await rebuild(conn)
        assert await snapshot(conn) == incremental
