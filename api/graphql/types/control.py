"""Control states, map entries and hand-overs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import strawberry

from api.graphql.context import Info
from api.graphql.types.common import ControlStatus, TimePrecision
from readmodel import queries as q

if TYPE_CHECKING:
    from api.graphql.types.actor import Actor
    from api.graphql.types.incident import Incident
    from api.graphql.types.place import Place

ActorType = Annotated["Actor", strawberry.lazy("api.graphql.types.actor")]
PlaceType = Annotated["Place", strawberry.lazy("api.graphql.types.place")]
IncidentType = Annotated["Incident", strawberry.lazy("api.graphql.types.incident")]


def now_or(as_of: datetime | None) -> datetime:
    return datetime.now(UTC) if as_of is None else as_of


async def control_at(
    info: Info, place_id: UUID, as_of: datetime | None, known_at: q.Known
) -> q.ControlState | None:
    async with info.context.pool.acquire() as conn:
        return await q.control_at(conn, place_id, now_or(as_of), known_at)


@strawberry.type(
    description="Who held a place during [validFrom, validTo), as believed between two log "
    "positions: HELD by controllers, CONTESTED between them (none: abandoned), or UNKNOWN."
)
class ControlState:
    status: ControlStatus
    valid_from: datetime | None = strawberry.field(description="Null: since before any report.")
    valid_to: datetime | None = strawberry.field(description="Null: until further notice.")
    known_from_position: int = strawberry.field(description="Believed from this log position…")
    known_to_position: int | None = strawberry.field(description="…until this one (null: still).")
    disputed: bool = strawberry.field(description="The incidents behind it are disputed.")
    inferred: bool = strawberry.field(
        description="Inferred from the first report (who it was taken from), not reported."
    )
    precision: TimePrecision | None
    certain_from: datetime | None = strawberry.field(
        description="The latest instant the change may have happened (end of its day/range)."
    )
    uncertain: bool = strawberry.field(
        description="The asked-for instant falls before certainFrom: the change may not "
        "have happened yet."
    )
    assessed: bool = strawberry.field(
        description="Rests only on assessments (an observer's word), no reported incident."
    )
    abandoned: bool = strawberry.field(
        description="CONTESTED with nobody holding or contesting it: left by its last holder."
    )
    row: strawberry.Private[q.ControlState]

    @classmethod
    def from_row(cls, row: q.ControlState) -> ControlState:
        return cls(
            status=row.status,
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            known_from_position=row.known_from,
            known_to_position=row.known_to,
            disputed=row.disputed,
            inferred=row.inferred,
            precision=row.precision,
            certain_from=row.certain_from,
            uncertain=row.uncertain,
            assessed=row.assessed,
            abandoned=row.abandoned,
            row=row,
        )

    @strawberry.field
    async def place(self, info: Info) -> PlaceType | None:
        from api.graphql.types.place import Place  # noqa: PLC0415

        row = await info.context.place_loader.load(self.row.place_id)
        return None if row is None else Place.from_row(row)

    @strawberry.field(
        description="Who held it; when CONTESTED, the parties contesting it (none: abandoned)."
    )
    async def controllers(self, info: Info) -> list[ActorType]:
        from api.graphql.types.actor import Actor  # noqa: PLC0415

        rows = await info.context.actor_loader.load_many(list(self.row.controllers))
        return [Actor.from_row(r) for r in rows if r is not None]

    @strawberry.field(
        description="The records this state rests on: incidents, and assessments (kind "
        "ASSESSMENT, with their status, holders and tier in details)."
    )
    async def evidence(self, info: Info) -> list[IncidentType]:
        from api.graphql.types.incident import Incident  # noqa: PLC0415

        rows = await info.context.incident_loader.load_many(list(self.row.evidence))
        return [Incident.from_row(r) for r in rows if r is not None]


@strawberry.type(description="A place on a control map, with its state (null: unknown).")
class PlaceControl:
    place: PlaceType
    state: ControlState | None

    @classmethod
    def from_row(cls, row: q.PlaceControl) -> PlaceControl:
        from api.graphql.types.place import Place  # noqa: PLC0415

        return cls(
            place=Place.from_row(row.place),
            state=None if row.state is None else ControlState.from_row(row.state),
        )


@strawberry.type(description="A place whose holder differs between two instants.")
class Change:
    place: PlaceType
    before: ControlState | None
    after: ControlState | None

    @classmethod
    def from_row(cls, row: q.Change) -> Change:
        from api.graphql.types.place import Place  # noqa: PLC0415

        return cls(
            place=Place.from_row(row.place),
            before=None if row.before is None else ControlState.from_row(row.before),
            after=None if row.after is None else ControlState.from_row(row.after),
        )
