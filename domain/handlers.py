"""Command handlers: load, check, act. Saving is the application's job.

Each handler returns ``(aggregate id, version, replayed)``; ``replayed`` means an idempotent
retry that changes nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Final, TypeVar, cast
from uuid import UUID

import orjson
from eventsourcing.application import AggregateNotFoundError, Repository
from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from domain import commands as c
from domain.actors import Actor
from domain.creation import Created, built, created
from domain.details import Details
from domain.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    DomainError,
    IdempotencyKeyReused,
    InvalidCoordinates,
    InvalidCorrection,
    InvalidInput,
    InvalidTime,
    MissingSource,
    UnknownActor,
    UnknownIncident,
    UnknownPlace,
)
from domain.identity import actor_id, check_key, incident_id, place_id
from domain.incidents import Incident, Revision
from domain.places import Place, clean_place_fields
from domain.values import (
    LIST_MAX,
    Coordinates,
    Provenance,
    RequestMeta,
    Source,
    ValidTime,
    check_label,
    check_url,
    clean_color,
    clean_name,
    clean_names,
    clean_text,
)
from domain.vocabulary import ActorKind, IncidentKind, PlaceKind

Outcome = tuple[UUID, int, bool]
A = TypeVar("A", bound=Aggregate)
MAX_SOURCES = 20
MAX_FATALITIES = 1_000_000
# Statements and forecasts can be about no place in particular; every other kind happens
# somewhere.
PLACELESS_KINDS = frozenset({IncidentKind.STATEMENT, IncidentKind.ANTICIPATED_OPERATION})


class Unit:
    """The aggregates one batch reads and changes, so later commands see earlier ones.

    ``known`` remembers, across batches, ids already proven to be places or actors (they are
    never deleted), so references to them cost no read. ``optimistic``: assume keyed
    incidents and registrations are new instead of reading each one (``registered``); if one
    was not, the insert conflicts and the batch is re-run without that assumption.

    A new incident is held as the event that records it (``create``), not as an aggregate:
    nothing in a batch reads most of them again, and building each one was a tenth of an
    import's write path (profile). One that a later command of the batch reads is built then
    (``find``), from that same event.
    """

    def __init__(
        self,
        repository: Repository[UUID],
        now: datetime,
        known: dict[UUID, type] | None = None,
        *,
        optimistic: bool = False,
    ) -> None:
        self.repository = repository
        self.now = now
        self.known = {} if known is None else known
        self.optimistic = optimistic
        # In the order first touched: the order their events are saved in.
        self.seen: dict[UUID, Aggregate | Created] = {}
        # Read ahead of the commands that touch them (``preload``), not yet touched.
        self.preloaded: dict[UUID, Aggregate] = {}

    def preload(self, aggregates: dict[UUID, Aggregate]) -> None:
        """Aggregates the batch will read, read at once: ``find`` takes them from here as
        it would from the repository (they join ``seen``, and so the save order, only when
        a command touches them)."""
        self.preloaded.update(aggregates)

    def find(self, aggregate_id: UUID) -> Aggregate | None:
        found = self.seen.get(aggregate_id)
        if found is None:
            found = self.preloaded.pop(aggregate_id, None)
            if found is None:
                try:
                    found = cast(Aggregate, self.repository.get(aggregate_id))
                except AggregateNotFoundError:
                    return None
            self.seen[aggregate_id] = found
        elif not isinstance(found, Aggregate):
            found = self.seen[aggregate_id] = built(found)
        return found

    def load(self, aggregate_id: UUID, cls: type[A], error: type[DomainError]) -> A:
        found = self.find(aggregate_id)
        if not isinstance(found, cls):
            raise error(
                f"no {cls.__name__.lower()} with id {aggregate_id}", field=str(aggregate_id)
            )
        return found

    def require(self, aggregate_id: UUID, cls: type[A], error: type[DomainError]) -> None:
        """Check that a place or actor exists, reading it only the first time."""
        if self.known.get(aggregate_id) is not cls:
            found = self.load(aggregate_id, cls, error)
            if not found.pending_events:  # committed, not just created by this batch
                self.known[aggregate_id] = cls

    def registered(self, aggregate_id: UUID) -> Aggregate | None:
        """The place or actor a registration names, if there is one: read, unless
        optimistic and not known to exist (a new one's insert conflicts if it was not new,
        and the batch is re-run; an importer registers only what it did not find)."""
        if self.optimistic and aggregate_id not in self.seen and aggregate_id not in self.known:
            return None
        return self.find(aggregate_id)

    def add(self, aggregate: Aggregate) -> Outcome:
        self.seen[aggregate.id] = aggregate
        return aggregate.id, aggregate.version, False

    def create(self, cls: type[Aggregate], aggregate_id: UUID, **kwargs: Any) -> Outcome:
        """What ``add(cls(**kwargs))`` does (``aggregate_id``: what ``cls.create_id`` makes
        of them), holding only the event that creates it."""
        event = created(cls, aggregate_id, kwargs)
        self.seen[event.originator_id] = event
        return event.originator_id, event.originator_version, False

    def incident_ids(self) -> list[UUID]:
        """The incidents the unit holds: read (aggregates), or new (the events creating them)."""
        return [
            i for i, held in self.seen.items()
            if isinstance(held, Incident) or getattr(held, "originator_topic", None) == _INCIDENT
        ]  # fmt: skip

    def changed(self) -> list[Aggregate | Created]:
        """What to save, in order: aggregates with new events, and new incidents' events."""
        return [a for a in self.seen.values() if not isinstance(a, Aggregate) or a.pending_events]


_INCIDENT: Final = get_topic(Incident)


def handle(unit: Unit, command: c.Command) -> Outcome:
    handler = HANDLERS.get(type(command))
    if handler is None:
        raise InvalidInput(f"unknown command {type(command).__name__}")
    check_storable_text(command)
    return handler(unit, command)


def check_storable_text(value: object) -> None:
    """Refuse a NUL character anywhere in a command's text. The log would take it (JSON
    escapes it), but PostgreSQL text and jsonb cannot hold it, so the projector could never
    apply the event and every read model would stall behind it.

    orjson walks the command (``_fields``: a dataclass as its fields' values) and writes a
    NUL as ``\\u0000``; one preceded by an odd number of backslashes is a backslash written
    out, followed by the letters. Walking each value in Python instead was a tenth of an
    ACLED import's write path (profile)."""
    try:
        text = orjson.dumps(value, default=_fields, option=orjson.OPT_PASSTHROUGH_DATACLASS)
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits: json can write it
        text = json.dumps(value, default=_fields).encode()
    if b"\\u0000" in text and _ESCAPED_NUL.search(text):
        raise InvalidInput("text may not contain a NUL character")


_ESCAPED_NUL: Final = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _fields(value: object) -> list[object] | None:
    if isinstance(value, tuple | list):  # a subclass (a named tuple): its items
        return list(value)
    names = c.field_names(type(value))
    # Ids, instants and numbers hold no text; a dataclass holds its fields.
    return [getattr(value, name) for name in names] if names else None


# -- places and actors ------------------------------------------------------------------------


def register_place(unit: Unit, cmd: c.RegisterPlace) -> Outcome:
    name, country, governorate, aliases = clean_place_fields(
        cmd.name, cmd.country, cmd.governorate, cmd.aliases
    )
    _check_labels(name=name, country=country, governorate=governorate, aliases=aliases)
    if not isinstance(cmd.coordinates, Coordinates):
        raise InvalidCoordinates("coordinates are required", field="coordinates")
    kind = _enum(PlaceKind, cmd.kind, "kind")
    if cmd.parent is not None:
        unit.load(cmd.parent, Place, UnknownPlace)
    new = dict(
        slug=cmd.slug, name=name, kind=kind, coordinates=cmd.coordinates,
        country=country, governorate=governorate, parent_id=cmd.parent,
    )  # fmt: skip
    existing = unit.registered(place_id(cmd.slug))
    if existing is None:
        return unit.add(Place(aliases=aliases, **new))
    if not isinstance(existing, Place) or existing.registration() != new:
        raise AlreadyExists(f"place {cmd.slug!r} is registered with other details", field="slug")
    existing.add_aliases(aliases)
    return existing.id, existing.version, not existing.pending_events


def register_actor(unit: Unit, cmd: c.RegisterActor) -> Outcome:
    kind = _enum(ActorKind, cmd.kind, "kind")
    side = None if cmd.side is None else clean_name(cmd.side, "side")
    new = dict(slug=cmd.slug, name=clean_name(cmd.name, "name"), kind=kind, side=side)
    aliases = clean_names(cmd.aliases, "aliases")
    _check_labels(name=new["name"], side=side, aliases=aliases)
    coalitions = _ids(cmd.coalitions, "coalitions")
    if actor_id(cmd.slug) in coalitions:
        raise InvalidInput("a coalition cannot be a member of itself", field="coalitions")
    for coalition in coalitions:
        if unit.load(coalition, Actor, UnknownActor).kind is not ActorKind.COALITION:
            raise InvalidInput(f"{coalition} is not a coalition", field="coalitions")
    color = None if cmd.color is None else clean_color(cmd.color, "color")
    existing = unit.registered(actor_id(cmd.slug))
    if existing is None:
        actor = Actor(aliases=aliases, coalition_ids=coalitions, **new)
        actor.recolor(color)
        return unit.add(actor)
    if not isinstance(existing, Actor) or existing.registration() != new:
        raise AlreadyExists(f"actor {cmd.slug!r} is registered with other details", field="slug")
    for coalition in coalitions:
        existing.join(coalition)
    # A colour is not part of who the actor is: registering it again with one sets it.
    if color is not None:
        existing.recolor(color)
    return existing.id, existing.version, not existing.pending_events


# -- incidents ------------------------------------------------------------------------------


def record_incident(unit: Unit, cmd: c.RecordIncident) -> Outcome:
    meta = _meta(cmd)
    new_id = incident_id(cmd.key)
    # An unkeyed id is new; a keyed one is read, unless optimistic (the insert will tell).
    existing = (
        unit.find(new_id)
        if new_id in unit.seen or (cmd.key is not None and not unit.optimistic)
        else None
    )
    if existing is not None:
        if not isinstance(existing, Incident) or not c.same_request(
            existing.meta.fingerprint, cmd, meta.fingerprint
        ):
            raise IdempotencyKeyReused(
                f"idempotency key {cmd.key!r} was used for another request", field="key"
            )
        return existing.id, 1, True
    details = _details(cmd.details)
    valid_time = _valid_time(unit, cmd.valid_time)
    places = _places(unit, details, _ids(cmd.places, "places"))
    sources = _sources(unit, cmd.sources)
    actors = _actors(unit, details, _ids(cmd.actors, "actors"))
    return unit.create(
        Incident,
        new_id,
        details=details,
        valid_time=valid_time,
        place_ids=places,
        actor_ids=actors,
        sources=sources,
        summary=clean_text(cmd.summary, "summary"),
        meta=meta,
        fatalities=_fatalities(cmd.fatalities),
        provenance=_provenance(cmd.provenance),
    )


def _details(value: Any) -> Details:
    if not isinstance(value, Details):
        raise InvalidInput("details are required", field="details")
    return value


def _places(unit: Unit, details: Details, places: tuple[UUID, ...]) -> tuple[UUID, ...]:
    """The incident's places, which its kind may require, and every place its details name:
    all registered."""
    if not places and details.kind not in PLACELESS_KINDS:
        raise InvalidInput(f"a {details.kind} needs at least one place", field="places")
    for place in (*places, *details.place_ids()):
        unit.require(place, Place, UnknownPlace)
    return places


def _sources(unit: Unit, values: Iterable[Any] | None) -> tuple[Source, ...]:
    sources = tuple(_source(unit, s) for s in values or ())
    if not sources:
        raise MissingSource("cite at least one source", field="sources")
    if len(sources) > MAX_SOURCES:
        raise InvalidInput(f"at most {MAX_SOURCES} sources", field="sources")
    return sources


def _actors(unit: Unit, details: Details, others: tuple[UUID, ...]) -> tuple[UUID, ...]:
    """Everyone the incident involves: those its details name, then the others; all
    registered."""
    actors = tuple(dict.fromkeys((*details.actor_ids(), *others)))
    if len(actors) > LIST_MAX:
        raise InvalidInput(f"an incident involves at most {LIST_MAX} actors", field="actors")
    for actor in actors:
        unit.require(actor, Actor, UnknownActor)
    return actors


def _fatalities(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_FATALITIES:
        raise InvalidInput(
            f"fatalities is a whole number from 0 to {MAX_FATALITIES:,}", field="fatalities"
        )
    return value


def _provenance(value: Any) -> Provenance | None:
    if value is not None and not isinstance(value, Provenance):
        raise InvalidInput("provenance must be a dataset's record", field="provenance")
    return value


def correct(unit: Unit, cmd: c.Correction) -> Outcome:
    incident = unit.load(cmd.incident, Incident, UnknownIncident)
    meta = _meta(cmd)
    replayed = incident.replayed_version(
        meta.key, lambda stored: c.same_request(stored, cmd, meta.fingerprint)
    )
    if replayed is not None:
        return incident.id, replayed, True
    if cmd.expected_version is not None and cmd.expected_version != incident.version:
        raise ConcurrencyConflict(
            f"incident is at version {incident.version}, not {cmd.expected_version}",
            field="expectedVersion",
        )
    APPLY[type(cmd)](unit, incident, cmd, meta)
    return incident.id, incident.version, False


def _corroborate(unit: Unit, incident: Incident, cmd: Any, meta: RequestMeta) -> None:
    incident.corroborate(_source(unit, cmd.source), meta)


def _dispute(unit: Unit, incident: Incident, cmd: Any, meta: RequestMeta) -> None:
    if cmd.disputed_by is not None:
        unit.require(cmd.disputed_by, Actor, UnknownActor)
    reason = clean_text(cmd.reason, "reason")
    incident.dispute(_source(unit, cmd.source), cmd.disputed_by, reason, meta)


def _confirm(unit: Unit, incident: Incident, cmd: Any, meta: RequestMeta) -> None:
    incident.confirm(_source(unit, cmd.source), meta)


def _amend(unit: Unit, incident: Incident, cmd: Any, meta: RequestMeta) -> None:
    valid_time = None if cmd.valid_time is None else _valid_time(unit, cmd.valid_time)
    details = incident.details if cmd.details is None else _details(cmd.details)
    places = None if cmd.places is None else _ids(cmd.places, "places")
    if places is not None or cmd.details is not None:
        _places(unit, details, incident.place_ids if places is None else places)
    actors = None
    if cmd.details is not None or cmd.actors is not None:
        named = set(incident.details.actor_ids())
        others = tuple(a for a in incident.actor_ids if a not in named)
        if cmd.actors is not None:
            others = _ids(cmd.actors, "actors")
        actors = _actors(unit, details, others)
    revision = Revision(
        details=None if cmd.details is None else details,
        actor_ids=actors,
        sources=None if cmd.sources is None else _sources(unit, cmd.sources),
        summary=clean_text(cmd.summary, "summary"),
        fatalities=_fatalities(cmd.fatalities),
        provenance=_provenance(cmd.provenance),
        cleared=_cleared(cmd),
    )
    source = None if cmd.source is None else _source(unit, cmd.source)
    incident.amend(valid_time, places, _reason(cmd.reason), source, meta, revision)


def _cleared(cmd: Any) -> tuple[str, ...]:
    cleared = tuple(dict.fromkeys(getattr(cmd, "clear", ()) or ()))
    for name in cleared:
        if name not in Revision.CLEARABLE:
            raise InvalidCorrection(
                f"only {' and '.join(Revision.CLEARABLE)} can be cleared, not {name!r}",
                field="clear",
            )
        if getattr(cmd, name) is not None:
            raise InvalidCorrection(f"{name} cannot be both given and cleared", field="clear")
    return cleared


def _retract(unit: Unit, incident: Incident, cmd: Any, meta: RequestMeta) -> None:
    source = None if cmd.source is None else _source(unit, cmd.source)
    incident.retract(_reason(cmd.reason), source, meta)


# -- shared checks ----------------------------------------------------------------------------


def _check_labels(**labels: Any) -> None:
    for field, value in labels.items():
        for label in value if isinstance(value, tuple) else (value,):
            check_label(label, field)


def _meta(cmd: c.RecordIncident | c.Correction) -> RequestMeta:
    recorded_by = None if cmd.recorded_by is None else clean_name(cmd.recorded_by, "recordedBy")
    check_label(recorded_by, "recordedBy")
    key = check_key(cmd.key)
    # Only a keyed request can be retried into a comparison, so only it needs a fingerprint.
    return RequestMeta(recorded_by, key, None if key is None else c.fingerprint(cmd))


def _valid_time(unit: Unit, value: Any) -> ValidTime:
    if not isinstance(value, ValidTime):
        raise InvalidTime("occurredAt is required", field="occurredAt")
    value.check_not_future(unit.now)
    return value


def _source(unit: Unit, value: Any) -> Source:
    if not isinstance(value, Source):
        raise MissingSource("a source is required", field="source")
    value.check_not_future(unit.now)
    check_label(value.outlet, "source.outlet")
    check_label(value.speaker, "source.speaker")
    check_url(value.url, "source.url")
    if value.speaker_actor_id is not None:
        unit.require(value.speaker_actor_id, Actor, UnknownActor)
    return value


def _reason(value: str) -> str:
    reason = clean_text(value, "reason")
    if reason is None:
        raise InvalidInput("say why", field="reason")
    return reason


def _ids(values: Iterable[Any] | None, field: str) -> tuple[UUID, ...]:
    items = tuple(values or ())
    if len(items) > LIST_MAX:
        raise InvalidInput(f"{field} has more than {LIST_MAX} entries", field=field)
    try:
        return tuple(dict.fromkeys(v if isinstance(v, UUID) else UUID(str(v)) for v in items))
    except ValueError:
        raise InvalidInput(f"{field} holds something that is not an id", field=field) from None


def _enum(cls: Any, value: Any, field: str) -> Any:
    try:
        return cls(value)
    except ValueError:
        raise InvalidInput(f"unknown {field} {value!r}", field=field) from None


APPLY: dict[type, Callable[[Unit, Incident, Any, RequestMeta], None]] = {
    c.Corroborate: _corroborate,
    c.Dispute: _dispute,
    c.Confirm: _confirm,
    c.Amend: _amend,
    c.Retract: _retract,
}
HANDLERS: dict[type, Callable[[Unit, Any], Outcome]] = {
    c.RegisterPlace: register_place,
    c.RegisterActor: register_actor,
    c.RecordIncident: record_incident,
    **dict.fromkeys(APPLY, correct),
}
