"""eventsourcing's PostgreSQL recorder works on the schema our migrations create.

No domain code: a throwaway aggregate, saved by an application named like ours.
"""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError

from frontline.database import eventsourcing_env
from frontline.event_store import ArrayInsertRecorder


class Counter(Aggregate):
    @event("Started")
    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0

    @event("Incremented")
    def increment(self) -> None:
        self.count += 1


class Frontline(Application[UUID]):
    """Stands in for domain.application.Frontline: same name, so same table."""

    name = "Frontline"


@pytest.fixture
def application(database_dsn: str) -> Iterator[Frontline]:
    app = Frontline(env=eventsourcing_env(database_dsn))
    try:
        yield app
    finally:
        app.close()


def test_saved_events_get_consecutive_positions_and_read_back(application: Frontline) -> None:
    counter = Counter("Hama")
    counter.increment()
    counter.increment()

    recordings = application.save(counter)

    assert [r.notification.id for r in recordings] == [1, 2, 3]
    copy: Counter = application.repository.get(counter.id)
    assert (copy.name, copy.count, copy.version) == ("Hama", 2, 3)
    notifications = application.recorder.select_notifications(start=1, limit=10)
    assert [n.id for n in notifications] == [1, 2, 3]
    assert application.recorder.max_notification_id() == 3


def test_version_conflict_is_refused_and_burns_no_position(database_dsn: str) -> None:
    first = Frontline(env=eventsourcing_env(database_dsn))
    second = Frontline(env=eventsourcing_env(database_dsn))
    try:
        counter = Counter("Homs")
        first.save(counter)
        mine: Counter = first.repository.get(counter.id)
        theirs: Counter = second.repository.get(counter.id)
        mine.increment()
        theirs.increment()
        first.save(mine)

        with pytest.raises(IntegrityError):
            second.save(theirs)

        recordings = second.save(Counter("Aleppo"))
        assert [r.notification.id for r in recordings] == [3]
    finally:
        first.close()
        second.close()


def test_unknown_aggregate_is_not_found(application: Frontline) -> None:
    with pytest.raises(AggregateNotFoundError):
        application.repository.get(uuid4())


def test_a_batch_goes_through_the_array_insert_with_its_positions_paired_in_order(
    application: Frontline, database_dsn: str
) -> None:
    """frontline.event_store: the recorder in use inserts a batch as binary arrays; the
    positions it returns pair with the events eventsourcing gave it, in order, and the bytes
    stored are the bytes given."""
    assert isinstance(application.recorder, ArrayInsertRecorder)
    counters = [Counter(f"place {i}") for i in range(300)]
    for i, counter in enumerate(counters):
        for _ in range(i % 3):
            counter.increment()
    recordings = application.save(*counters)
    positions = [r.notification.id for r in recordings]
    assert positions == list(range(1, len(recordings) + 1))
    stored = {
        n.id: (n.originator_id, n.originator_version, n.state)
        for n in application.recorder.select_notifications(start=1, limit=2_000)
    }
    for recording in recordings:
        note = recording.notification
        assert stored[note.id] == (note.originator_id, note.originator_version, note.state)
    assert application.recorder.insert_events([]) == []
