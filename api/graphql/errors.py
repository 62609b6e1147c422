"""Errors as clients see them: a message and a stable ``extensions.code``, never a trace.

Domain errors carry their own code (``UNKNOWN_PLACE``, ``INVALID_COORDINATES`` …); GraphQL's
own parse and validation errors get ``GRAPHQL_VALIDATION_FAILED``; anything unexpected is
logged here and reaches the client only as ``INTERNAL_SERVER_ERROR``.
"""

from __future__ import annotations

import logging

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from domain.errors import DomainError

logger = logging.getLogger(__name__)


class ApiError(DomainError):
    """An error raised by the API layer itself (auth, freshness, paging)."""

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.code = code


def unauthenticated(message: str = "an API key is required") -> ApiError:
    return ApiError("UNAUTHENTICATED", message)


def forbidden(message: str) -> ApiError:
    return ApiError("FORBIDDEN", message)


class TypedErrors(MaskErrors):
    """Give every error a code; hide everything that is not a known, typed error."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda _: True, error_message="Internal server error")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, DomainError):
            extensions: dict[str, object] = {"code": original.code}
            if original.field:
                extensions["field"] = original.field
            return _copy(error, original.message, extensions)
        if original is None:  # a parse or validation error: the client's to fix
            code = (error.extensions or {}).get("code", "GRAPHQL_VALIDATION_FAILED")
            return _copy(error, error.message, {**(error.extensions or {}), "code": code})
        logger.error("unexpected error in %s", error.path, exc_info=original)
        return _copy(error, self.error_message, {"code": "INTERNAL_SERVER_ERROR"})


def _copy(error: GraphQLError, message: str, extensions: dict[str, object]) -> GraphQLError:
    return GraphQLError(
        message=message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )
