"""Commands: what a client asks Frontline to do, as plain immutable values.

Names are imperative; the events they produce are past tense. Ids are domain ids (UUIDs);
``identity.place_id("hama")`` turns a slug into one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Final
from uuid import UUID

from domain.details import Details
from domain.values import Coordinates, Provenance, Source, ValidTime
from domain.vocabulary import ActorKind, PlaceKind


@dataclass(frozen=True)
class RegisterPlace:
    slug: str
    name: str
    kind: PlaceKind
    coordinates: Coordinates
    country: str
    governorate: str | None = None
    aliases: tuple[str, ...] = ()
    parent: UUID | None = None


@dataclass(frozen=True)
class RegisterActor:
    slug: str
    name: str
    kind: ActorKind
    side: str | None = None
    aliases: tuple[str, ...] = ()
    coalitions: tuple[UUID, ...] = ()


@dataclass(frozen=True)
class RecordIncident:
    details: Details
    valid_time: ValidTime
    places: tuple[UUID, ...]
    sources: tuple[Source, ...]
    actors: tuple[UUID, ...] = ()  # involved beyond those the details name
    summary: str | None = None
    key: str | None = None
    recorded_by: str | None = None
    fatalities: int | None = None
    provenance: Provenance | None = None


@dataclass(frozen=True)
class Corroborate:
    incident: UUID
    source: Source
    key: str | None = None
    expected_version: int | None = None
    recorded_by: str | None = None


@dataclass(frozen=True)
class Dispute:
    incident: UUID
    source: Source
    disputed_by: UUID | None = None
    reason: str | None = None
    key: str | None = None
    expected_version: int | None = None
    recorded_by: str | None = None


@dataclass(frozen=True)
class Confirm:
    incident: UUID
    source: Source
    key: str | None = None
    expected_version: int | None = None
    recorded_by: str | None = None


@dataclass(frozen=True)
class Amend:
    """Change when or where an incident happened; and, for a revised row of another dataset,
    what it was (``details``), who took part (``actors``, beyond those the details name), its
    sources, summary, fatalities and provenance. Fields left None stay as they are."""

    incident: UUID
    reason: str
    valid_time: ValidTime | None = None
    places: tuple[UUID, ...] | None = None
    source: Source | None = None
    key: str | None = None
    expected_version: int | None = None
    recorded_by: str | None = None
    details: Details | None = None
    actors: tuple[UUID, ...] | None = None
    sources: tuple[Source, ...] | None = None
    summary: str | None = None
    fatalities: int | None = None
    provenance: Provenance | None = None
    # Of summary and fatalities, those a revised row no longer gives: emptied.
    clear: tuple[str, ...] = ()


@dataclass(frozen=True)
class Retract:
    incident: UUID
    reason: str
    source: Source | None = None
    key: str | None = None
    expected_version: int | None = None
    recorded_by: str | None = None


Correction = Corroborate | Dispute | Confirm | Amend | Retract
Command = RegisterPlace | RegisterActor | RecordIncident | Correction

# Fields that may differ between a request and its retry without making it another request.
_NOT_FINGERPRINTED = {"expected_version", "recorded_by"}
# Fields added to a command after requests were first fingerprinted and stored: left out while
# unset, so a request that does not use them keeps the fingerprint stored for it, and its retry
# still matches (tests/unit/test_fingerprints.py). Add every new command field here.
# Each maps to its unset value: ``Amend(actors=())`` (no co-actors left) is a request of its
# own, unlike ``actors=None``.
_ADDED_LATER: dict[str, dict[str, Any]] = {
    "RecordIncident": {"fatalities": None, "provenance": None},
    "Amend": {
        "details": None, "actors": None, "sources": None, "summary": None, "fatalities": None,
        "provenance": None, "clear": (),
    },
}  # fmt: skip
_UNSET: Final = object()


def fingerprint(command: Command) -> str:
    """A digest of what the request asks for, to tell a retry from a reused key.

    Canonical, so an honest retry matches even if it spells the same request differently:
    instants in UTC, lists for tuples, and unset fields left out (adding an optional field to
    a command later does not change the fingerprint of requests that don't use it).
    """
    later = _ADDED_LATER.get(type(command).__name__, {})
    payload = {}
    for name in field_names(type(command)):
        value = getattr(command, name)
        if name in _NOT_FINGERPRINTED or value == later.get(name, _UNSET):
            continue
        payload[name] = canonical(value)
    text = json.dumps({"command": type(command).__name__, **payload}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def field_names(cls: type) -> tuple[str, ...]:
    """The field names of a dataclass type, () for any other type. ``dataclasses.fields``
    and ``is_dataclass`` on every value were a quarter of the batch write path (profile)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls)) if is_dataclass(cls) else ()
    return names


#: Values ``canonical`` keeps as they are (checked by exact type: a StrEnum is a str too).
_PLAIN: Final = frozenset({str, int, float, bool, type(None)})


def canonical(value: Any) -> Any:
    """A JSON-ready form of a command's value, with unset (``None``/empty) fields dropped.

    Plain values are told by their exact type first: an ACLED row's command holds a hundred
    of them (its provenance columns), and the chain of checks per value was a seventh of an
    import (profile). The forms are unchanged: stored fingerprints must keep matching
    retries (tests/unit/test_fingerprints.py)."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    names = field_names(kind)
    if names:
        form = {name: canonical(getattr(value, name)) for name in names}
        return {"type": kind.__name__} | {k: v for k, v in form.items() if v not in (None, [])}
    if isinstance(value, list | tuple):
        return [v if type(v) in _PLAIN else canonical(v) for v in value]
    return _scalar(value)


def _scalar(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, UUID):
        return str(value)
    return value
