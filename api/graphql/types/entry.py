"""One entry of the log as the ``logEntries`` subscription delivers it: every recording,
every correction and every registration, with what it changed and what it is about."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from api.graphql import ids
from api.graphql.context import Info
from api.graphql.inputs import AreaInput, area_filters
from api.graphql.types.common import ClaimStatus, IncidentKind, TimePrecision
from api.graphql.types.details import actor
from api.graphql.types.incident import Incident, Source
from readmodel.queries.entries import EntryRow

if TYPE_CHECKING:
    from api.graphql.types.actor import Actor
    from api.graphql.types.place import Place

ActorType = Annotated["Actor", strawberry.lazy("api.graphql.types.actor")]
PlaceType = Annotated["Place", strawberry.lazy("api.graphql.types.place")]


@strawberry.type(
    description="What an amendment may change: when, and where; and for a revised dataset "
    "row, the fields it revised (null: not revised by this amendment)."
)
class AmendableValues:
    occurred_at: datetime
    occurred_until: datetime | None
    precision: TimePrecision
    place_ids: strawberry.Private[tuple[UUID, ...]]
    kind: IncidentKind | None
    summary: str | None
    fatalities: int | None
    details: JSON | None = strawberry.field(description="The details as stored, when revised.")

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> AmendableValues:
        until = raw.get("occurred_until")
        details = raw.get("details")
        return cls(
            occurred_at=datetime.fromisoformat(raw["occurred_at"]),
            occurred_until=None if until is None else datetime.fromisoformat(until),
            precision=TimePrecision(raw["precision"]),
            place_ids=tuple(UUID(p) for p in raw["place_ids"]),
            kind=None if raw.get("kind") is None else IncidentKind(raw["kind"]),
            summary=raw.get("summary"),
            fatalities=raw.get("fatalities"),
            details=None if details is None else JSON(details),
        )

    @strawberry.field
    async def places(self, info: Info) -> list[PlaceType]:
        from api.graphql.types.place import Place  # noqa: PLC0415

        rows = await info.context.place_loader.load_many(list(self.place_ids))
        return [Place.from_row(r) for r in rows if r is not None]


@strawberry.type(description="An amendment: the values it replaced and the values it set.")
class Amendment:
    before: AmendableValues
    after: AmendableValues


@strawberry.type(
    description="One entry of the log: a recording, a correction or a registration, with "
    "the incident as it stood right after it. `cursor` resumes after it."
)
class Entry:
    cursor: str
    position: int
    recorded_at: datetime
    type: str = strawberry.field(
        description="Incident.Recorded, Incident.Corroborated, Incident.Disputed, "
        "Incident.Confirmed, Incident.Amended, Incident.Retracted, Place.Registered, "
        "Place.AliasesAdded, Actor.Registered, Actor.JoinedCoalition or Actor.Recolored."
    )
    aggregate_id: strawberry.ID = strawberry.field(description="Global id of what it is about.")
    aggregate_version: int
    recorded_by: str | None
    reason: str | None = strawberry.field(description="A dispute's, amendment's or retraction's.")
    source: Source | None = strawberry.field(description="The source a correction cites.")
    amendment: Amendment | None
    incident: Incident | None = strawberry.field(
        description="The incident as it stood right after this entry (incident entries)."
    )
    row: strawberry.Private[EntryRow]

    @classmethod
    def from_row(cls, row: EntryRow, cursor: str) -> Entry:
        kind, _, _ = row.type.partition(".")
        amendment = None
        if row.amended_from is not None and row.amended_to is not None:
            amendment = Amendment(
                before=AmendableValues.from_json(row.amended_from),
                after=AmendableValues.from_json(row.amended_to),
            )
        return cls(
            cursor=cursor,
            position=row.position,
            recorded_at=row.recorded_at,
            type=row.type,
            aggregate_id=ids.encode(kind, row.aggregate_id),
            aggregate_version=row.aggregate_version,
            recorded_by=row.recorded_by,
            reason=row.reason,
            source=None if row.source is None else Source.from_json(row.source),
            amendment=amendment,
            incident=None if row.incident is None else Incident.from_row(row.incident.row),
            row=row,
        )

    @strawberry.field(description="Who disputes (a dispute naming its party).")
    async def disputed_by(self, info: Info) -> ActorType | None:
        disputed_by = self.row.disputed_by
        return await actor(info, None if disputed_by is None else str(disputed_by))

    @strawberry.field(description="The place this entry registers or changes.")
    async def place(self, info: Info) -> PlaceType | None:
        from api.graphql.types.place import Place  # noqa: PLC0415

        if self.row.place is None:
            return None
        return Place.from_row(self.row.place)

    @strawberry.field(description="The actor this entry registers or changes.")
    async def actor(self, info: Info) -> ActorType | None:
        if not self.row.type.startswith("Actor."):
            return None
        return await actor(info, str(self.row.aggregate_id))


@strawberry.input(description="Which log entries to follow; all given must hold.")
class EntryFilter:
    types: list[str] | None = strawberry.field(
        default=None, description='Entry types, e.g. ["Incident.Retracted"].'
    )
    kinds: list[IncidentKind] | None = None
    statuses: list[ClaimStatus] | None = strawberry.field(
        default=None, description="Of the incident as it stood right after the entry."
    )
    actor: str | None = strawberry.field(default=None, description="Slug or id.")
    place: str | None = strawberry.field(default=None, description="Slug or id.")
    area: AreaInput | None = None
    governorate: str | None = None

    def matcher_args(self) -> dict[str, object]:
        return {
            "types": self.types,
            "kinds": self.kinds,
            "statuses": self.statuses,
            "actor": None if self.actor is None else ids.actor_ref(self.actor),
            "place": None if self.place is None else ids.place_ref(self.place),
            "governorate": self.governorate,
            **area_filters(self.area),
        }
