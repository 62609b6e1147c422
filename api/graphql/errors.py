"""Errors as clients see them: a message and a stable ``extensions.code``, never a trace.

Domain errors carry their own code (``UNKNOWN_PLACE``, ``INVALID_COORDINATES`` …); GraphQL's
own parse and validation errors get ``GRAPHQL_VALIDATION_FAILED``, variables of the wrong type
``BAD_USER_INPUT``; anything unexpected is logged here and reaches the client only as
``INTERNAL_SERVER_ERROR``.
"""

from __future__ import annotations

import logging
from uuid import UUID

import asyncpg
import strawberry
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.types import ExecutionContext

from api.graphql import ids
from api.graphql.patches.strawberry import FastErrorCheck
from domain.errors import DomainError, UnknownActor, UnknownPlace
from readmodel.connections import DATABASE_DOWN

logger = logging.getLogger(__name__)

#: PostgreSQL refusing a client's text (a NUL character in a search or a filter), or text
#: that cannot be encoded at all (a lone surrogate written as "\ud800" in a query): the
#: client's to fix, not a server error.
UNSTORABLE_TEXT = (
    asyncpg.CharacterNotInRepertoireError,
    asyncpg.UntranslatableCharacterError,
    UnicodeEncodeError,
)
#: PostgreSQL cancelled a statement past FRONTLINE_STATEMENT_TIMEOUT_MS.
CANCELLED = (asyncpg.QueryCanceledError,)


class ApiError(DomainError):
    """An error raised by the API layer itself (auth, freshness, paging)."""

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.code = code


def unauthenticated(message: str = "an API key is required") -> ApiError:
    return ApiError("UNAUTHENTICATED", message)


def forbidden(message: str) -> ApiError:
    return ApiError("FORBIDDEN", message)


#: Failures that are the client's or the moment's, not the server's: (kinds, code, message).
_KNOWN_FAILURES: tuple[tuple[tuple[type[Exception], ...], str, str], ...] = (
    (DATABASE_DOWN, "UNAVAILABLE", "the database is unavailable; retry shortly"),
    (UNSTORABLE_TEXT, "INVALID_INPUT", "text may not contain a NUL or an unpaired surrogate"),
    (CANCELLED, "TIMEOUT", "the query took too long and was cancelled; ask for less"),
)


class TypedErrors(FastErrorCheck):
    """Give every error a code; hide everything that is not a known, typed error."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda _: True, error_message="Internal server error")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, DomainError):
            message, field = _as_sent(original)
            extensions: dict[str, object] = {"code": original.code}
            if field:
                extensions["field"] = field
            return _copy(error, message, extensions)
        for kinds, code, message in _KNOWN_FAILURES:
            if isinstance(original, kinds):
                if code == "UNAVAILABLE":
                    logger.warning("database unavailable in %s: %s", error.path, original)
                return _copy(error, message, {"code": code})
        if isinstance(original, GraphQLError):  # a variable graphql-core could not coerce
            code = (error.extensions or {}).get("code", "BAD_USER_INPUT")
            return _copy(error, error.message, {**(error.extensions or {}), "code": code})
        if original is None:  # a parse or validation error: the client's to fix
            code = (error.extensions or {}).get("code", "GRAPHQL_VALIDATION_FAILED")
            return _copy(error, error.message, {**(error.extensions or {}), "code": code})
        logger.error("unexpected error in %s", error.path, exc_info=original)
        return _copy(error, self.error_message, {"code": "INTERNAL_SERVER_ERROR"})


def _as_sent(error: DomainError) -> tuple[str, str | None]:
    """The message and field of a domain error, naming a place or actor the domain could not
    find as the client named it (its slug or global id, in its own argument), not by the
    UUID the domain knows it by."""
    kind = {UnknownPlace: "place", UnknownActor: "actor"}.get(type(error))
    if kind is not None and error.field:
        try:
            named = ids.sent(UUID(error.field))
        except ValueError:
            named = None
        if named is not None:
            ref, field = named
            return f"no {kind} {ref!r}", field
    return error.message, error.field


class FrontlineSchema(strawberry.Schema):
    """Strawberry's schema, minus an ERROR log with a traceback for every client mistake."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        unexpected = []
        for error in errors:
            if isinstance(error, GraphQLSyntaxError):
                # A syntax error is returned before any extension sees it (TypedErrors never
                # runs), so it gets its code here, on the very object the client receives.
                code = (error.extensions or {}).get("code", "GRAPHQL_PARSE_FAILED")
                error.extensions = {**(error.extensions or {}), "code": code}
            if error.original_error is None or isinstance(
                error.original_error,
                (DomainError, GraphQLError, *UNSTORABLE_TEXT, *CANCELLED, *DATABASE_DOWN),
            ):
                logger.debug("refused: %s (%s)", error.message, error.path)
            else:
                unexpected.append(error)
        super().process_errors(unexpected, execution_context)


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
