"""Mutation inputs, and their translation into domain commands.

Places and actors are referenced by slug or id. Times are ISO 8601 with an offset.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.graphql import ids
from api.graphql.types.common import (
    ActorKind,
    AircraftOutcome,
    Channel,
    PlaceKind,
    SpeakerRole,
    TimePrecision,
)
from domain import commands as c
from domain import details as d
from domain import vocabulary as v
from domain.values import Coordinates, Source, ValidTime


def _places(refs: list[str] | None) -> tuple[object, ...]:
    return tuple(ids.place_ref(r) for r in refs or ())


def _actors(refs: list[str] | None) -> tuple[object, ...]:
    return tuple(ids.actor_ref(r) for r in refs or ())


def _actor(ref: str | None) -> object | None:
    return None if ref is None else ids.actor_ref(ref)


def _place(ref: str | None) -> object | None:
    return None if ref is None else ids.place_ref(ref)


@strawberry.input
class SourceInput:
    outlet: str = strawberry.field(description='Outlet or account: "Anadolu", "@channel".')
    channel: Channel = v.Channel.ARTICLE
    role: SpeakerRole = v.SpeakerRole.INDEPENDENT
    url: str | None = None
    published_at: datetime | None = None
    quote: str | None = None
    speaker: str | None = None
    speaker_actor: str | None = None

    def to_domain(self) -> Source:
        return Source(
            outlet=self.outlet,
            channel=self.channel,
            role=self.role,
            url=self.url,
            published_at=self.published_at,
            quote=self.quote,
            speaker=self.speaker,
            speaker_actor_id=_actor(self.speaker_actor),  # type: ignore[arg-type]
        )


@strawberry.input(description="What every incident has: when, where, and who says so.")
class IncidentInput:
    occurred_at: datetime
    places: list[str]
    sources: list[SourceInput]
    precision: TimePrecision = v.TimePrecision.EXACT
    occurred_until: datetime | None = strawberry.field(
        default=None, description="The end of a RANGE."
    )
    actors: list[str] | None = strawberry.field(
        default=None, description="Involved actors beyond those the details name."
    )
    summary: str | None = None
    idempotency_key: str | None = strawberry.field(
        default=None, description="Retrying with the same key returns the first incident."
    )

    def command(self, details: d.Details, recorded_by: str | None) -> c.RecordIncident:
        return c.RecordIncident(
            details=details,
            valid_time=ValidTime(self.occurred_at, self.precision, self.occurred_until),
            places=_places(self.places),  # type: ignore[arg-type]
            sources=tuple(s.to_domain() for s in self.sources),
            actors=_actors(self.actors),  # type: ignore[arg-type]
            summary=self.summary,
            key=self.idempotency_key,
            recorded_by=recorded_by,
        )


@strawberry.input
class CaptureInput:
    by: list[str]
    taken_from: str | None = None

    def details(self) -> d.Details:
        return d.Capture(by=_actors(self.by), taken_from=_actor(self.taken_from))  # type: ignore[arg-type]


@strawberry.input
class WithdrawalInput:
    actor: str
    redeployment: bool = False
    to_place: str | None = None
    to_description: str | None = None
    handed_to: str | None = None

    def details(self) -> d.Details:
        return d.Withdrawal(
            actor=ids.actor_ref(self.actor),
            redeployment=self.redeployment,
            to_place=_place(self.to_place),  # type: ignore[arg-type]
            to_description=self.to_description,
            handed_to=_actor(self.handed_to),  # type: ignore[arg-type]
        )


@strawberry.input
class AircraftLossInput:
    aircraft: str
    outcome: AircraftOutcome
    operator: str | None = None
    claimed_by: str | None = None
    origin: str | None = None
    count: int = 1

    def details(self) -> d.Details:
        return d.AircraftLoss(
            aircraft=self.aircraft,
            outcome=self.outcome,
            operator=_actor(self.operator),  # type: ignore[arg-type]
            claimed_by=_actor(self.claimed_by),  # type: ignore[arg-type]
            origin=_place(self.origin),  # type: ignore[arg-type]
            count=self.count,
        )


@strawberry.input
class ClashInput:
    parties: list[str]

    def details(self) -> d.Details:
        return d.Clash(parties=_actors(self.parties))  # type: ignore[arg-type]


@strawberry.input
class AdvanceInput:
    actor: str
    objective: str | None = None
    direction: str | None = None

    def details(self) -> d.Details:
        return d.Advance(
            actor=ids.actor_ref(self.actor),
            objective=_place(self.objective),  # type: ignore[arg-type]
            direction=self.direction,
        )


@strawberry.input
class AirStrikeInput:
    by: str
    target: str | None = None
    in_support_of: str | None = None

    def details(self) -> d.Details:
        return d.AirStrike(
            by=ids.actor_ref(self.by),
            target=self.target,
            in_support_of=_actor(self.in_support_of),  # type: ignore[arg-type]
        )


@strawberry.input
class StatementInput:
    speaker: str
    quote: str
    channel: Channel = v.Channel.OTHER
    speaker_actor: str | None = None

    def details(self) -> d.Details:
        return d.Statement(
            speaker=self.speaker,
            quote=self.quote,
            channel=self.channel,
            speaker_actor=_actor(self.speaker_actor),  # type: ignore[arg-type]
        )


@strawberry.input
class AnticipatedOperationInput:
    description: str
    actor: str | None = None
    objective: str | None = None
    expected_from: datetime | None = None

    def details(self) -> d.Details:
        return d.AnticipatedOperation(
            description=self.description,
            actor=_actor(self.actor),  # type: ignore[arg-type]
            objective=_place(self.objective),  # type: ignore[arg-type]
            expected_from=self.expected_from,
        )


@strawberry.input
class RegisterPlaceInput:
    slug: str
    name: str
    kind: PlaceKind
    latitude: float
    longitude: float
    country: str
    governorate: str | None = None
    aliases: list[str] | None = None
    parent: str | None = None

    def command(self) -> c.RegisterPlace:
        return c.RegisterPlace(
            slug=self.slug,
            name=self.name,
            kind=self.kind,
            coordinates=Coordinates(self.latitude, self.longitude),
            country=self.country,
            governorate=self.governorate,
            aliases=tuple(self.aliases or ()),
            parent=_place(self.parent),  # type: ignore[arg-type]
        )


@strawberry.input
class RegisterActorInput:
    slug: str
    name: str
    kind: ActorKind
    side: str | None = None
    aliases: list[str] | None = None
    coalitions: list[str] | None = None

    def command(self) -> c.RegisterActor:
        return c.RegisterActor(
            slug=self.slug,
            name=self.name,
            kind=self.kind,
            side=self.side,
            aliases=tuple(self.aliases or ()),
            coalitions=_actors(self.coalitions),  # type: ignore[arg-type]
        )


@strawberry.input(description="Common to every correction.")
class CorrectionInput:
    incident: strawberry.ID
    idempotency_key: str | None = None
    expected_version: int | None = strawberry.field(
        default=None, description="Fail with CONFLICT unless the incident is at this version."
    )


@strawberry.input
class AmendInput:
    reason: str
    occurred_at: datetime | None = None
    precision: TimePrecision = v.TimePrecision.EXACT
    occurred_until: datetime | None = None
    places: list[str] | None = None
    source: SourceInput | None = None

    def command(self, base: CorrectionInput, recorded_by: str | None) -> c.Amend:
        valid_time = (
            None
            if self.occurred_at is None
            else ValidTime(self.occurred_at, self.precision, self.occurred_until)
        )
        return c.Amend(
            incident=ids.incident_ref(base.incident),
            reason=self.reason,
            valid_time=valid_time,
            places=None if self.places is None else _places(self.places),  # type: ignore[arg-type]
            source=None if self.source is None else self.source.to_domain(),
            key=base.idempotency_key,
            expected_version=base.expected_version,
            recorded_by=recorded_by,
        )
