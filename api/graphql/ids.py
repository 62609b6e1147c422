"""Opaque global ids (``node(id:)``) and the friendlier references clients may also use.

A global id is ``base64("Type:uuid")``. Wherever a place or actor is expected, a client may
instead pass its slug (``"hama"``): slugs map to ids without a lookup (UUIDv5).
"""

from __future__ import annotations

import base64
import binascii
from contextvars import ContextVar
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


def place_ref(ref: str, field: str = "place") -> UUID:
    """A place's id from its global id or its slug (sent as argument ``field``)."""
    return _noted(place_id(ref) if SLUG_PATTERN.match(ref) else decode(ref, "Place")[1], ref, field)


def actor_ref(ref: str, field: str = "actor") -> UUID:
    """An actor's id from its global id or its slug (sent as argument ``field``)."""
    return _noted(actor_id(ref) if SLUG_PATTERN.match(ref) else decode(ref, "Actor")[1], ref, field)


# The domain names what it cannot find by id; the client sent a slug or a global id, in an
# argument of its own. Each request notes what it sent (``noting``), so an UNKNOWN_PLACE or
# UNKNOWN_ACTOR error can name it back (api.graphql.errors). A context variable holding one
# dict per request: resolvers run in tasks that copy the context, and share the dict.
_SENT: ContextVar[dict[UUID, tuple[str, str]] | None] = ContextVar("sent_refs", default=None)
_SENT_MAX = 1_000  # a long-lived socket's requests share one; it never grows past this


def noting() -> None:
    """Start noting the references this request (or socket) sends."""
    _SENT.set({})


def sent(uuid: UUID) -> tuple[str, str] | None:
    """The reference and argument a client named ``uuid`` with, if it did."""
    found = _SENT.get()
    return None if found is None else found.get(uuid)


def _noted(uuid: UUID, ref: str, field: str) -> UUID:
    found = _SENT.get()
    if found is not None:
        if len(found) >= _SENT_MAX:
            found.clear()
        found[uuid] = (ref, field)
    return uuid


def incident_ref(ref: str) -> UUID:
    return decode(ref, "Incident")[1]
