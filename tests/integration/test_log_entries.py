"""The read models of every log entry (migrations/0007): `log_entries` and
`incident_versions`, and the rebuild that gives them to a database projected before them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from domain import commands as c
from domain.application import Frontline
from domain.details import Capture
from domain.identity import actor_id, place_id
from domain.values import Coordinates, Source, ValidTime
from frontline.database import eventsourcing_env
from frontline.migrate import load_migrations, migrate
from readmodel.projector import catch_up
from readmodel.rebuild import READ_MODELS_VERSION, read_models_version, rebuild_if_outdated

pytestmark = pytest.mark.slow

T0 = datetime(2024, 12, 1, tzinfo=UTC)
WIRE = Source(outlet="Wire", quote="seen")
ARMY = Source(outlet="Army statement", role="party", quote="denied")


def history(app: Frontline) -> Any:
    """Two places, two actors, a capture, then each kind of correction of it."""
    for slug in ("erze", "kafrtun"):
        where = Coordinates(35.1, 36.7)
        app.execute(c.RegisterPlace(slug, slug.title(), "village", where, "Syria"))
    app.execute(c.RegisterActor("hts", "HTS", "armed_group"))
    app.execute(c.RegisterActor("saa", "Syrian Arab Army", "state_force"))
    captured = app.execute(
        c.RecordIncident(
            details=Capture(by=(actor_id("hts"),), taken_from=actor_id("saa")),
            valid_time=ValidTime(T0, "day"),
            places=(place_id("erze"),),
            sources=(WIRE,),
        )
    )
    app.execute(c.Corroborate(captured.id, WIRE))
    app.execute(c.Dispute(captured.id, ARMY, actor_id("saa"), "the army denies it"))
    app.execute(
        c.Amend(
            captured.id,
            "it was Kafrtun, a day later",
            valid_time=ValidTime(T0 + timedelta(days=1), "day"),
            places=(place_id("kafrtun"),),
        )
    )
    app.execute(c.Confirm(captured.id, WIRE))
    app.execute(c.Retract(captured.id, "old footage"))
    return captured


async def rows(conn: Any, sql: str) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(sql)]


async def test_every_event_has_one_log_entry_with_its_correction_fields(
    app: Frontline, database_dsn: str
) -> None:
    captured = history(app)
    conn = await asyncpg.connect(database_dsn)
    try:
        await catch_up(conn)
        entries = await rows(conn, "SELECT * FROM rm.log_entries ORDER BY position")
        head = await conn.fetchval("SELECT max(notification_id) FROM public.frontline_events")
    finally:
        await conn.close()
    assert [e["position"] for e in entries] == list(range(1, head + 1))
    assert [e["type"] for e in entries] == [
        "Place.Registered", "Place.Registered", "Actor.Registered", "Actor.Registered",
        "Incident.Recorded", "Incident.Corroborated", "Incident.Disputed", "Incident.Amended",
        "Incident.Confirmed", "Incident.Retracted",
    ]  # fmt: skip
    by_type = {e["type"]: e for e in entries}
    assert [e["aggregate_version"] for e in entries[4:]] == [1, 2, 3, 4, 5, 6]
    assert all(e["aggregate_id"] == captured.id for e in entries[4:])
    disputed = by_type["Incident.Disputed"]
    assert disputed["reason"] == "the army denies it"
    assert disputed["disputed_by"] == actor_id("saa")
    assert json.loads(disputed["source"])["outlet"] == "Army statement"
    amended = by_type["Incident.Amended"]
    before, after = json.loads(amended["amended_from"]), json.loads(amended["amended_to"])
    assert before["place_ids"] == [str(place_id("erze"))]
    assert after["place_ids"] == [str(place_id("kafrtun"))]
    assert before["occurred_at"] == T0.isoformat()
    assert after["occurred_at"] == (T0 + timedelta(days=1)).isoformat()
    assert by_type["Incident.Retracted"]["reason"] == "old footage"
    assert by_type["Incident.Recorded"]["source"] is None  # its sources are the incident's


async def test_each_incident_version_is_the_incident_as_it_stood_at_its_position(
    app: Frontline, database_dsn: str
) -> None:
    history(app)
    conn = await asyncpg.connect(database_dsn)
    try:
        await catch_up(conn)
        versions = await rows(conn, "SELECT * FROM rm.incident_versions ORDER BY updated_position")
        current = await rows(conn, "SELECT * FROM rm.incidents")
    finally:
        await conn.close()
    assert [(v["version"], v["status"]) for v in versions] == [
        (1, "reported"), (2, "corroborated"), (3, "disputed"), (4, "disputed"),
        (5, "confirmed"), (6, "retracted"),
    ]  # fmt: skip
    assert [v["place_ids"] for v in versions][2:4] == [[place_id("erze")], [place_id("kafrtun")]]
    assert all(v["recorded_position"] == versions[0]["updated_position"] for v in versions)
    # The last version is the incident as now believed.
    assert versions[-1] == current[0]


async def test_read_models_projected_before_the_log_entries_are_rebuilt_before_serving(
    blank_database_dsn: str,
) -> None:
    """A database projected by the previous release: its read models are version 1. The
    upgrade keeps them serving until `frontline serve` rebuilds them from the log."""
    older = [m for m in load_migrations() if m.version < 7]
    await migrate(blank_database_dsn, older)
    # Written as that release wrote: eventsourcing's own recorder, through 0004's function
    # (0010's, which today's recorder calls, does not exist yet).
    env = eventsourcing_env(blank_database_dsn)
    env.pop("APPLICATION_RECORDER_TOPIC")
    application = Frontline(env=env)
    try:
        history(application)
    finally:
        application.close()
    conn = await asyncpg.connect(blank_database_dsn)
    try:
        # What the previous release left: version-1 tables, holding the projected log.
        head = await conn.fetchval("SELECT max(notification_id) FROM public.frontline_events")
        await conn.execute("UPDATE rm.tracking SET position = $1", head)
        await migrate(blank_database_dsn)
        assert await read_models_version(conn) == 1
        assert await conn.fetchval("SELECT to_regclass('rm.log_entries')") is None

        replayed = await rebuild_if_outdated(conn)

        assert replayed == head
        assert await read_models_version(conn) == READ_MODELS_VERSION
        assert await conn.fetchval("SELECT count(*) FROM rm.log_entries") == head
        assert await conn.fetchval("SELECT status FROM rm.incidents") == "retracted"
        assert await rebuild_if_outdated(conn) is None  # current now: nothing to do
    finally:
        await conn.close()


async def test_a_database_with_nothing_projected_gets_the_new_read_models_at_once(
    blank_database_dsn: str,
) -> None:
    await migrate(blank_database_dsn)
    conn = await asyncpg.connect(blank_database_dsn)
    try:
        assert await read_models_version(conn) == READ_MODELS_VERSION
        assert await conn.fetchval("SELECT version FROM rm.read_model_version") == 3
    finally:
        await conn.close()
