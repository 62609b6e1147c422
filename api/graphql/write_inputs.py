"""Mutation inputs, and their translation into domain commands.

Places and actors are referenced by slug or id. Times are ISO 8601 with an offset.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final
from uuid import UUID

import strawberry

from api.graphql import ids
from api.graphql.types.common import (
    ActorKind,
    AircraftOutcome,
    AssessedStatus,
    AssessmentTier,
    Channel,
    PlaceKind,
    SpeakerRole,
    TimePrecision,
)
from domain import commands as c
from domain import details as d
from domain import vocabulary as v
from domain.errors import InvalidInput
from domain.identity import incident_id
from domain.values import Coordinates, Source, ValidTime

#: An idempotency key as a client writes it; scoped (api.graphql.mutation.scoped) it stays
#: within the domain's KEY_MAX.
CLIENT_KEY_MAX: Final = 200


def _places(refs: list[str] | None, field: str) -> tuple[object, ...]:
    return tuple(ids.place_ref(r, field) for r in refs or ())


def _actors(refs: list[str] | None, field: str) -> tuple[object, ...]:
    return tuple(ids.actor_ref(r, field) for r in refs or ())


def _actor(ref: str | None, field: str) -> object | None:
    return None if ref is None else ids.actor_ref(ref, field)


def _place(ref: str | None, field: str) -> object | None:
    return None if ref is None else ids.place_ref(ref, field)


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
            speaker_actor_id=_actor(self.speaker_actor, "speakerActor"),  # type: ignore[arg-type]
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
    fatalities: int | None = strawberry.field(
        default=None, description="Deaths reported (0 to 1,000,000)."
    )

    def command(self, details: d.Details, recorded_by: str | None) -> c.RecordIncident:
        return c.RecordIncident(
            details=details,
            valid_time=ValidTime(self.occurred_at, self.precision, self.occurred_until),
            places=_places(self.places, "places"),  # type: ignore[arg-type]
            sources=tuple(s.to_domain() for s in self.sources),
            actors=_actors(self.actors, "actors"),  # type: ignore[arg-type]
            summary=self.summary,
            key=self.idempotency_key,
            recorded_by=recorded_by,
            fatalities=self.fatalities,
        )


@strawberry.input
class CaptureInput:
    by: list[str]
    taken_from: str | None = None

    def details(self) -> d.Details:
        return d.Capture(by=_actors(self.by, "by"), taken_from=_actor(self.taken_from, "takenFrom"))  # type: ignore[arg-type]


@strawberry.input
class WithdrawalInput:
    actor: str
    redeployment: bool = False
    to_place: str | None = None
    to_description: str | None = None
    handed_to: str | None = None

    def details(self) -> d.Details:
        return d.Withdrawal(
            actor=ids.actor_ref(self.actor, "actor"),
            redeployment=self.redeployment,
            to_place=_place(self.to_place, "toPlace"),  # type: ignore[arg-type]
            to_description=self.to_description,
            handed_to=_actor(self.handed_to, "handedTo"),  # type: ignore[arg-type]
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
            operator=_actor(self.operator, "operator"),  # type: ignore[arg-type]
            claimed_by=_actor(self.claimed_by, "claimedBy"),  # type: ignore[arg-type]
            origin=_place(self.origin, "origin"),  # type: ignore[arg-type]
            count=self.count,
        )


@strawberry.input
class ClashInput:
    parties: list[str]

    def details(self) -> d.Details:
        return d.Clash(parties=_actors(self.parties, "parties"))  # type: ignore[arg-type]


@strawberry.input
class AdvanceInput:
    actor: str
    objective: str | None = None
    direction: str | None = None

    def details(self) -> d.Details:
        return d.Advance(
            actor=ids.actor_ref(self.actor, "actor"),
            objective=_place(self.objective, "objective"),  # type: ignore[arg-type]
            direction=self.direction,
        )


@strawberry.input
class AirStrikeInput:
    by: str
    target: str | None = None
    in_support_of: str | None = None
    target_actor: str | None = None

    def details(self) -> d.Details:
        return d.AirStrike(
            by=ids.actor_ref(self.by, "by"),
            target=self.target,
            in_support_of=_actor(self.in_support_of, "inSupportOf"),  # type: ignore[arg-type]
            target_actor=_actor(self.target_actor, "targetActor"),  # type: ignore[arg-type]
        )


@strawberry.input
class StrikeInput:
    by: str | None = None
    means: str | None = strawberry.field(
        default=None, description="Shelling, artillery, a missile, an IED…"
    )
    target: str | None = None
    target_actor: str | None = None

    def details(self) -> d.Details:
        return d.Strike(
            by=_actor(self.by, "by"),  # type: ignore[arg-type]
            means=self.means,
            target=self.target,
            target_actor=_actor(self.target_actor, "targetActor"),  # type: ignore[arg-type]
        )


@strawberry.input
class OtherEventInput:
    category: str = strawberry.field(description="What it was, e.g. 'Protests / Riot'.")
    parties: list[str] = strawberry.field(default_factory=list)

    def details(self) -> d.Details:
        return d.OtherEvent(category=self.category, parties=_actors(self.parties, "parties"))  # type: ignore[arg-type]


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
            speaker_actor=_actor(self.speaker_actor, "speakerActor"),  # type: ignore[arg-type]
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
            actor=_actor(self.actor, "actor"),  # type: ignore[arg-type]
            objective=_place(self.objective, "objective"),  # type: ignore[arg-type]
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
            parent=_place(self.parent, "parent"),  # type: ignore[arg-type]
        )


@strawberry.input
class RegisterActorInput:
    slug: str
    name: str
    kind: ActorKind
    side: str | None = None
    aliases: list[str] | None = None
    coalitions: list[str] | None = None
    color: str | None = strawberry.field(
        default=None,
        description='Its colour on maps, "#RRGGBB". Registering an actor again with a colour '
        "sets it; null keeps the one it has (or the default).",
    )

    def command(self) -> c.RegisterActor:
        return c.RegisterActor(
            slug=self.slug,
            name=self.name,
            kind=self.kind,
            side=self.side,
            aliases=tuple(self.aliases or ()),
            coalitions=_actors(self.coalitions, "coalitions"),  # type: ignore[arg-type]
            color=self.color,
        )


@strawberry.input(description="Common to every correction.")
class CorrectionInput:
    incident: strawberry.ID | None = strawberry.field(
        default=None, description="The incident's id (or name it by incidentKey)."
    )
    incident_key: str | None = strawberry.field(
        default=None,
        description="The idempotencyKey your API key recorded the incident with, instead of "
        "its id.",
    )
    idempotency_key: str | None = None
    expected_version: int | None = strawberry.field(
        default=None, description="Fail with CONFLICT unless the incident is at this version."
    )

    def incident_id(self, key_scope: str) -> UUID:
        """The incident named, by id or by the idempotency key recorded in ``key_scope``."""
        if (self.incident is None) == (self.incident_key is None):
            raise InvalidInput(
                "name the incident by `incident` (its id) or by `incidentKey`", field="incident"
            )
        if self.incident is not None:
            return ids.incident_ref(self.incident)
        if not self.incident_key or len(self.incident_key) > CLIENT_KEY_MAX:
            raise InvalidInput(
                f"incidentKey is 1 to {CLIENT_KEY_MAX} characters", field="incidentKey"
            )
        return incident_id(key_scope + self.incident_key)


@strawberry.input
class AmendInput:
    reason: str
    occurred_at: datetime | None = None
    precision: TimePrecision = v.TimePrecision.EXACT
    occurred_until: datetime | None = None
    places: list[str] | None = None
    source: SourceInput | None = None
    fatalities: int | None = None
    summary: str | None = None

    def command(self, base: CorrectionInput, recorded_by: str | None, key_scope: str) -> c.Amend:
        valid_time = (
            None
            if self.occurred_at is None
            else ValidTime(self.occurred_at, self.precision, self.occurred_until)
        )
        return c.Amend(
            incident=base.incident_id(key_scope),
            reason=self.reason,
            valid_time=valid_time,
            places=None if self.places is None else _places(self.places, "places"),  # type: ignore[arg-type]
            source=None if self.source is None else self.source.to_domain(),
            key=base.idempotency_key,
            expected_version=base.expected_version,
            recorded_by=recorded_by,
            fatalities=self.fatalities,
            summary=self.summary,
        )


@strawberry.input(
    description="As of the record's time, per its sources: the places are HELD by holders, "
    "CONTESTED between them (two or more), or UNKNOWN (no holders)."
)
class AssessmentInput:
    status: AssessedStatus
    holders: list[str] = strawberry.field(default_factory=list)
    tier: AssessmentTier = v.AssessmentTier.ASSESSED

    def details(self) -> d.Details:
        holders = _actors(self.holders, "holders")
        return d.Assessment(status=self.status, holders=holders, tier=self.tier)  # type: ignore[arg-type]
