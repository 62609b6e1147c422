"""Opaque global ids (``node(id:)``) and the friendlier references clients may also use.

A global id is ``base64("Type:uuid")``. Wherever a place or actor is expected, a client may
instead pass its slug (``"hama"``): slugs map to ids without a lookup (UUIDv5).
"""

from __future__ import annotations

import base64
import binascii
from uuid import UUID

import strawberry

from domain.errors import InvalidInput
from domain.identity import SLUG_PATTERN, actor_id, place_id


class InvalidId(InvalidInput):
    code = "INVALID_ID"


def encode(type_name: str, uuid: UUID) -> strawberry.ID:
    return strawberry.ID(base64.urlsafe_b64encode(f"{type_name}:{uuid}".encode()).decode())


def decode(global_id: str, expected: str | None = None) -> tuple[str, UUID]:
    try:
        type_name, _, raw = base64.urlsafe_b64decode(global_id.encode()).decode().partition(":")
        uuid = UUID(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidId(f"{global_id!r} is not a Frontline id", field="id") from None
    if expected is not None and type_name != expected:
        raise InvalidId(f"{global_id!r} is a {type_name} id, not a {expected} id", field="id")
    return type_name, uuid


def place_ref(ref: str) -> UUID:
    """A place's id from its global id or its slug."""
    return place_id(ref) if SLUG_PATTERN.match(ref) else decode(ref, "Place")[1]


def actor_ref(ref: str) -> UUID:
    """An actor's id from its global id or its slug."""
    return actor_id(ref) if SLUG_PATTERN.match(ref) else decode(ref, "Actor")[1]


def incident_ref(ref: str) -> UUID:
    return decode(ref, "Incident")[1]
