"""The write side on a real PostgreSQL: idempotency and optimistic concurrency under races."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from threading import Barrier

import asyncpg
import pytest

from domain import commands as c
from domain.application import Frontline, Receipt
from domain.details import Capture
from domain.errors import ConcurrencyConflict, DomainError, UnknownPlace
from domain.identity import actor_id, place_id
from domain.values import Coordinates, Source, ValidTime
from frontline.database import eventsourcing_env

SOURCE = Source(outlet="Test Wire")
WRITERS = 8


@pytest.fixture
def apps(database_dsn: str) -> Iterator[list[Frontline]]:
    """Several applications, as several API processes would have, on one database."""
    applications = [Frontline(env=eventsourcing_env(database_dsn)) for _ in range(WRITERS)]
    applications[0].execute_batch(
        [
            c.RegisterPlace("hama", "Hama", "city", Coordinates(35.13, 36.75), "Syria"),
            c.RegisterActor("hts", "HTS", "armed_group"),
            c.RegisterActor("saa", "Syrian Arab Army", "state_force"),
        ]
    )
    yield applications
    for application in applications:
        application.close()


def capture(key: str | None = None) -> c.RecordIncident:
    return c.RecordIncident(
        details=Capture(by=(actor_id("hts"),), taken_from=actor_id("saa")),
        valid_time=ValidTime(datetime(2024, 12, 5, tzinfo=UTC), "day"),
        places=(place_id("hama"),),
        sources=(SOURCE,),
        key=key,
    )


def race(apps: list[Frontline], command_for: object) -> list[Receipt | DomainError]:
    """Run one command per application at the same instant; collect receipts or errors."""
    barrier = Barrier(len(apps))

    def run(app: Frontline) -> Receipt | DomainError:
        barrier.wait()
        try:
            return app.execute(command_for(app))  # type: ignore[operator]
        except DomainError as error:
            return error

    with ThreadPoolExecutor(len(apps)) as pool:
        return list(pool.map(run, apps))


def test_the_same_key_sent_by_racing_writers_records_one_incident(apps: list[Frontline]) -> None:
    head = apps[0].head_position()
    outcomes = race(apps, lambda _: capture(key="report-42"))
    receipts = [o for o in outcomes if isinstance(o, Receipt)]
    assert len(receipts) == WRITERS
    assert len({r.id for r in receipts}) == 1
    assert sum(not r.replayed for r in receipts) == 1
    assert apps[0].head_position() == head + 1


def test_racing_corrections_without_expected_version_all_land(apps: list[Frontline]) -> None:
    incident = apps[0].execute(capture())
    outcomes = race(apps, lambda _: c.Corroborate(incident.id, SOURCE))
    assert all(isinstance(o, Receipt) for o in outcomes)
    assert apps[0].get_incident(incident.id).version == 1 + WRITERS


def test_racing_corrections_stating_the_version_they_saw_let_exactly_one_win(
    apps: list[Frontline],
) -> None:
    incident = apps[0].execute(capture())
    outcomes = race(
        apps, lambda _: c.Dispute(incident.id, SOURCE, reason="denied", expected_version=1)
    )
    winners = [o for o in outcomes if isinstance(o, Receipt)]
    losers = [o for o in outcomes if isinstance(o, ConcurrencyConflict)]
    assert len(winners) == 1
    assert len(losers) == WRITERS - 1
    assert all(error.code == "CONFLICT" for error in losers)
    assert apps[0].get_incident(incident.id).version == 2


def test_positions_stay_gapless_when_writes_fail_and_race(
    apps: list[Frontline], database_dsn: str
) -> None:
    incident = apps[0].execute(capture())
    race(apps, lambda _: c.Dispute(incident.id, SOURCE, reason="denied", expected_version=1))
    race(apps, lambda app: capture(key=f"writer-{id(app)}"))
    with pytest.raises(UnknownPlace):
        apps[0].execute(
            c.RecordIncident(**{**capture().__dict__, "places": (place_id("nowhere"),)})
        )

    async def positions() -> list[int]:
        conn = await asyncpg.connect(database_dsn)
        try:
            rows = await conn.fetch("SELECT notification_id FROM frontline_events ORDER BY 1")
            return [r[0] for r in rows]
        finally:
            await conn.close()

    found = asyncio.run(positions())
    assert found == list(range(1, len(found) + 1))


def test_a_batch_with_one_bad_command_writes_nothing_to_postgres(apps: list[Frontline]) -> None:
    head = apps[0].head_position()
    bad = c.RecordIncident(**{**capture().__dict__, "places": (place_id("nowhere"),)})
    with pytest.raises(UnknownPlace):
        apps[0].execute_batch([capture(key="fine"), bad])
    assert apps[0].head_position() == head


def test_recorded_incidents_survive_a_new_application_on_the_same_database(
    apps: list[Frontline], database_dsn: str
) -> None:
    receipt = apps[0].execute(capture(key="kept"))
    fresh = Frontline(env=eventsourcing_env(database_dsn))
    try:
        incident = fresh.get_incident(receipt.id)
        assert incident.details == capture().details
        assert [type(e).__qualname__ for e in fresh.history(receipt.id)] == ["Incident.Recorded"]
    finally:
        fresh.close()


def test_a_batch_of_thousands_of_incidents_is_recorded_atomically(apps: list[Frontline]) -> None:
    # Regression: eventsourcing's pipeline insert path hung on batches of ~400 events.
    head = apps[0].head_position()
    receipts = apps[0].execute_batch([capture() for _ in range(2000)])
    assert [r.position for r in receipts] == list(range(head + 1, head + 2001))


def test_a_batch_reads_the_incidents_it_corrects_at_once_and_saves_as_before(
    apps: list[Frontline],
) -> None:
    app = apps[0]
    first, second = app.execute(capture()), app.execute(capture())
    reads_many: list[list[object]] = []
    reads_one: list[object] = []
    recorder = app.recorder
    original_many, original_one = recorder.select_events_of, app.repository.get  # type: ignore[attr-defined]
    recorder.select_events_of = lambda ids: reads_many.append(list(ids)) or original_many(ids)  # type: ignore[attr-defined]
    app.repository.get = lambda i, **k: reads_one.append(i) or original_one(i, **k)  # type: ignore[method-assign]
    more = Source(outlet="Second Wire")
    receipts = app.execute_batch(
        [
            c.Corroborate(first.id, more),
            capture(),
            c.Corroborate(second.id, more),
            c.Dispute(first.id, Source(outlet="Third Wire"), reason="doubts"),
        ]
    )
    assert reads_many == [sorted([first.id, second.id])]
    assert reads_one == []  # nothing read one at a time
    # Saved by aggregate in the order commands first touched them, as without reading
    # ahead: the first incident's two events, the new one, then the second incident's.
    start = min(r.position for r in receipts if r.position is not None)
    assert [r.position for r in receipts] == [start, start + 2, start + 3, start + 1]
    assert [r.version for r in receipts] == [2, 1, 2, 3]
    assert app.get_incident(first.id).version == 3
    # Another application (another process) reads the incidents back as recorded.
    other = apps[1]
    assert other.get_incident(first.id).version == 3
    assert len(other.get_incident(first.id).corroborations) == 1
