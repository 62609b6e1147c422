"""The Frontline application service: validates commands and appends their events.

Every public method takes and returns plain values. A batch is one transaction: either every
command in it is recorded, or (on any error) nothing is.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, DomainEventProtocol
from eventsourcing.persistence import RecordConflictError, Recording, Transcoder

from domain.actors import Actor
from domain.codec import make_transcoder
from domain.commands import (
    Command,
    Correction,
    RecordIncident,
    RegisterActor,
    RegisterPlace,
)
from domain.creation import Created
from domain.errors import ConcurrencyConflict, UnknownIncident
from domain.handlers import Unit, handle
from domain.incidents import Incident
from domain.places import Place

# Client clocks drift; an "exact, just now" report must not bounce for being seconds ahead.
CLOCK_SKEW = timedelta(minutes=2)
# Each round of a race has a winner, so N racing writers need up to N rounds; back off a
# little (jittered) so the losers do not collide again at once.
CONFLICT_RETRIES = 12
BACKOFF_SECONDS = 0.002


@dataclass(frozen=True)
class Receipt:
    """What a command did: the aggregate it touched, the version it produced, and the log
    position of that version (``None`` when an idempotent retry recorded nothing new)."""

    id: UUID
    version: int
    position: int | None
    replayed: bool = False


class Frontline(Application[UUID]):
    name = "Frontline"

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(env)
        self.clock = clock or (lambda: datetime.now(UTC))
        # Ids proven to be places or actors; they are never deleted, so this never goes stale.
        self.known: dict[UUID, type] = {}

    def construct_transcoder(self) -> Transcoder:
        """The readers' transcoder (``domain.codec.make_transcoder``: orjson, the library's
        JSON), through the method eventsourcing has for choosing one."""
        return make_transcoder()

    # -- commands -------------------------------------------------------------------------

    def execute(self, command: Command) -> Receipt:
        return self.execute_batch([command])[0]

    def execute_batch(self, commands: Sequence[Command]) -> list[Receipt]:
        """Validate every command, then append all their events in one transaction.

        A version conflict (someone else wrote the same aggregate meanwhile) re-runs the
        whole batch against fresh state, so idempotent retries and concurrent corrections
        converge; a command that states ``expected_version`` then fails cleanly.
        """
        for attempt in range(CONFLICT_RETRIES):
            unit = Unit(
                self.repository,
                now=self.clock() + CLOCK_SKEW,
                known=self.known,
                optimistic=attempt == 0,
            )
            self.preload(unit, commands)
            outcomes = [handle(unit, command) for command in commands]
            try:
                changed = unit.changed()
                recordings = self.record(changed)
            except RecordConflictError:
                if attempt == CONFLICT_RETRIES - 1:
                    raise ConcurrencyConflict(
                        "another writer kept changing the same records; try again"
                    ) from None
                time.sleep(random.uniform(0, BACKOFF_SECONDS * 2 ** min(attempt, 5)))  # noqa: S311
                continue
            # What this batch registered is now in the log: later batches need not read it.
            for aggregate in changed:
                if isinstance(aggregate, Aggregate):
                    self.know(aggregate.id, type(aggregate))
            positions = {
                (r.domain_event.originator_id, r.domain_event.originator_version): r.notification.id
                for r in recordings
            }
            return [
                Receipt(id, version, None if replayed else positions[(id, version)], replayed)
                for id, version, replayed in outcomes
            ]
        raise AssertionError("unreachable")  # pragma: no cover

    def record(self, changed: Sequence[Aggregate | Created]) -> list[Recording[UUID]]:
        """Append the new events of ``changed`` (aggregates, and new incidents' events) in
        one transaction: ``Application.save`` without what Frontline does not use (snapshots
        and notify hooks are off, there is no aggregate cache) and without its runtime
        protocol checks of every object, a tenth of an import's write path (profile)."""
        if self.is_snapshotting_enabled or self.repository.cache is not None:
            raise RuntimeError("Frontline.record saves neither snapshots nor cached aggregates")
        events = [
            event
            for held in changed
            for event in (held.collect_events() if isinstance(held, Aggregate) else (held,))
        ]
        return self.events.put(events)

    def preload(self, unit: Unit, commands: Sequence[Command]) -> None:
        """Read the incidents a batch corrects in one statement, where the recorder can
        (frontline.event_store); otherwise each is read when its command runs."""
        read_many = getattr(self.recorder, "select_events_of", None)
        wanted = {command.incident for command in commands if isinstance(command, Correction)}
        if read_many is None or len(wanted) < 2:
            return
        aggregates: dict[UUID, Any] = {}
        for stored in read_many(sorted(wanted)):
            event: Any = self.mapper.to_domain_event(stored)
            aggregates[stored.originator_id] = event.mutate(aggregates.get(stored.originator_id))
        unit.preload(aggregates)

    def validator(self) -> Validator:
        """A check of commands exactly as ``execute_batch`` would run them, saving nothing."""
        return Validator(self)

    def register_place(self, command: RegisterPlace) -> Receipt:
        return self.execute(command)

    def register_actor(self, command: RegisterActor) -> Receipt:
        return self.execute(command)

    def record_incident(self, command: RecordIncident) -> Receipt:
        return self.execute(command)

    # -- reads (for the write side's own needs and tests; queries go to read models) ---------

    def get_incident(self, incident_id: UUID) -> Incident:
        try:
            incident: object = self.repository.get(incident_id)
        except AggregateNotFoundError:
            raise UnknownIncident(f"no incident {incident_id}") from None
        if not isinstance(incident, Incident):
            raise UnknownIncident(f"{incident_id} is not an incident")
        return incident

    def know(self, aggregate_id: UUID, cls: type) -> None:
        """Trust that the log holds ``aggregate_id`` as a ``cls`` (a Place or an Actor):
        for a caller that looked many up at once; saves a read per reference."""
        if cls in (Place, Actor):
            self.known[aggregate_id] = cls

    def exists(self, aggregate_id: UUID) -> bool:
        """Whether the log holds this aggregate (a registered place or actor, an incident)."""
        return aggregate_id in self.known or aggregate_id in self.repository

    def get(self, aggregate_id: UUID) -> Aggregate:
        aggregate: object = self.repository.get(aggregate_id)
        if not isinstance(aggregate, Aggregate):  # pragma: no cover - only ours are stored
            raise TypeError(f"{aggregate_id} is not an aggregate")
        return aggregate

    def history(self, aggregate_id: UUID) -> list[DomainEventProtocol[Any]]:
        """Every event of one aggregate, oldest first: the full provenance of an incident."""
        return list(self.repository.event_store.get(aggregate_id))

    def head_position(self) -> int:
        return self.recorder.max_notification_id() or 0


class Validator:
    """Runs commands through the same handlers as ``execute_batch`` — against the log, and
    against what the commands checked before created — and saves nothing: a file can be
    checked whole before any of it is recorded (an importer's strict mode, a dry run), with
    no second set of rules to drift from the first.

    Everything checked stays in memory, so a long check ``forget``s the incidents that
    nothing later refers to; places and actors are kept (later rows name them)."""

    def __init__(self, app: Frontline) -> None:
        self.unit = Unit(
            app.repository,
            now=app.clock() + CLOCK_SKEW,
            known=dict(app.known),  # a copy: what a check proves must not outlive it
            # Not optimistic: a keyed incident is read, so a reused key is refused here as
            # recording would refuse it (recording finds out from its insert's conflict).
            optimistic=False,
        )

    def check(self, commands: Sequence[Command]) -> None:
        """Raises the ``DomainError`` the first refused command would get."""
        for command in commands:
            handle(self.unit, command)

    def forget(self, keep: Callable[[UUID], bool]) -> None:
        """Drop the incidents checked so far whose ids ``keep`` refuses."""
        for incident_id in self.unit.incident_ids():
            if not keep(incident_id):
                del self.unit.seen[incident_id]

    def held(self) -> int:
        """How many incidents the check keeps in memory."""
        return len(self.unit.incident_ids())
