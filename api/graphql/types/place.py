"""Place: somewhere control can be held, lost or fought over."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from api.graphql import ids
from api.graphql.context import Info
from api.graphql.freshness import known_read
from api.graphql.types.common import Connection, KnownAtPosition, Node, PlaceKind
from readmodel import queries as q

if TYPE_CHECKING:
    from api.graphql.types.control import ControlState
    from api.graphql.types.incident import Incident

ControlStateType = Annotated["ControlState", strawberry.lazy("api.graphql.types.control")]
IncidentType = Annotated["Incident", strawberry.lazy("api.graphql.types.incident")]


@strawberry.type(description="A city, village, airbase, hill, crossing or region.")
class Place(Node):
    slug: str = strawberry.field(description="Stable human id, usable wherever a place is.")
    name: str
    kind: PlaceKind
    latitude: float
    longitude: float
    country: str
    governorate: str | None
    aliases: list[str] = strawberry.field(description="Other names and transliterations.")
    row: strawberry.Private[q.PlaceRow]

    @classmethod
    def from_row(cls, row: q.PlaceRow) -> Place:
        return cls(
            id=ids.encode("Place", row.id),
            slug=row.slug,
            name=row.name,
            kind=row.kind,
            latitude=row.latitude,
            longitude=row.longitude,
            country=row.country,
            governorate=row.governorate,
            aliases=list(row.aliases),
            row=row,
        )

    @strawberry.field(description="The place this one lies in or belongs to.")
    async def parent(self, info: Info) -> Place | None:
        if self.row.parent_id is None:
            return None
        row = await info.context.place_loader.load(self.row.parent_id)
        return None if row is None else Place.from_row(row)

    @strawberry.field(description="Who held it at asOf (default: now), as known at knownAt.")
    async def control(
        self,
        info: Info,
        as_of: datetime | None = None,
        known_at: datetime | None = None,
        known_at_position: KnownAtPosition = None,
    ) -> ControlStateType | None:
        from api.graphql.types.control import ControlState, control_at  # noqa: PLC0415

        then = await known_read(info, known_at, known_at_position)
        state = await control_at(info, self.row.id, as_of, then)
        return None if state is None else ControlState.from_row(state)

    @strawberry.field(description="The whole control timeline as known at knownAt.")
    async def history(
        self,
        info: Info,
        known_at: datetime | None = None,
        known_at_position: KnownAtPosition = None,
    ) -> list[ControlStateType]:
        from api.graphql.types.control import ControlState  # noqa: PLC0415

        then = await known_read(info, known_at, known_at_position)
        async with info.context.pool.acquire() as conn:
            states = await q.control_history(conn, self.row.id, then)
        return [ControlState.from_row(s) for s in states]

    @strawberry.field(description="Incidents here, most recent first.")
    async def incidents(
        self, info: Info, first: int, after: str | None = None
    ) -> Connection[IncidentType]:
        from api.graphql.types.incident import incident_page  # noqa: PLC0415

        return await incident_page(info, first, after, place=self.row.id)
