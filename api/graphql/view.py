"""The ASGI GraphQL endpoint: builds each request's context from the app's shared resources."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.types.unset import UnsetType

from api.auth import authenticate, bearer
from api.database import DATABASE_DOWN
from api.fanout import plan
from api.graphql.context import Context
from api.graphql.encoding import decode, encode
from readmodel.projector import projected_position


class SharingTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, with live subscriptions shared where they can be (api.fanout)."""

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        fanout = self.context.fanout
        shared = None
        if fanout is not None and self.context.can_read():
            shared = plan(operation.query, operation.variables, operation.operation_name)
        if shared is None or fanout is None:
            await self.run_alone(operation)
            return
        try:
            await fanout.serve(self, operation, shared)
        except Exception as error:  # as the base class does for its own operations
            await self.handle_task_exception(error)
            with suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise

    async def run_alone(self, operation: Operation[Context, None]) -> None:
        """Strawberry's own path: one stream for this operation."""
        await super().run_operation(operation)


class FrontlineGraphQL(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = SharingTransportWSHandler

    def encode_json(self, data: object) -> str:
        """Responses (HTTP and WebSocket) by orjson, which is faster than ``json.dumps`` and
        splices pre-encoded JSON (``controlMapGeoJson``). A str, not bytes: bytes would go
        out as binary WebSocket frames, which graphql-transport-ws clients refuse."""
        return encode(data)

    def decode_json(self, data: str | bytes) -> object:
        return decode(data)

    def parse_json(self, data: str | bytes) -> Any:
        """A GraphQL-over-HTTP body is a JSON object: anything else is the client's 400
        (Strawberry would fail on a bare string or a number with a 500)."""
        parsed = super().parse_json(data)
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
            fanout=resources.fanout,
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
