"""The ASGI GraphQL endpoint: builds each request's context from the app's shared resources."""

from __future__ import annotations

from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UnsetType

from api.auth import authenticate, bearer
from api.database import DATABASE_DOWN
from api.graphql.context import Context
from api.graphql.encoding import encode
from readmodel.projector import projected_position


class FrontlineGraphQL(GraphQL[Context, None]):
    def encode_json(self, data: object) -> str:
        """Responses (HTTP and WebSocket) by orjson, which is faster than ``json.dumps`` and
        splices pre-encoded JSON (``controlMapGeoJson``). A str, not bytes: bytes would go
        out as binary WebSocket frames, which graphql-transport-ws clients refuse."""
        return encode(data)

    def parse_json(self, data: str | bytes) -> Any:
        """A GraphQL-over-HTTP body is a JSON object: anything else is the client's 400
        (Strawberry would fail on a bare string, a number or undecodable bytes with a 500)."""
        try:
            parsed = super().parse_json(data)
        except (UnicodeDecodeError, RecursionError):  # RecursionError: JSON nested too deep
            raise HTTPException(400, "Unable to parse request body as JSON") from None
        if not isinstance(parsed, dict | list):
            raise HTTPException(400, "expected a JSON object")
        return parsed

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        resources = request.state.resources
        pool = resources.pool
        key = bearer(request.headers.get("authorization"))
        principal = None
        if key is not None:  # anonymous reads need no connection (bench: small queries)
            try:
                async with pool.acquire() as conn:
                    principal = await authenticate(conn, key)
            except DATABASE_DOWN:
                # Outside GraphQL execution an error would be a bare 500: say what it is.
                raise HTTPException(503, "the database is unavailable; retry shortly") from None

        async def projected() -> int:
            async with pool.acquire() as conn:
                return await projected_position(conn)

        return Context(
            pool=pool,
            application=resources.application,
            principal=principal,
            open_reads=resources.settings.open_reads,
            projected=projected,
            broadcaster=resources.broadcaster,
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """A WebSocket's `connection_init` may carry the key (browsers cannot set headers on
        a WebSocket): ``{"Authorization": "Bearer <key>"}`` or ``{"apiKey": "<key>"}``. It is
        checked like the HTTP header and replaces it; with closed reads, anonymous sockets
        are refused (closed with 4403) before they can subscribe."""
        key = socket_key(context.connection_params or {})
        if key is not None:
            async with context.pool.acquire() as conn:
                context.principal = await authenticate(conn, key)
        if context.principal is None and not context.open_reads:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        return UnsetType()  # acknowledge, with no payload


def socket_key(params: dict[str, object]) -> str | None:
    """The API key in a `connection_init` payload, if any."""
    for name in ("Authorization", "authorization"):
        value = params.get(name)
        if isinstance(value, str):
            return bearer(value)
    value = params.get("apiKey")
    return value if isinstance(value, str) else None
