"""The ASGI GraphQL endpoint: builds each request's context from the app's shared resources."""

from __future__ import annotations

import asyncio
import time
from contextlib import suppress
from datetime import timedelta
from typing import Any, Final, cast

from cross_web import HTTPException
from graphql import GraphQLError, GraphQLFormattedError, OperationType
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.schema.base import BaseSchema
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ErrorMessage,
    SubscribeMessage,
)
from strawberry.types import ExecutionResult
from strawberry.types.unset import UnsetType

from api.access import PRINCIPAL, request_principal
from api.auth import authenticate, bearer, still_valid
from api.graphql import ids
from api.graphql.context import REVOKED, Context
from api.graphql.encoding import OversizedValue, decode, encode
from api.graphql.over_http import (
    REQUEST_ERROR,
    error_response,
    is_request_error,
    wants_graphql_response,
)
from api.graphql.prepared import PreparingSchema
from api.live.fanout import operation_names, operation_type, plan
from api.metrics import (
    CURRENT,
    UNAVAILABLE,
    RequestOperation,
    cancelled_code,
    note_codes,
    note_operation,
    note_replica,
)
from api.middleware import TIMEOUT
from readmodel.connections import DATABASE_DOWN
from readmodel.projector import projected_position

CONNECTION_INIT_WAIT: Final = timedelta(seconds=5)
#: A subscription sent without a stream to deliver it on.
STREAM_REQUIRED: Final = "STREAM_REQUIRED"


class Refused(HTTPException):
    """A request refused before GraphQL runs, with the response to give."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code, "refused")
        self.response = response


def request_error(method: str, request: GraphQLRequestData) -> GraphQLError | None:
    """What the specs refuse that Strawberry would run or answer otherwise:

    - a hash-only request (automatic persisted queries): ``PERSISTED_QUERY_NOT_SUPPORTED``,
      the error Apollo's persisted-queries link falls back on (it then sends the query);
    - several operations and no ``operationName``: the GraphQL spec's request error
      (Strawberry ran the first);
    - a mutation over GET: ``405`` with ``Allow: POST`` (the GraphQL-over-HTTP spec's MUST);
    - a subscription sent as a plain request: there is no stream to deliver it on.
    """
    extensions = request.extensions or {}
    if request.query is None and "persistedQuery" in extensions:
        return GraphQLError(
            "PersistedQueryNotSupported", extensions={"code": "PERSISTED_QUERY_NOT_SUPPORTED"}
        )
    if not request.query:
        return None  # Strawberry's own answer (400) stands
    operations = operation_names(request.query)
    if operations is not None and len(operations) > 1 and request.operation_name is None:
        return GraphQLError(
            "the document holds several operations: name one with operationName",
            extensions={"code": "GRAPHQL_VALIDATION_FAILED"},
        )
    kind = operation_type(request.query, request.operation_name)
    if kind is OperationType.MUTATION and method == "GET":
        raise Refused(
            error_response(
                405, "METHOD_NOT_ALLOWED", "a mutation is sent by POST", {"Allow": "POST"}
            )
        )
    if kind is OperationType.SUBSCRIPTION:
        message = (
            "a subscription needs a stream: a WebSocket (graphql-transport-ws) or "
            "Server-Sent Events (Accept: text/event-stream)"
        )
        return GraphQLError(message, extensions={"code": STREAM_REQUIRED})
    return None


def error_message(operation_id: str, code: str, message: str) -> ErrorMessage:
    """A graphql-transport-ws `error`: the operation ends with one coded error."""
    error = cast("GraphQLFormattedError", {"message": message, "extensions": {"code": code}})
    return ErrorMessage(id=operation_id, type="error", payload=[error])


def too_large(data: object, size: int, limit: int) -> dict[str, object]:
    """What replaces a response over the size limit (a subscription item keeps its id)."""
    message = f"the response would be {size:,} bytes, over the limit of {limit:,}"
    error = {"message": message, "extensions": {"code": "RESPONSE_TOO_LARGE"}}
    if isinstance(data, dict) and "type" in data and "id" in data:  # a WebSocket message
        return {"id": data["id"], "type": "error", "payload": [error]}
    return {"data": None, "errors": [error]}


class SharingTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, with live subscriptions shared where they can be (api.live.fanout),
    and a socket's bounds: every operation it starts re-checks its key (a revoked key gets
    an ``UNAUTHENTICATED`` error and the socket closes with 4403; open subscriptions notice
    within ``KEY_RECHECK_SECONDS``), queries and mutations get the request deadline, and at
    most FRONTLINE_MAX_OPERATIONS_PER_SOCKET operations run at once."""

    view: FrontlineGraphQL

    async def handle(self) -> None:
        try:
            await super().handle()
        finally:
            context = self.context
            if context.socket_slot is not None and context.sockets is not None:
                context.sockets.release(context.socket_slot)
                context.socket_slot = None

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not self.connection_acknowledged:
            await super().handle_subscribe(message)  # Strawberry closes it with 4401
            return
        operation_id = message["id"]
        if not await self._key_still_valid(operation_id):
            return
        if len(self.operations) >= self.view.max_operations_per_socket:
            limit = self.view.max_operations_per_socket
            await self._refuse(
                operation_id,
                "TOO_MANY_OPERATIONS",
                f"at most {limit} operations may run at once on one socket",
            )
            return
        await super().handle_subscribe(message)

    async def _key_still_valid(self, operation_id: str) -> bool:
        principal = self.context.principal
        if principal is None:
            return True
        try:
            async with self.context.pool.acquire() as conn:
                valid = await still_valid(conn, principal)
        except DATABASE_DOWN:
            await self._refuse(operation_id, "UNAVAILABLE", "the database is unavailable")
            return False
        if not valid:
            await self._refuse(operation_id, "UNAUTHENTICATED", REVOKED)
            await self.close_revoked()
        return valid

    async def _refuse(self, operation_id: str, code: str, message: str) -> None:
        with suppress(Exception):  # the client may be gone
            await self.send_message(error_message(operation_id, code, message))

    async def close_revoked(self) -> None:
        self.context.principal = None
        with suppress(Exception):
            await self.websocket.close(code=4403, reason=REVOKED)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        kind = operation_type(operation.query, operation.operation_name)
        if kind is OperationType.SUBSCRIPTION:
            await self._run(operation)
        else:  # a query or a mutation: the request deadline, as over HTTP
            deadline = self.view.request_timeout_seconds
            try:
                async with asyncio.timeout(deadline):
                    await self._run(operation)
            except TimeoutError:
                message = f"the operation did not complete within {deadline:g} s"
                with suppress(Exception):
                    await operation.send_operation_message(
                        error_message(operation.id, TIMEOUT, message)
                    )
        if self.context.key_revoked:
            await self.close_revoked()

    async def _run(self, operation: Operation[Context, None]) -> None:
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
    """Strawberry's ASGI view, with the server's limits. Subscriptions over WebSocket
    (graphql-transport-ws only: the legacy graphql-ws subprotocol of subscriptions-transport-ws,
    unmaintained since 2022, answered its queries and mutations with INTERNAL_SERVER_ERROR,
    and a client asking only for it is refused with 4406), and over Server-Sent Events
    (GraphQL over SSE, distinct connections: ``Accept: text/event-stream``)."""

    graphql_transport_ws_handler_class = SharingTransportWSHandler

    def __init__(
        self,
        schema: BaseSchema,
        *,
        max_operations_per_socket: int = 25,
        request_timeout_seconds: float = 10.0,
        max_response_bytes: int = 16 * 1024 * 1024,
    ) -> None:
        # Strawberry's IDE loads GraphiQL from a CDN; api.playground serves it offline.
        super().__init__(
            schema,
            graphql_ide=None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_SSE_PROTOCOL),
            # Strawberry's own cap answers without a code; ours (handle_subscribe) has one.
            max_subscriptions_per_connection=None,
            # A socket that never says connection_init is closed (4408) after this, not a
            # minute: idle sockets are the cheapest way to hold connections.
            connection_init_wait_timeout=CONNECTION_INIT_WAIT,
        )
        self.max_operations_per_socket = max_operations_per_socket
        self.request_timeout_seconds = request_timeout_seconds
        self.max_response_bytes = max_response_bytes

    def encode_json(self, data: object) -> str:
        """Responses (HTTP and WebSocket) by orjson, which is faster than ``json.dumps`` and
        splices pre-encoded JSON (``controlMapGeoJson``). A str, not bytes: bytes would go
        out as binary WebSocket frames, which graphql-transport-ws clients refuse. A result
        larger than FRONTLINE_MAX_RESPONSE_BYTES is replaced by a RESPONSE_TOO_LARGE error
        (the cost limit keeps this rare; it is the backstop, checked once encoded)."""
        text = encode(data)
        if len(text) > self.max_response_bytes:  # characters ≤ bytes: a cheap first test
            size = len(text.encode())
            if size > self.max_response_bytes:
                return encode(too_large(data, size, self.max_response_bytes))
        return text

    def decode_json(self, data: str | bytes) -> object:
        return decode(data)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Strawberry answers the errors it raises before GraphQL runs in plain text; here
        they are GraphQL error documents, with the headers some of them need."""
        metrics = scope["state"]["resources"].metrics
        if scope["type"] != "http":
            metrics.sockets.inc()
            try:
                await super().__call__(scope, receive, send)
            finally:
                metrics.sockets.dec()
            return
        request = Request(scope=scope, receive=receive)
        started, operation = time.perf_counter(), RequestOperation()
        token = CURRENT.set(operation)
        try:
            response = await self._answer(request, scope)
            replica = operation.replica
            if replica is not None and operation.type == "query" and UNAVAILABLE in operation.codes:
                # The replica it read from went away under it: once more on the primary
                # (a query writes nothing), and the replica is bypassed from now on.
                scope["state"]["resources"].reads.bypass(replica)
                operation.replica, operation.codes = None, []
                response = await self._answer(request, scope)
            await response(scope, receive, send)
        except asyncio.CancelledError:  # stopped by api.middleware.RequestDeadline
            metrics.count_errors([{"extensions": {"code": cancelled_code(scope)}}])
            raise
        finally:
            CURRENT.reset(token)
            metrics.observe(operation, time.perf_counter() - started)

    async def _answer(self, request: Request, scope: Scope) -> Response:
        try:
            response = await self._answer_prepared(request) if _plain_post(scope) else None
            if response is None:
                response = await self.run(request)
        except Refused as refused:
            return refused.response
        except HTTPException as error:
            metrics = scope["state"]["resources"].metrics
            metrics.count_errors([{"extensions": {"code": "BAD_REQUEST"}}])
            return error_response(error.status_code, "BAD_REQUEST", error.reason)
        return response

    async def _answer_prepared(self, request: Request) -> Response | None:
        """A JSON POST of a text the schema has validated before (api.graphql.prepared),
        answered without Strawberry's generic request handling: its request adapter, its
        content-type parser, its stream-transport lookup and the operation-type checks a
        prepared text has passed already (~100 µs of a small query's ~640, cProfile).
        Anything else (None) takes Strawberry's path, which reads the same cached body."""
        data = self.parse_json(await request.body())
        if not isinstance(data, dict) or data.get("extensions") is not None:
            return None
        query, variables, name = data.get("query"), data.get("variables"), data.get("operationName")
        if not isinstance(query, str) or not isinstance(variables, dict | None):
            return None
        if not isinstance(name, str | None):
            return None
        schema = self.schema
        if not isinstance(schema, PreparingSchema):
            return None
        prepared = schema.prepared.get(query, name)
        if prepared is None:
            return None
        note_operation(prepared.type.value, prepared.operation_name)
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, response=sub_response)
        result = await schema.execute_prepared(prepared, variables, context)
        return self.create_response(await self.process_result(request, result), sub_response)

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """The request errors Strawberry lets through or answers oddly, as the GraphQL and
        GraphQL-over-HTTP specs have them (see ``request_error``)."""
        refusal = request_error(request_adapter.method, request_data)
        if refusal is not None:
            return ExecutionResult(data=None, errors=[refusal])
        return await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )

    async def process_result(self, request: Request, result: ExecutionResult) -> Any:
        response = await super().process_result(request, result)
        request.state.resources.metrics.count_errors(response.get("errors"))
        note_codes(response.get("errors"))
        if is_request_error(result.data, result.errors):
            # Nothing ran: a 400 with no `data` for clients of application/graphql-response
            # +json (api.graphql.over_http.GraphQLMedia sets the status).
            setattr(request.state, REQUEST_ERROR, True)
            if wants_graphql_response(request.headers):
                response.pop("data", None)
        return response

    def parse_json(self, data: str | bytes) -> Any:
        """A GraphQL-over-HTTP body is a JSON object: anything else is the client's 400
        (Strawberry would fail on a bare string or a number with a 500)."""
        try:
            parsed = super().parse_json(data)
        except HTTPException as error:
            if isinstance(error.__cause__, OversizedValue):
                raise HTTPException(400, error.__cause__.message) from None
            raise
        if not isinstance(parsed, dict | list):
            raise HTTPException(400, "expected a JSON object")
        return parsed

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        ids.noting()  # references this request sends, to name them back in errors
        resources = request.state.resources
        pool = resources.pool
        if isinstance(request, Request):  # api.access.ReadGate looked the key up
            principal = getattr(request.state, PRINCIPAL, None)
        else:
            try:
                principal = await request_principal(request, pool)
            except DATABASE_DOWN:
                raise HTTPException(503, "the database is unavailable; retry shortly") from None

        # HTTP queries read from a streaming replica when one is usable (api.replicas);
        # sockets and event streams stay on the primary, whose projection wakes their
        # subscriptions.
        reads = resources.reads
        read_pool = pool
        if (
            reads is not None
            and isinstance(request, Request)
            and not _asks_event_stream(request.scope)
        ):
            read_pool = reads.choose()
            if read_pool is not pool:
                note_replica(read_pool)  # a query that finds it gone runs again on the primary

        async def projected() -> int:  # of the pool the request reads from now
            async with context.pool.acquire() as conn:
                return await projected_position(conn)

        context = Context(
            pool=read_pool,
            primary=pool if read_pool is not pool else None,
            application=resources.application,
            principal=principal,
            open_reads=resources.settings.open_reads,
            projected=projected,
            broadcaster=resources.broadcaster,
            fanout=resources.fanout,
            sockets=resources.sockets,
            importers=resources.importers,
            metrics=resources.metrics,
        )
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """A WebSocket's `connection_init` may carry the key (browsers cannot set headers on
        a WebSocket): ``{"Authorization": "Bearer <key>"}`` or ``{"apiKey": "<key>"}``. It is
        checked like the HTTP header and replaces it; with closed reads, anonymous sockets
        are refused (closed with 4403) before they can subscribe. A key may hold at most
        FRONTLINE_MAX_SOCKETS_PER_KEY sockets at once in this process (4403 past it)."""
        key = socket_key(context.connection_params or {})
        if key is not None:
            async with context.pool.acquire() as conn:
                context.principal = await authenticate(conn, key)
        if context.principal is None and not context.open_reads:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        if context.principal is not None and context.sockets is not None:
            if not context.sockets.acquire(context.principal.key_id):
                raise ConnectionRejectionError({"code": "TOO_MANY_SOCKETS"})
            context.socket_slot = context.principal.key_id
        return UnsetType()  # acknowledge, with no payload


def _plain_post(scope: Scope) -> bool:
    """A POST of ``application/json`` that does not ask for an event stream."""
    if scope["method"] != "POST" or _asks_event_stream(scope):
        return False
    content_type = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
    return content_type.partition(b";")[0].strip().lower() == b"application/json"


def _asks_event_stream(scope: Scope) -> bool:
    """Whether any Accept header names ``text/event-stream`` (GraphQL over SSE): looser than
    an exact media-type match, so nothing Strawberry may serve as a stream is taken for a
    plain query."""
    return any(k == b"accept" and b"text/event-stream" in v.lower() for k, v in scope["headers"])


def socket_key(params: dict[str, object]) -> str | None:
    """The API key in a `connection_init` payload, if any."""
    for name in ("Authorization", "authorization"):
        value = params.get(name)
        if isinstance(value, str):
            return bearer(value)
    value = params.get("apiKey")
    return value if isinstance(value, str) else None
