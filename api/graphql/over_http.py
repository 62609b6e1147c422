"""GraphQL over HTTP as the spec (and the clients that follow it) expect it.

- **Media type.** A client that accepts ``application/graphql-response+json`` gets it. Then a
  *request error* — the document does not parse, does not validate, or its variables do not
  coerce, so nothing was executed — is answered ``400`` with no ``data`` entry at all; an
  execution that ran answers ``200`` as before. A client that accepts only
  ``application/json`` gets ``200`` for both, as GraphQL servers always did.
- A request error is told from an execution error by its shape: nothing executed, so
  ``data`` is null and no error has a ``path`` (a field error always has one).
- Errors raised before GraphQL runs (a body that is not JSON, an unsupported method) are JSON
  error documents too, never plain text; a mutation over GET is ``405`` with
  ``Allow: POST``, as the spec requires.

``GraphQLMedia`` applies the status and media type to the response the view produced; the
view (api.graphql.view) marks request errors in the request's state and drops their ``data``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

GRAPHQL_RESPONSE: Final = "application/graphql-response+json"
#: Where the view records that a request failed before execution (``request.state``).
REQUEST_ERROR: Final = "graphql_request_error"


def wants_graphql_response(headers: Mapping[str, str]) -> bool:
    """Whether the client accepts application/graphql-response+json (then it gets it)."""
    accept = headers.get("accept", "")
    return any(
        part.split(";", 1)[0].strip().lower() == GRAPHQL_RESPONSE for part in accept.split(",")
    )


def is_request_error(data: Any, errors: list[Any] | None) -> bool:
    """Nothing was executed: no data, and errors about the request, not about a field."""
    return data is None and bool(errors) and all(not getattr(e, "path", None) for e in errors or ())


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """A GraphQL error document for a request refused before GraphQL ran."""
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


class GraphQLMedia:
    """Answer in the media type the client asked for, with the spec's status codes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        if not wants_graphql_response(connection.headers):
            await self.app(scope, receive, send)
            return

        async def as_graphql_response(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, _graphql_media(value) if name == b"content-type" else value)
                    for name, value in message.get("headers", [])
                ]
                status = message["status"]
                if status == 200 and getattr(connection.state, REQUEST_ERROR, False):
                    status = 400
                message = {**message, "headers": headers, "status": status}
            await send(message)

        await self.app(scope, receive, as_graphql_response)


def _graphql_media(value: bytes) -> bytes:
    media, _, parameters = value.partition(b";")
    if media.strip().lower() != b"application/json":
        return value  # an event stream, a page: not ours to rename
    return GRAPHQL_RESPONSE.encode() + (b";" + parameters if parameters else b"")
