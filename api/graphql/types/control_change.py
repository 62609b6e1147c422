"""ControlChange: a hand-over of a place, as the log learned it (the controlChanges stream)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import strawberry

from api.graphql.context import Info
from api.graphql.types.common import ControlStatus
from readmodel.queries.live import ControlChangeRow

if TYPE_CHECKING:
    from api.graphql.types.actor import Actor
    from api.graphql.types.incident import Incident
    from api.graphql.types.place import Place

ActorType = Annotated["Actor", strawberry.lazy("api.graphql.types.actor")]
IncidentType = Annotated["Incident", strawberry.lazy("api.graphql.types.incident")]
PlaceType = Annotated["Place", strawberry.lazy("api.graphql.types.place")]


@strawberry.type(
    description="Who holds a place now changed when the log reached `position`: the state "
    "before and after, and the incidents behind the new state."
)
class ControlChange:
    cursor: str = strawberry.field(description="Pass as `after` to resume right after this.")
    position: int = strawberry.field(description="The log position that changed it.")
    since: datetime | None = strawberry.field(description="Valid time the new state starts.")
    before_status: ControlStatus | None = strawberry.field(description="Null: unknown before.")
    after_status: ControlStatus | None = strawberry.field(description="Null: unknown now.")
    row: strawberry.Private[ControlChangeRow]

    @classmethod
    def from_row(cls, row: ControlChangeRow, cursor: str) -> ControlChange:
        return cls(
            cursor=cursor,
            position=row.position,
            since=row.since,
            before_status=row.before_status,
            after_status=row.after_status,
            row=row,
        )

    @strawberry.field
    def place(self) -> PlaceType:
        from api.graphql.types.place import Place  # noqa: PLC0415

        return Place.from_row(self.row.place)

    @strawberry.field(description="Who held it before (empty: nobody, or unknown).")
    async def before_controllers(self, info: Info) -> list[ActorType]:
        return await _actors(info, self.row.before_controllers)

    @strawberry.field(description="Who holds it now (empty: contested, or unknown).")
    async def after_controllers(self, info: Info) -> list[ActorType]:
        return await _actors(info, self.row.after_controllers)

    @strawberry.field(description="The incidents the new state rests on.")
    async def evidence(self, info: Info) -> list[IncidentType]:
        from api.graphql.types.incident import Incident  # noqa: PLC0415

        rows = await info.context.incident_loader.load_many(list(self.row.evidence))
        return [Incident.from_row(r) for r in rows if r is not None]


async def _actors(info: Info, actor_ids: tuple[UUID, ...]) -> list[ActorType]:
    from api.graphql.types.actor import Actor  # noqa: PLC0415

    rows = await info.context.actor_loader.load_many(list(actor_ids))
    return [Actor.from_row(r) for r in rows if r is not None]
