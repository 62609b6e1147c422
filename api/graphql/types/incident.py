"""Incident: one real-world event, its sources, and every correction to it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import strawberry

from api.graphql import ids
from api.graphql.context import Info
from api.graphql.types.common import (
    Channel,
    ClaimStatus,
    Connection,
    IncidentKind,
    Node,
    SpeakerRole,
    TimePrecision,
    check_page_size,
    connection,
)
from api.graphql.types.details import IncidentDetails, actor, details_from
from domain import vocabulary as v
from readmodel import queries as q
from readmodel.queries.entries import HistoryEntry, incident_history

if TYPE_CHECKING:
    from api.graphql.types.actor import Actor
    from api.graphql.types.place import Place

ActorType = Annotated["Actor", strawberry.lazy("api.graphql.types.actor")]
PlaceType = Annotated["Place", strawberry.lazy("api.graphql.types.place")]


@strawberry.type(description="A report a fact rests on, and who is speaking in it.")
class Source:
    outlet: str
    channel: Channel
    role: SpeakerRole = strawberry.field(
        description="PARTY: a party speaking for itself; INDEPENDENT: an outlet or observer; "
        "LOCAL_SOURCES: unnamed local sources."
    )
    url: str | None
    published_at: datetime | None
    quote: str | None
    speaker: str | None
    raw: strawberry.Private[Mapping[str, Any]]

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Source:
        published = raw.get("published_at")
        return cls(
            outlet=raw["outlet"],
            channel=v.Channel(raw["channel"]),
            role=v.SpeakerRole(raw["role"]),
            url=raw.get("url"),
            published_at=None if published is None else datetime.fromisoformat(published),
            quote=raw.get("quote"),
            speaker=raw.get("speaker"),
            raw=raw,
        )

    @strawberry.field
    async def speaker_actor(self, info: Info) -> ActorType | None:
        return await actor(info, self.raw.get("speaker_actor_id"))


@strawberry.type(description="A dataset's own column of a record, as the dataset gave it.")
class DatasetAttribute:
    name: str
    value: str


@strawberry.type(
    description="Where a record came from when it came from another dataset (e.g. ACLED): "
    "the record's id and revision there, and the dataset's columns Frontline has no field for."
)
class Provenance:
    dataset: str
    record_id: str
    revision: str | None
    attributes: list[DatasetAttribute]

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Provenance:
        return cls(
            dataset=raw["dataset"],
            record_id=raw["record_id"],
            revision=raw.get("revision"),
            attributes=[DatasetAttribute(name=k, value=v) for k, v in raw.get("attributes", [])],
        )


@strawberry.type(description="One entry of an incident's provenance: recorded, then corrected.")
class IncidentEvent:
    type: str = strawberry.field(
        description="Recorded, Corroborated, Disputed, Confirmed, Amended or Retracted."
    )
    position: int
    recorded_at: datetime
    recorded_by: str | None
    source: Source | None
    reason: str | None
    occurred_at: datetime | None = strawberry.field(description="Amended: the corrected time.")
    precision: TimePrecision | None
    raw_places: strawberry.Private[tuple[UUID, ...] | None]
    disputed_by_id: strawberry.Private[UUID | None]

    @strawberry.field(description="Amended: the corrected places.")
    async def places(self, info: Info) -> list[PlaceType] | None:
        if self.raw_places is None:
            return None
        return await _places(info, self.raw_places)

    @strawberry.field
    async def disputed_by(self, info: Info) -> ActorType | None:
        return await actor(info, None if self.disputed_by_id is None else str(self.disputed_by_id))


@strawberry.type(description="One real-world event as currently believed.")
class Incident(Node):
    kind: IncidentKind
    status: ClaimStatus
    occurred_at: datetime = strawberry.field(description="The earliest it may have happened.")
    occurred_until: datetime = strawberry.field(
        description="The latest it may have happened (end of its day or range)."
    )
    precision: TimePrecision
    summary: str | None
    details: IncidentDetails
    sources: list[Source] = strawberry.field(
        description="The reports it rests on, corroborating and confirming ones included."
    )
    recorded_by: str | None
    recorded_position: int = strawberry.field(description="Log position of its first record.")
    recorded_at: datetime
    version: int
    fatalities: int | None = strawberry.field(description="Deaths reported, when given.")
    provenance: Provenance | None = strawberry.field(
        description="The dataset record it came from, if any."
    )
    row: strawberry.Private[q.IncidentRow]

    @classmethod
    def from_row(cls, row: q.IncidentRow) -> Incident:
        return cls(
            id=ids.encode("Incident", row.id),
            kind=row.kind,
            status=row.status,
            occurred_at=row.valid_from,
            occurred_until=row.valid_to,
            precision=row.precision,
            summary=row.summary,
            details=details_from(row.kind, row.details),
            sources=[Source.from_json(s) for s in row.sources],
            recorded_by=row.recorded_by,
            recorded_position=row.recorded_position,
            recorded_at=row.recorded_at,
            version=row.version,
            fatalities=row.fatalities,
            provenance=None if row.provenance is None else Provenance.from_json(row.provenance),
            row=row,
        )

    @strawberry.field
    async def places(self, info: Info) -> list[PlaceType]:
        return await _places(info, self.row.place_ids)

    @strawberry.field(description="Every actor the incident names.")
    async def actors(self, info: Info) -> list[ActorType]:
        from api.graphql.types.actor import Actor  # noqa: PLC0415

        rows = await info.context.actor_loader.load_many(list(self.row.actor_ids))
        return [Actor.from_row(r) for r in rows if r is not None]

    @strawberry.field(description="Full provenance: the record and every correction, in order.")
    async def history(self, info: Info) -> list[IncidentEvent]:
        async with info.context.pool.acquire() as conn:
            entries = await incident_history(conn, self.row.id)
        return [_history_entry(e) for e in entries]


async def _places(info: Info, place_ids: tuple[UUID, ...]) -> list[PlaceType]:
    from api.graphql.types.place import Place  # noqa: PLC0415

    rows = await info.context.place_loader.load_many(list(place_ids))
    return [Place.from_row(r) for r in rows if r is not None]


def _history_entry(entry: HistoryEntry) -> IncidentEvent:
    """An amendment shows the time it set and the places it set (null: left as they were)."""
    amended = entry.amended_to or {}
    occurred_at = amended.get("occurred_at") if entry.time_changed else None
    return IncidentEvent(
        type=entry.type,
        position=entry.position,
        recorded_at=entry.recorded_at,
        recorded_by=entry.recorded_by,
        source=None if entry.source is None else Source.from_json(entry.source),
        reason=entry.reason,
        occurred_at=None if occurred_at is None else datetime.fromisoformat(occurred_at),
        precision=TimePrecision(amended["precision"]) if entry.time_changed else None,
        raw_places=tuple(UUID(p) for p in amended["place_ids"]) if entry.places_changed else None,
        disputed_by_id=entry.disputed_by,
    )


async def incident_page(
    info: Info,
    first: int,
    after: str | None,
    order: q.FeedOrder = q.FeedOrder.RECENT,
    **filters: Any,
) -> Connection[Incident]:
    """A page of the incident feed (shared by Query.incidents, Place and Actor)."""
    info.context.check_read()
    limit = check_page_size(first)
    async with info.context.pool.acquire() as conn:
        rows = await q.incident_feed(conn, order=order, after=after, limit=limit + 1, **filters)
    return connection(
        [Incident.from_row(r) for r in rows],
        limit,
        lambda i: q.feed_cursor(i.row, order),
        after=after,
    )
