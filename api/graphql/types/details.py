"""What each kind of incident says, as a GraphQL union with one member per kind."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import strawberry

from api.graphql.context import Info
from api.graphql.types.common import AircraftOutcome, AssessedStatus, AssessmentTier, Channel
from domain import vocabulary as v
from domain.vocabulary import IncidentKind

if TYPE_CHECKING:
    from api.graphql.types.actor import Actor
    from api.graphql.types.place import Place

ActorType = Annotated["Actor", strawberry.lazy("api.graphql.types.actor")]
PlaceType = Annotated["Place", strawberry.lazy("api.graphql.types.place")]


async def actor(info: Info, raw: str | None) -> ActorType | None:
    from api.graphql.types.actor import Actor  # noqa: PLC0415

    row = None if raw is None else await info.context.actor_loader.load(UUID(raw))
    return None if row is None else Actor.from_row(row)


async def actors(info: Info, raw: list[str]) -> list[ActorType]:
    from api.graphql.types.actor import Actor  # noqa: PLC0415

    rows = await info.context.actor_loader.load_many([UUID(r) for r in raw])
    return [Actor.from_row(r) for r in rows if r is not None]


async def place(info: Info, raw: str | None) -> PlaceType | None:
    from api.graphql.types.place import Place  # noqa: PLC0415

    row = None if raw is None else await info.context.place_loader.load(UUID(raw))
    return None if row is None else Place.from_row(row)


@strawberry.type
class CaptureDetails:
    raw: strawberry.Private[Mapping[str, Any]]

    @strawberry.field
    async def by(self, info: Info) -> list[ActorType]:
        return await actors(info, self.raw["by"])

    @strawberry.field
    async def taken_from(self, info: Info) -> ActorType | None:
        return await actor(info, self.raw.get("taken_from"))


@strawberry.type
class WithdrawalDetails:
    raw: strawberry.Private[Mapping[str, Any]]
    redeployment: bool
    to_description: str | None

    @strawberry.field
    async def actor(self, info: Info) -> ActorType | None:
        return await actor(info, self.raw["actor"])

    @strawberry.field
    async def to_place(self, info: Info) -> PlaceType | None:
        return await place(info, self.raw.get("to_place"))

    @strawberry.field(description="Who the place was left to; null leaves it contested.")
    async def handed_to(self, info: Info) -> ActorType | None:
        return await actor(info, self.raw.get("handed_to"))


@strawberry.type
class AircraftLossDetails:
    raw: strawberry.Private[Mapping[str, Any]]
    aircraft: str
    outcome: AircraftOutcome
    count: int

    @strawberry.field
    async def operator(self, info: Info) -> ActorType | None:
        return await actor(info, self.raw.get("operator"))

    @strawberry.field
    async def claimed_by(self, info: Info) -> ActorType | None:
        return await actor(info, self.raw.get("claimed_by"))

    @strawberry.field(description="Where the aircraft took off from.")
    async def origin(self, info: Info) -> PlaceType | None:
        return await place(info, self.raw.get("origin"))


@strawberry.type
class ClashDetails:
    raw: strawberry.Private[Mapping[str, Any]]

    @strawberry.field
    async def parties(self, info: Info) -> list[ActorType]:
        return await actors(info, self.raw["parties"])


@strawberry.type
class AdvanceDetails:
    raw: strawberry.Private[Mapping[str, Any]]
    direction: str | None

    @strawberry.field
    async def actor(self, info: Info) -> ActorType | None:
        return await actor(info, self.raw["actor"])

    @strawberry.field
    async def objective(self, info: Info) -> PlaceType | None:
        return await place(info, self.raw.get("objective"))


@strawberry.type
class AirStrikeDetails:
    raw: strawberry.Private[Mapping[str, Any]]
    target: str | None

    @strawberry.field
    async def by(self, info: Info) -> ActorType | None:
        return await actor(info, self.raw["by"])

    @strawberry.field
    async def in_support_of(self, info: Info) -> ActorType | None:
        return await actor(info, self.raw.get("in_support_of"))

    @strawberry.field(description="Who was hit, when known.")
    async def target_actor(self, info: Info) -> ActorType | None:
        return await actor(info, self.raw.get("target_actor"))


@strawberry.type(description="Remote violence not from the air (shelling, missiles, IEDs).")
class StrikeDetails:
    raw: strawberry.Private[Mapping[str, Any]]
    means: str | None
    target: str | None

    @strawberry.field
    async def by(self, info: Info) -> ActorType | None:
        return await actor(info, self.raw.get("by"))

    @strawberry.field(description="Who was hit, when known.")
    async def target_actor(self, info: Info) -> ActorType | None:
        return await actor(info, self.raw.get("target_actor"))


@strawberry.type(description="An event no other kind fits, kept with what it was.")
class OtherEventDetails:
    raw: strawberry.Private[Mapping[str, Any]]
    category: str

    @strawberry.field
    async def parties(self, info: Info) -> list[ActorType]:
        return await actors(info, self.raw.get("parties") or [])


@strawberry.type(description="What someone said on the record, kept as what was said.")
class StatementDetails:
    raw: strawberry.Private[Mapping[str, Any]]
    speaker: str
    quote: str
    channel: Channel

    @strawberry.field
    async def speaker_actor(self, info: Info) -> ActorType | None:
        return await actor(info, self.raw.get("speaker_actor"))


@strawberry.type(description="An operation someone expects: a claim, never a fact.")
class AnticipatedOperationDetails:
    raw: strawberry.Private[Mapping[str, Any]]
    description: str
    expected_from: datetime | None

    @strawberry.field
    async def actor(self, info: Info) -> ActorType | None:
        return await actor(info, self.raw.get("actor"))

    @strawberry.field
    async def objective(self, info: Info) -> PlaceType | None:
        return await place(info, self.raw.get("objective"))


@strawberry.type(
    description="An observer's assessment of the places' state at the record's time: an "
    "observation, not an event (never a capture)."
)
class AssessmentDetails:
    raw: strawberry.Private[Mapping[str, Any]]
    status: AssessedStatus
    tier: AssessmentTier

    @strawberry.field(description="Who holds the places; when CONTESTED, the parties.")
    async def holders(self, info: Info) -> list[ActorType]:
        return await actors(info, self.raw["holders"])


IncidentDetails = Annotated[
    CaptureDetails
    | WithdrawalDetails
    | AircraftLossDetails
    | ClashDetails
    | AdvanceDetails
    | AirStrikeDetails
    | StatementDetails
    | AnticipatedOperationDetails
    | AssessmentDetails
    | StrikeDetails
    | OtherEventDetails,
    strawberry.union("IncidentDetails"),
]


def _anticipated(raw: Mapping[str, Any]) -> AnticipatedOperationDetails:
    expected = raw["expected_from"]
    return AnticipatedOperationDetails(
        raw=raw,
        description=raw["description"],
        expected_from=None if expected is None else datetime.fromisoformat(expected),
    )


_BUILDERS: dict[IncidentKind, Callable[[Mapping[str, Any]], Any]] = {
    IncidentKind.CAPTURE: lambda raw: CaptureDetails(raw=raw),
    IncidentKind.WITHDRAWAL: lambda raw: WithdrawalDetails(
        raw=raw, redeployment=raw["redeployment"], to_description=raw["to_description"]
    ),
    IncidentKind.AIRCRAFT_LOSS: lambda raw: AircraftLossDetails(
        raw=raw,
        aircraft=raw["aircraft"],
        outcome=v.AircraftOutcome(raw["outcome"]),
        count=raw["count"],
    ),
    IncidentKind.CLASH: lambda raw: ClashDetails(raw=raw),
    IncidentKind.ADVANCE: lambda raw: AdvanceDetails(raw=raw, direction=raw["direction"]),
    IncidentKind.AIR_STRIKE: lambda raw: AirStrikeDetails(raw=raw, target=raw["target"]),
    IncidentKind.STATEMENT: lambda raw: StatementDetails(
        raw=raw, speaker=raw["speaker"], quote=raw["quote"], channel=v.Channel(raw["channel"])
    ),
    IncidentKind.ANTICIPATED_OPERATION: _anticipated,
    IncidentKind.STRIKE: lambda raw: StrikeDetails(
        raw=raw, means=raw.get("means"), target=raw.get("target")
    ),
    IncidentKind.OTHER: lambda raw: OtherEventDetails(raw=raw, category=raw["category"]),
    IncidentKind.ASSESSMENT: lambda raw: AssessmentDetails(
        raw=raw, status=v.AssessedStatus(raw["status"]), tier=v.AssessmentTier(raw["tier"])
    ),
}


def details_from(kind: IncidentKind, raw: Mapping[str, Any]) -> IncidentDetails:
    """The union member for a kind, from the details JSON stored in the read model."""
    details: IncidentDetails = _BUILDERS[kind](raw)
    return details
