"""What each kind of incident says, beyond when, where and who reported it.

One frozen dataclass per ``IncidentKind``. Each names the places and actors it refers to, so
the application can check that they exist before anything is written.
"""

from __future__ import annotations

from dataclasses import Field, dataclass, fields
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from domain.errors import InvalidInput
from domain.values import LIST_MAX, clean_name, clean_text, require_aware
from domain.vocabulary import (
    AircraftOutcome,
    AssessedStatus,
    AssessmentTier,
    Channel,
    IncidentKind,
)

MAX_AIRCRAFT = 100


def _uuid(value: Any) -> UUID:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        raise InvalidInput(f"{value!r} is not an id", field="id") from None


def _optional_uuid(value: Any) -> UUID | None:
    return None if value is None else _uuid(value)


def _uuids(values: Any) -> tuple[UUID, ...]:
    return tuple(dict.fromkeys(_uuid(v) for v in values or ()))


_ID_FIELDS: dict[type, tuple[Field[Any], ...]] = {}


def _id_fields(cls: type[Details]) -> tuple[Field[Any], ...]:
    """The fields of a kind of details that hold ids (``fields()`` on every incident was a
    twentieth of an ACLED row's mapping)."""
    found = _ID_FIELDS.get(cls)
    if found is None:
        named = cls.actor_fields + cls.place_fields
        every = fields(cls)  # type: ignore[arg-type]
        found = _ID_FIELDS[cls] = tuple(f for f in every if f.name in named)
    return found


class Details:
    """Base of the per-kind details. Subclasses declare which fields hold ids."""

    kind: ClassVar[IncidentKind]
    actor_fields: ClassVar[tuple[str, ...]] = ()
    place_fields: ClassVar[tuple[str, ...]] = ()

    def _ids(self, names: tuple[str, ...]) -> tuple[UUID, ...]:
        found: list[UUID] = []
        for name in names:
            value = getattr(self, name)
            if isinstance(value, tuple):
                found.extend(value)
            elif value is not None:
                found.append(value)
        return tuple(found)

    def actor_ids(self) -> tuple[UUID, ...]:
        return self._ids(self.actor_fields)

    def place_ids(self) -> tuple[UUID, ...]:
        return self._ids(self.place_fields)

    def _coerce_ids(self) -> None:
        for f in _id_fields(type(self)):
            value = getattr(self, f.name)
            if isinstance(value, list | tuple):
                if len(value) > LIST_MAX:
                    raise InvalidInput(f"{f.name} has more than {LIST_MAX} entries", field=f.name)
                object.__setattr__(self, f.name, _uuids(value))
            elif str(f.type).startswith("tuple"):
                raise InvalidInput(f"{f.name} must be a list of ids", field=f.name)
            else:
                object.__setattr__(self, f.name, _optional_uuid(value))


@dataclass(frozen=True)
class Capture(Details):
    """A place (or several) taken by ``by``, from ``taken_from`` when known."""

    kind: ClassVar = IncidentKind.CAPTURE
    actor_fields: ClassVar = ("by", "taken_from")

    by: tuple[UUID, ...]
    taken_from: UUID | None = None

    def __post_init__(self) -> None:
        self._coerce_ids()
        if not self.by:
            raise InvalidInput("a capture needs at least one capturing actor", field="by")
        if self.taken_from in self.by:
            raise InvalidInput("an actor cannot capture a place from itself", field="takenFrom")


@dataclass(frozen=True)
class Withdrawal(Details):
    """``actor`` leaves the place(s); a redeployment says where it went.

    ``handed_to`` is whoever the place was left to, if anyone; with nobody named the place
    becomes abandoned/contested rather than held by anyone.
    """

    kind: ClassVar = IncidentKind.WITHDRAWAL
    actor_fields: ClassVar = ("actor", "handed_to")
    place_fields: ClassVar = ("to_place",)

    actor: UUID
    redeployment: bool = False
    to_place: UUID | None = None
    to_description: str | None = None
    handed_to: UUID | None = None

    def __post_init__(self) -> None:
        self._coerce_ids()
        object.__setattr__(self, "to_description", clean_text(self.to_description, "toDescription"))
        if self.handed_to == self.actor:
            raise InvalidInput("an actor cannot withdraw in its own favour", field="handedTo")


@dataclass(frozen=True)
class AircraftLoss(Details):
    """Aircraft shot down, damaged or forced to land."""

    kind: ClassVar = IncidentKind.AIRCRAFT_LOSS
    actor_fields: ClassVar = ("operator", "claimed_by")
    place_fields: ClassVar = ("origin",)

    aircraft: str
    outcome: AircraftOutcome
    operator: UUID | None = None
    claimed_by: UUID | None = None
    origin: UUID | None = None
    count: int = 1

    def __post_init__(self) -> None:
        self._coerce_ids()
        object.__setattr__(self, "aircraft", clean_name(self.aircraft, "aircraft"))
        try:
            object.__setattr__(self, "outcome", AircraftOutcome(self.outcome))
        except ValueError:
            raise InvalidInput(f"unknown outcome {self.outcome!r}", field="outcome") from None
        if isinstance(self.count, bool) or not isinstance(self.count, int):
            raise InvalidInput("count must be a whole number", field="count")
        if not 1 <= self.count <= MAX_AIRCRAFT:
            raise InvalidInput(f"count must be between 1 and {MAX_AIRCRAFT}", field="count")


@dataclass(frozen=True)
class Clash(Details):
    """Fighting between ``parties`` at the incident's places."""

    kind: ClassVar = IncidentKind.CLASH
    actor_fields: ClassVar = ("parties",)

    parties: tuple[UUID, ...]

    def __post_init__(self) -> None:
        self._coerce_ids()
        if len(self.parties) < 2:
            raise InvalidInput("a clash needs at least two parties", field="parties")


@dataclass(frozen=True)
class Advance(Details):
    """``actor`` advancing toward ``objective`` (a place) or in a stated direction."""

    kind: ClassVar = IncidentKind.ADVANCE
    actor_fields: ClassVar = ("actor",)
    place_fields: ClassVar = ("objective",)

    actor: UUID
    objective: UUID | None = None
    direction: str | None = None

    def __post_init__(self) -> None:
        self._coerce_ids()
        object.__setattr__(self, "direction", clean_text(self.direction, "direction"))


@dataclass(frozen=True)
class AirStrike(Details):
    """Strikes flown by ``by``, possibly in support of another actor, at ``target_actor``
    when it is known who was hit."""

    kind: ClassVar = IncidentKind.AIR_STRIKE
    actor_fields: ClassVar = ("by", "in_support_of", "target_actor")

    by: UUID
    target: str | None = None
    in_support_of: UUID | None = None
    target_actor: UUID | None = None

    def __post_init__(self) -> None:
        self._coerce_ids()
        object.__setattr__(self, "target", clean_text(self.target, "target"))


@dataclass(frozen=True)
class Strike(Details):
    """Remote violence not from the air: shelling, artillery, missiles, explosives; ``means``
    says which (e.g. ACLED's sub-event type), ``by`` and ``target_actor`` who, when known."""

    kind: ClassVar = IncidentKind.STRIKE
    actor_fields: ClassVar = ("by", "target_actor")

    by: UUID | None = None
    means: str | None = None
    target: str | None = None
    target_actor: UUID | None = None

    def __post_init__(self) -> None:
        self._coerce_ids()
        object.__setattr__(self, "means", clean_text(self.means, "means"))
        object.__setattr__(self, "target", clean_text(self.target, "target"))


@dataclass(frozen=True)
class Statement(Details):
    """Someone said something on the record; kept as what was said, not as fact."""

    kind: ClassVar = IncidentKind.STATEMENT
    actor_fields: ClassVar = ("speaker_actor",)

    speaker: str
    quote: str
    channel: Channel = Channel.OTHER
    speaker_actor: UUID | None = None

    def __post_init__(self) -> None:
        self._coerce_ids()
        object.__setattr__(self, "speaker", clean_name(self.speaker, "speaker"))
        quote = clean_text(self.quote, "quote")
        if quote is None:
            raise InvalidInput("a statement needs its quote", field="quote")
        object.__setattr__(self, "quote", quote)
        try:
            object.__setattr__(self, "channel", Channel(self.channel))
        except ValueError:
            raise InvalidInput(f"unknown channel {self.channel!r}", field="channel") from None


@dataclass(frozen=True)
class AnticipatedOperation(Details):
    """An operation someone expects ("an offensive on Homs might start"): a claim about the
    future, never a fact, and never an input to control."""

    kind: ClassVar = IncidentKind.ANTICIPATED_OPERATION
    actor_fields: ClassVar = ("actor",)
    place_fields: ClassVar = ("objective",)

    description: str
    actor: UUID | None = None
    objective: UUID | None = None
    expected_from: datetime | None = None

    def __post_init__(self) -> None:
        self._coerce_ids()
        description = clean_text(self.description, "description")
        if description is None:
            raise InvalidInput("an anticipated operation needs a description", field="description")
        object.__setattr__(self, "description", description)
        if self.expected_from is not None:
            require_aware(self.expected_from, "expectedFrom")


@dataclass(frozen=True)
class Assessment(Details):
    """An observer's assessment of the places' state at the record's valid time: held by
    ``holders``, contested between them (with none: abandoned), or unknown. A state, not an
    event: it sets the places' control from its time on (rule 8 of ``domain.control``) and
    is never a capture.
    """

    kind: ClassVar = IncidentKind.ASSESSMENT
    actor_fields: ClassVar = ("holders",)

    status: AssessedStatus
    holders: tuple[UUID, ...] = ()
    tier: AssessmentTier = AssessmentTier.ASSESSED

    def __post_init__(self) -> None:
        self._coerce_ids()
        for name, vocabulary in (("status", AssessedStatus), ("tier", AssessmentTier)):
            try:
                object.__setattr__(self, name, vocabulary(getattr(self, name)))
            except ValueError:
                value = getattr(self, name)
                raise InvalidInput(f"unknown {name} {value!r}", field=name) from None
        if self.status is AssessedStatus.HELD and not self.holders:
            raise InvalidInput("a place assessed as held needs its holders", field="holders")
        if self.status is AssessedStatus.CONTESTED and len(self.holders) == 1:
            raise InvalidInput(
                "a place assessed as contested names the parties contesting it (two or more),"
                " or none when it was abandoned; held by one is HELD",
                field="holders",
            )
        if self.status is AssessedStatus.UNKNOWN and self.holders:
            raise InvalidInput("a place assessed as unknown has no holders", field="holders")


@dataclass(frozen=True)
class OtherEvent(Details):
    """An event no other kind fits, kept rather than dropped: ``category`` says what it is
    (e.g. "Protests / Peaceful protest"), ``parties`` who took part."""

    kind: ClassVar = IncidentKind.OTHER
    actor_fields: ClassVar = ("parties",)

    category: str
    parties: tuple[UUID, ...] = ()

    def __post_init__(self) -> None:
        self._coerce_ids()
        object.__setattr__(self, "category", clean_name(self.category, "category"))


DETAIL_TYPES: tuple[type[Details], ...] = (
    Capture,
    Withdrawal,
    AircraftLoss,
    Clash,
    Advance,
    AirStrike,
    Strike,
    Statement,
    AnticipatedOperation,
    Assessment,
    OtherEvent,
)

# Kinds that decide who holds a place; every other kind leaves control alone.
TERRITORIAL_KINDS = frozenset(
    {IncidentKind.CAPTURE, IncidentKind.WITHDRAWAL, IncidentKind.ASSESSMENT}
)
