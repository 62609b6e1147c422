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

import orjson

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
    # Its map colour ("#RRGGBB"); None leaves the one it has (or the default).
    color: str | None = None


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

    The digest of the canonical form (``_canonical_object``) written by orjson (keys
    sorted), marked ``2:``; one orjson cannot write (an integer beyond 64 bits) gets the
    first version's. Requests stored before the mark have the first version's (json's text,
    ``fingerprint_v1``): compare with ``same_request``, which knows both. orjson is several
    times faster, and json's text was a fifth of an ACLED import's write path (profile).
    """
    try:
        text = orjson.dumps(_payload(command), default=_canonical_object, option=_V2_OPTIONS)
    except orjson.JSONEncodeError:
        return fingerprint_v1(command)
    return V2 + hashlib.sha256(text).hexdigest()


V2: Final = "2:"
_V2_OPTIONS: Final = (
    orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
)


def fingerprint_v1(command: Command) -> str:
    """The first version: the digest of the canonical form as ``json.dumps`` writes it."""
    text = json.dumps(_payload(command), sort_keys=True, default=_canonical_object)
    return hashlib.sha256(text.encode()).hexdigest()


def same_request(stored: str | None, command: Command, computed: str | None = None) -> bool:
    """Whether ``command`` is the request whose fingerprint was ``stored``, in either
    version (``computed``: its fingerprint, when already known)."""
    if stored is None:
        return False
    if stored == (computed or fingerprint(command)):
        return True
    return not stored.startswith(V2) and stored == fingerprint_v1(command)


def _payload(command: Command) -> dict[str, Any]:
    """The command's fields that a fingerprint covers, as they are (``_canonical_object``
    makes them canonical as the encoder meets them)."""
    later = _ADDED_LATER.get(type(command).__name__, {})
    payload: dict[str, Any] = {"command": type(command).__name__}
    for name in field_names(type(command)):
        value = getattr(command, name)
        if name in _NOT_FINGERPRINTED or value == later.get(name, _UNSET):
            continue
        payload[name] = value
    return payload


def _canonical_object(value: Any) -> Any:
    """The canonical form of what JSON cannot hold as it is, called by the encoder (json's
    and orjson write tuples as lists, and str enums as their values, themselves; orjson
    writes ids as ``str`` does): a value object as its type's name and its set fields (None
    and empty lists left out), an instant in UTC, an id as text. The encoder walks the
    command, not Python: walking every plain value was a third of an ACLED import's write
    path (profile). tests/unit/test_fingerprints.py keeps the form as first written, walked
    in Python, and compares."""
    names = field_names(type(value))
    if names:
        form = {"type": type(value).__name__}
        for name in names:
            item = getattr(value, name)
            if item is not None and not (type(item) in (tuple, list) and not item):
                form[name] = item
        return form
    scalar = _scalar(value)
    if scalar is value:
        raise TypeError(f"{type(value).__name__} has no canonical form")
    return scalar


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def field_names(cls: type) -> tuple[str, ...]:
    """The field names of a dataclass type, () for any other type. ``dataclasses.fields``
    and ``is_dataclass`` on every value were a quarter of the batch write path (profile)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls)) if is_dataclass(cls) else ()
    return names


def _scalar(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, UUID):
        return str(value)
    return value
