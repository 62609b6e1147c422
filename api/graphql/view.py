"""The ASGI GraphQL endpoint: builds each request's context from the app's shared resources."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from api.auth import authenticate, bearer
from api.graphql.context import Context
from readmodel.projector import projected_position


class FrontlineGraphQL(GraphQL[Context, None]):
    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        resources = request.state.resources
        pool = resources.pool
        key = bearer(request.headers.get("authorization"))
        async with pool.acquire() as conn:
            principal = await authenticate(conn, key)

        async def projected() -> int:
            async with pool.acquire() as conn:
                return await projected_position(conn)

        return Context(
            pool=pool,
            application=resources.application,
            principal=principal,
            open_reads=resources.settings.open_reads,
            projected=projected,
        )
