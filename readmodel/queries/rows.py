"""Typed results of the read queries, built from asyncpg rows.

Enumerations are the domain's own (``ControlStatus``, ``IncidentKind`` ...), ids are UUIDs and
times are aware datetimes, so callers (the GraphQL layer) never see a raw database row.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.control import ControlStatus
from domain.vocabulary import (
    ActorKind,
    AircraftOutcome,
    ClaimStatus,
    IncidentKind,
    PlaceKind,
    TimePrecision,
)


@dataclass(frozen=True)
class PlaceRow:
    id: UUID
    slug: str
    name: str
    kind: PlaceKind
    latitude: float
    longitude: float
    country: str
    governorate: str | None
    aliases: tuple[str, ...]
    parent_id: UUID | None
    position: int  # log position of the place's latest registration change


@dataclass(frozen=True)
class ActorRow:
    id: UUID
    slug: str
    name: str
    kind: ActorKind
    side: str | None
    aliases: tuple[str, ...]
    coalition_ids: tuple[UUID, ...]
    position: int
    color: str | None  # "#RRGGBB" someone gave it
    # Its rank in registration order: the API's default map colour (api.colors).
    color_rank: int


@dataclass(frozen=True)
class ControlState:
    """One bitemporal control interval of a place.

    ``uncertain``: for a state asked about at an instant T, whether T falls before
    ``certain_from`` (the incident that started the state may not have happened yet at T,
    e.g. a day-precision capture asked about at noon of that day). In a history, whether the
    interval's start is itself uncertain (``certain_from`` later than ``valid_from``).
    """

    place_id: UUID
    status: ControlStatus
    controllers: tuple[UUID, ...]
    valid_from: datetime | None  # None: since forever
    valid_to: datetime | None  # None: until further notice
    known_from: int  # log position from which this was believed
    known_to: int | None  # log position at which it stopped being believed; None: still is
    evidence: tuple[UUID, ...]  # incident ids behind the state
    disputed: bool
    inferred: bool
    precision: TimePrecision | None
    certain_from: datetime | None
    uncertain: bool
    assessed: bool = False  # rests only on assessments

    @property
    def abandoned(self) -> bool:
        """Contested with nobody holding or contesting it (left by its last holder)."""
        return self.status is ControlStatus.CONTESTED and not self.controllers

    def same_hold(self, other: ControlState | None) -> bool:
        """Whether ``other`` has the same status and holders (order aside)."""
        return other is not None and (self.status, frozenset(self.controllers)) == (
            other.status,
            frozenset(other.controllers),
        )


@dataclass(frozen=True)
class PlaceControl:
    """A place and its state; ``state`` is None when nothing known says who holds it."""

    place: PlaceRow
    state: ControlState | None


@dataclass(frozen=True)
class Change:
    """A place whose status or holders differ between two instants.

    ``evidence`` is that of the new state (empty if the new state is unknown).
    """

    place: PlaceRow
    before: ControlState | None
    after: ControlState | None

    @property
    def evidence(self) -> tuple[UUID, ...]:
        return () if self.after is None else self.after.evidence


@dataclass(frozen=True)
class GainsAndLosses:
    """Places an actor came to hold (``gained``) or stopped holding (``lost``)."""

    actor_id: UUID
    gained: tuple[Change, ...]
    lost: tuple[Change, ...]


@dataclass(frozen=True)
class AircraftTally:
    """Aircraft an actor operated and lost, and aircraft it is credited with downing,
    summed (``count``) by outcome; every outcome is present, zero when none."""

    actor_id: UUID
    lost: Mapping[AircraftOutcome, int]
    downed: Mapping[AircraftOutcome, int]

    @property
    def lost_total(self) -> int:
        return sum(self.lost.values())

    @property
    def downed_total(self) -> int:
        return sum(self.downed.values())


@dataclass(frozen=True)
class IncidentRow:
    """An incident as currently believed (the feed's row)."""

    id: UUID
    kind: IncidentKind
    status: ClaimStatus
    valid_from: datetime
    valid_to: datetime  # the latest instant it may have happened (exclusive for day/range)
    precision: TimePrecision
    place_ids: tuple[UUID, ...]
    actor_ids: tuple[UUID, ...]
    summary: str | None
    details: Mapping[str, Any]  # the kind's details as JSON (ids as strings)
    sources: tuple[Mapping[str, Any], ...]
    recorded_by: str | None
    recorded_position: int
    recorded_at: datetime
    updated_position: int
    version: int
    fatalities: int | None = None
    provenance: Mapping[str, Any] | None = None  # dataset, record_id, revision, attributes


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def place_from_row(row: Any) -> PlaceRow:
    return PlaceRow(
        id=row["id"],
        slug=row["slug"],
        name=row["name"],
        kind=PlaceKind(row["kind"]),
        latitude=row["latitude"],
        longitude=row["longitude"],
        country=row["country"],
        governorate=row["governorate"],
        aliases=tuple(row["aliases"]),
        parent_id=row["parent_id"],
        position=row["position"],
    )


def actor_from_row(row: Any) -> ActorRow:
    return ActorRow(
        id=row["id"],
        slug=row["slug"],
        name=row["name"],
        kind=ActorKind(row["kind"]),
        side=row["side"],
        aliases=tuple(row["aliases"]),
        coalition_ids=tuple(row["coalition_ids"]),
        position=row["position"],
        color=row["color"],
        color_rank=row["color_rank"],
    )


def state_from_row(row: Any, at: datetime | None, prefix: str = "") -> ControlState | None:
    """The state in ``row`` (columns optionally prefixed), judged at instant ``at``.

    ``at`` None means "in a history": see ``ControlState.uncertain``.
    """
    if row[prefix + "status"] is None:
        return None
    certain_from = row[prefix + "certain_from"]
    valid_from = row[prefix + "valid_from"]
    start = at if at is not None else valid_from
    precision = row[prefix + "precision"]
    return ControlState(
        place_id=row[prefix + "place_id"],
        status=ControlStatus(row[prefix + "status"]),
        controllers=tuple(row[prefix + "controllers"]),
        valid_from=valid_from,
        valid_to=row[prefix + "valid_to"],
        known_from=row[prefix + "known_from"],
        known_to=row[prefix + "known_to"],
        evidence=tuple(row[prefix + "evidence"]),
        disputed=row[prefix + "disputed"],
        inferred=row[prefix + "inferred"],
        precision=None if precision is None else TimePrecision(precision),
        certain_from=certain_from,
        uncertain=certain_from is not None and start is not None and start < certain_from,
        assessed=row[prefix + "assessed"],
    )


def incident_from_row(row: Any) -> IncidentRow:
    return IncidentRow(
        id=row["id"],
        kind=IncidentKind(row["kind"]),
        status=ClaimStatus(row["status"]),
        valid_from=row["valid_from"],
        valid_to=row["valid_to"],
        precision=TimePrecision(row["precision"]),
        place_ids=tuple(row["place_ids"]),
        actor_ids=tuple(row["actor_ids"]),
        summary=row["summary"],
        details=_json(row["details"]),
        sources=tuple(_json(row["sources"])),
        recorded_by=row["recorded_by"],
        recorded_position=row["recorded_position"],
        recorded_at=row["recorded_at"],
        updated_position=row["updated_position"],
        version=row["version"],
        fatalities=row["fatalities"],
        provenance=None if row["provenance"] is None else _json(row["provenance"]),
    )
