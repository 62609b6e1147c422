"""The event store's write path: eventsourcing's PostgreSQL recorder, inserting through
``es_insert_event_arrays`` (migrations/0010) with binary parameters.

The one place Frontline reaches into eventsourcing's recorder (``insert_events``, the method
``Application.save`` calls with a batch's stored events and whose returned notification ids
it pairs with them, in order). Pinned with eventsourcing ~=9.5.6 in pyproject.toml;
tests/unit/test_library_patches.py fails if the overridden method changes shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry

#: ``APPLICATION_RECORDER_TOPIC`` for eventsourcing's factory (frontline.database).
TOPIC: Final = "frontline.event_store:ArrayInsertRecorder"
INSERT: Final = (
    "SELECT * FROM public.es_insert_event_arrays(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[])"
)


SELECT_MANY: Final = (
    "SELECT originator_id, originator_version, topic, state FROM public.frontline_events "
    "WHERE originator_id = ANY(%b::uuid[]) ORDER BY originator_id, originator_version"
)


class ArrayInsertRecorder(PostgresApplicationRecorder):
    """Inserts a batch as four binary arrays: psycopg dumped eventsourcing's array of
    composites as text, escaping every state to hex (a fifth of an ACLED import's time).
    Reads the events of many aggregates in one statement (``select_events_of``)."""

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_events_of(self, ids: Sequence[UUID]) -> list[StoredEvent]:
        """Every event of the aggregates ``ids``, by aggregate and version: what
        ``select_events`` gives for one, for a batch's corrections at once (each read was a
        round trip: most of a batch's wait on PostgreSQL, py-spy)."""
        if not ids:
            return []
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SELECT_MANY, (list(ids),), prepare=True)
            return [
                StoredEvent(
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **_: Any) -> Sequence[int]:
        if not stored_events:
            return []
        params = (
            [e.originator_id for e in stored_events],
            [e.originator_version for e in stored_events],
            [e.topic for e in stored_events],
            [e.state for e in stored_events],
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(INSERT, params, prepare=True)
            return [row["es_insert_event_arrays"] for row in curs.fetchall()]
