"""Actor: a state force, armed group, coalition or foreign military."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from api.colors import actor_color
from api.graphql import ids
from api.graphql.context import Info
from api.graphql.freshness import known_read
from api.graphql.types.common import (
    ActorKind,
    AircraftOutcome,
    Connection,
    From,
    KnownAtPosition,
    Node,
)
from readmodel import queries as q

if TYPE_CHECKING:
    from api.graphql.types.control import Change
    from api.graphql.types.incident import Incident
    from api.graphql.types.place import Place

PlaceType = Annotated["Place", strawberry.lazy("api.graphql.types.place")]
ChangeType = Annotated["Change", strawberry.lazy("api.graphql.types.control")]
IncidentType = Annotated["Incident", strawberry.lazy("api.graphql.types.incident")]


@strawberry.type
class OutcomeCount:
    outcome: AircraftOutcome
    count: int


@strawberry.type(description="Aircraft an actor lost, and aircraft it is credited with downing.")
class AircraftTally:
    lost: list[OutcomeCount]
    downed: list[OutcomeCount]
    lost_total: int
    downed_total: int


@strawberry.type
class GainsAndLosses:
    gained: list[ChangeType]
    lost: list[ChangeType]


@strawberry.type(description="A party to the conflict.")
class Actor(Node):
    slug: str = strawberry.field(description="Stable human id, usable wherever an actor is.")
    name: str
    kind: ActorKind
    side: str | None
    aliases: list[str]
    color: str = strawberry.field(
        description='Its colour on maps, "#RRGGBB": the one it was given, else a default from '
        "a colour-blind-safe palette by registration order (stable)."
    )
    row: strawberry.Private[q.ActorRow]

    @classmethod
    def from_row(cls, row: q.ActorRow) -> Actor:
        return cls(
            id=ids.encode("Actor", row.id),
            slug=row.slug,
            name=row.name,
            kind=row.kind,
            side=row.side,
            aliases=list(row.aliases),
            color=actor_color(row.color, row.color_rank),
            row=row,
        )

    @strawberry.field(description="Coalitions this actor belongs to.")
    async def coalitions(self, info: Info) -> list[Actor]:
        rows = await info.context.actor_loader.load_many(list(self.row.coalition_ids))
        return [Actor.from_row(r) for r in rows if r is not None]

    @strawberry.field(description="Places it held at asOf (default: now), as known at knownAt.")
    async def places_held(
        self,
        info: Info,
        as_of: datetime | None = None,
        known_at: datetime | None = None,
        known_at_position: KnownAtPosition = None,
    ) -> list[PlaceType]:
        from api.graphql.types.control import now_or  # noqa: PLC0415
        from api.graphql.types.place import Place  # noqa: PLC0415

        then = await known_read(info, known_at, known_at_position)
        async with info.context.pool.acquire() as conn:
            held = await q.places_held(conn, self.row.id, now_or(as_of), then)
        return [Place.from_row(pc.place) for pc in held]

    @strawberry.field(description="Places it came to hold or stopped holding between two instants.")
    async def gains_and_losses(
        self,
        info: Info,
        from_: From,
        to: datetime,
        known_at: datetime | None = None,
        known_at_position: KnownAtPosition = None,
    ) -> GainsAndLosses:
        from api.graphql.types.control import Change  # noqa: PLC0415

        then = await known_read(info, known_at, known_at_position)
        async with info.context.pool.acquire() as conn:
            result = await q.gains_and_losses(conn, self.row.id, from_, to, then)
        return GainsAndLosses(
            gained=[Change.from_row(c) for c in result.gained],
            lost=[Change.from_row(c) for c in result.lost],
        )

    @strawberry.field(description="Aircraft lost and downed, by outcome, in an optional window.")
    async def aircraft(
        self, info: Info, since: datetime | None = None, until: datetime | None = None
    ) -> AircraftTally:
        async with info.context.pool.acquire() as conn:
            tally = await q.aircraft_tally(conn, self.row.id, since=since, until=until)
        return AircraftTally(
            lost=[OutcomeCount(outcome=o, count=n) for o, n in tally.lost.items()],
            downed=[OutcomeCount(outcome=o, count=n) for o, n in tally.downed.items()],
            lost_total=tally.lost_total,
            downed_total=tally.downed_total,
        )

    @strawberry.field(description="Incidents it took part in, most recent first.")
    async def incidents(
        self, info: Info, first: int, after: str | None = None
    ) -> Connection[IncidentType]:
        from api.graphql.types.incident import incident_page  # noqa: PLC0415

        return await incident_page(info, first, after, actor=self.row.id)
