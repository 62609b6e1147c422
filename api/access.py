"""Who is calling over HTTP, decided once per request before GraphQL sees it.

With closed reads (``FRONTLINE_OPEN_READS=false``) a request without a valid key is refused
here with 401 ``UNAUTHENTICATED`` before its query is even parsed, so nothing answers an
anonymous caller: not ``fresh`` (which could hold a connection polling for seconds), not
introspection, not the "Did you mean …?" suggestions of a validation error. The principal
found is kept in the request's state for the GraphQL context: one key lookup per request.
WebSockets are gated at ``connection_init`` (api.graphql.view), the playground page and
/healthz by their own routes.
"""

from __future__ import annotations

from typing import Any, Final

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import Principal, Role, authenticate, bearer
from api.graphql.encoding import LONG_STRINGS
from api.graphql.over_http import error_response
from readmodel.connections import DATABASE_DOWN

#: Where the principal of an HTTP request is kept (``request.state.principal``).
PRINCIPAL: Final = "principal"


async def request_principal(connection: HTTPConnection, pool: Any) -> Principal | None:
    """The principal of the request's ``Authorization: Bearer`` key (None: anonymous, or a
    key that is unknown, revoked or wrong). Anonymous requests cost no database round trip."""
    key = bearer(connection.headers.get("authorization"))
    if key is None:
        return None
    async with pool.acquire() as conn:
        return await authenticate(conn, key)


def refusal(status: int, code: str, message: str) -> JSONResponse:
    """A GraphQL-shaped error response for requests refused before GraphQL runs."""
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return error_response(status, code, message, headers)


class ReadGate:
    """Authenticate every GraphQL HTTP request; with closed reads, refuse anonymous ones."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        resources = connection.state.resources
        try:
            principal = await request_principal(connection, resources.pool)
        except DATABASE_DOWN:
            response = refusal(503, "UNAVAILABLE", "the database is unavailable; retry shortly")
            await response(scope, receive, send)
            return
        if principal is None and not resources.settings.open_reads:
            response = refusal(401, "UNAUTHENTICATED", "an API key is required to read")
            await response(scope, receive, send)
            return
        setattr(connection.state, PRINCIPAL, principal)
        # An admin's request may carry a whole file (importAcled): strings as long as the
        # body limit allows. Everyone else's are held to MAX_STRING (api.graphql.encoding).
        admin = principal is not None and principal.role >= Role.ADMIN
        token = LONG_STRINGS.set(admin)
        try:
            await self.app(scope, receive, send)
        finally:
            LONG_STRINGS.reset(token)
