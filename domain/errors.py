"""Typed domain errors.

Every error carries a stable machine-readable ``code``; the API layer copies it into GraphQL's
``extensions.code`` so clients can branch on it without parsing messages.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class: a command was refused and nothing was written."""

    code = "DOMAIN_ERROR"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    """A value is malformed, empty, out of range or too long."""

    code = "INVALID_INPUT"


class InvalidCoordinates(InvalidInput):
    code = "INVALID_COORDINATES"


class InvalidTime(InvalidInput):
    """A valid time is naive, inverted, or in the future."""

    code = "INVALID_TIME"


class MissingSource(InvalidInput):
    """Every recorded fact must cite at least one report."""

    code = "MISSING_SOURCE"


class UnknownPlace(DomainError):
    code = "UNKNOWN_PLACE"


class UnknownActor(DomainError):
    code = "UNKNOWN_ACTOR"


class UnknownIncident(DomainError):
    code = "UNKNOWN_INCIDENT"


class AlreadyExists(DomainError):
    """A place or actor with this id exists with different attributes."""

    code = "ALREADY_EXISTS"


class IdempotencyKeyReused(DomainError):
    """An idempotency key was sent again with a different request."""

    code = "IDEMPOTENCY_KEY_REUSED"


class ConcurrencyConflict(DomainError):
    """Someone else changed the aggregate first (optimistic concurrency)."""

    code = "CONFLICT"


class InvalidCorrection(DomainError):
    """A correction that makes no sense in the incident's current state."""

    code = "INVALID_CORRECTION"
