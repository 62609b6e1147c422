"""Live subscriptions that many sockets share: one stream executes, every socket gets a frame.

A thousand browsers on one live map send the same subscription. Run separately, each socket
pays Strawberry's whole per-operation stream for every new row (extension hooks, result
handling, encoding) — most of the fan-out's cost even with each row executed once
(``api.graphql.execution``). Here the sockets that follow the same live stream — same query
text, same variables, same operation, starting from now — form a ``Group``: one *leader*
stream runs on a context of its own, each of its results is encoded once into the text of a
``next`` message's payload, and every member only wraps that text with its own operation id.

What each member keeps from the per-socket path:

- **Its own pace.** Every member has a bounded queue and its own sender task: a socket that
  does not read stalls only itself. When its queue is full it leaves the group and goes on
  with a stream of its own from the cursor of the last frame it was given (the query gets
  ``after: <that cursor>``), through the database like any late subscriber: nothing missed,
  nothing twice. So a shared stream must select its root field's ``cursor``.
- **Its own key.** Members join only if their socket may read, and re-check their key as the
  per-socket path does (``KeyWatch``): revoked, with closed reads, the member's stream ends
  with UNAUTHENTICATED while the others go on.

Anything else — a cursor to resume from (catch-up differs per socket), several root fields,
fragments at the root, no ``cursor`` — takes Strawberry's per-socket path unchanged.

"From now" is the group's now: a socket that joins gets the leader's frames from wherever
the leader is, which can be a few rows before the socket's own subscribe if the leader is
still paging through a burst. Nothing is missed either way; a client that read the feed just
before subscribing may see those rows twice (cursors tell).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Hashable
from dataclasses import dataclass, field, replace
from typing import Any, Final

import orjson
from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    GraphQLError,
    NameNode,
    NullValueNode,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
    VariableNode,
    Visitor,
    parse,
    print_ast,
    visit,
)
from starlette.websockets import WebSocketDisconnect
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from api.bounds import MAX_TOKENS
from api.graphql.context import Context, KeyWatch
from api.graphql.encoding import encode
from api.graphql.errors import ApiError
from api.graphql.patches.strawberry import write_frame

logger = logging.getLogger(__name__)

SHARED_FIELDS: Final = frozenset({"incidents", "controlChanges", "logEntries"})
UNAUTHENTICATED: Final = {
    "data": None,
    "errors": [{"message": "an API key is required", "extensions": {"code": "UNAUTHENTICATED"}}],
}
_PARSED: dict[str, DocumentNode | None] = {}
_PARSED_MAX: Final = 256


@dataclass(frozen=True)
class Plan:
    """A subscription that may be shared: its root field's name, to find each cursor."""

    key: Hashable
    document: DocumentNode
    operation: OperationDefinitionNode
    root: FieldNode


def plan(query: str, variables: Any, operation_name: str | None) -> Plan | None:
    """The shared-stream plan of a subscribe message, or None if it must run on its own
    (including anything odd about it: Strawberry's own path then answers it)."""
    if variables is not None and not isinstance(variables, dict):
        return None
    try:
        return _plan(query, variables, operation_name)
    except (TypeError, ValueError, orjson.JSONEncodeError):  # e.g. an int wider than 64 bits
        return None


def _plan(query: str, variables: dict[str, Any] | None, operation_name: str | None) -> Plan | None:
    document = _parsed(query)
    if document is None:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation != OperationType.SUBSCRIPTION:
        return None
    operation = operations[0]
    selections = operation.selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode):
        return None
    root = selections[0]
    if (
        root.name.value not in SHARED_FIELDS
        or root.directives
        or root.alias is not None
        or not _selects_cursor(root)
        or _resumes(root, _with_defaults(operation, variables or {}))
    ):
        return None
    key = (query, orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS), operation_name)
    return Plan(key, document, operation, root)


def _with_defaults(operation: OperationDefinitionNode, variables: dict[str, Any]) -> dict[str, Any]:
    """The variables, with a marker for each one left to a non-null default."""
    found = dict(variables)
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        default = definition.default_value
        if name not in found and default is not None and not isinstance(default, NullValueNode):
            found[name] = default
    return found


def _resumes(root: FieldNode, variables: dict[str, Any]) -> bool:
    """Whether the subscription resumes after a cursor (``after`` given a value)."""
    for argument in root.arguments or ():
        if argument.name.value != "after":
            continue
        value = argument.value
        if isinstance(value, VariableNode):
            return variables.get(value.name.value) is not None
        return not isinstance(value, NullValueNode)
    return False


def operation_names(query: str) -> list[str | None] | None:
    """The names of the operations a document holds (None: it does not parse)."""
    document = _parsed(query) if isinstance(query, str) else None
    if document is None:
        return None
    return [
        d.name.value if d.name else None
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    ]


def operation_type(query: str, operation_name: str | None) -> OperationType | None:
    """Whether a subscribe message runs a query, a mutation or a subscription (None: it does
    not parse, or names no single operation; Strawberry's own path reports that)."""
    document = _parsed(query) if isinstance(query, str) else None
    if document is None:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    return operations[0].operation if len(operations) == 1 else None


def _parsed(query: str) -> DocumentNode | None:
    if query in _PARSED:
        return _PARSED[query]
    try:
        document: DocumentNode | None = parse(query, max_tokens=MAX_TOKENS)
    except GraphQLError:
        document = None  # Strawberry's own path reports it
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.clear()
    _PARSED[query] = document
    return document


def _selects_cursor(root: FieldNode) -> bool:
    selections = root.selection_set.selections if root.selection_set else ()
    return any(
        isinstance(s, FieldNode) and s.name.value == "cursor" and not s.alias and not s.directives
        for s in selections
    )


def resume(plan: Plan, operation: Any, cursor: str) -> None:
    """Make ``operation`` (a Strawberry Operation) the same subscription, resuming after
    ``cursor``: through its variable when ``after`` is one used nowhere else (rewriting the
    argument would leave that variable unused, which validation refuses), else by writing
    the argument into the query."""
    for argument in plan.root.arguments or ():
        value = argument.value
        if argument.name.value == "after" and isinstance(value, VariableNode):
            name = value.name.value
            if _uses(plan.document, name) == 1:
                operation.variables = {**(operation.variables or {}), name: cursor}
                return
    operation.query = resumed_after(plan, cursor)


def _uses(document: DocumentNode, name: str) -> int:
    count = 0

    class Count(Visitor):
        def enter_variable(self, node: VariableNode, *_: Any) -> None:
            nonlocal count
            count += node.name.value == name

    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            visit(definition.selection_set, Count())
        else:
            visit(definition, Count())
    return count


def resumed_after(plan: Plan, cursor: str) -> str:
    """The same subscription's text, resuming after ``cursor`` (a literal ``after``)."""
    after = ArgumentNode(name=NameNode(value="after"), value=StringValueNode(value=cursor))
    others_args = tuple(a for a in plan.root.arguments or () if a.name.value != "after")
    root = FieldNode(
        alias=None,
        name=plan.root.name,
        arguments=(*others_args, after),
        directives=plan.root.directives,
        selection_set=plan.root.selection_set,
    )
    operation = OperationDefinitionNode(
        operation=plan.operation.operation,
        name=plan.operation.name,
        variable_definitions=plan.operation.variable_definitions,
        directives=plan.operation.directives,
        selection_set=type(plan.operation.selection_set)(selections=(root,)),
    )
    others = tuple(d for d in plan.document.definitions if d is not plan.operation)
    return print_ast(DocumentNode(definitions=(operation, *others)))


# -- what the leader hands its members ---------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    payload: str  # the JSON of a `next` message's payload
    cursor: str | None


END: Final = object()  # the leader's stream is over: complete
# The leader was refused before execution (validation, variables): every member runs its
# own operation instead, so Strawberry answers each exactly as it would have.
ALONE: Final = object()


@dataclass(eq=False)
class Member:
    handler: Any  # the socket's graphql-transport-ws handler
    operation: Any  # its Operation (id, send_operation_message)
    queue: asyncio.Queue[Any]
    last_cursor: str | None = None  # of the last frame queued
    fell_behind: bool = False

    def offer(self, item: Any) -> bool:
        if self.fell_behind:
            return False
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.fell_behind = True
            return False
        if isinstance(item, Frame) and item.cursor is not None:  # an error result has none
            self.last_cursor = item.cursor
        return True


@dataclass(eq=False)
class Group:
    plan: Plan
    members: set[Member] = field(default_factory=set)
    leader: asyncio.Task[None] | None = None


class Fanout:
    """The shared live streams of one process."""

    def __init__(self, schema: Any, queue: int) -> None:
        """``queue``: frames a member may fall behind before it goes on alone. They are the
        leader's frames, shared by every member's queue, so a slot costs a pointer."""
        self.schema = schema
        self.queue = queue
        self.groups: dict[Hashable, Group] = {}

    def stats(self) -> dict[str, int]:
        members = sum(len(g.members) for g in self.groups.values())
        return {"sharedStreams": len(self.groups), "sharedMembers": members}

    async def serve(self, handler: Any, operation: Any, shared: Plan) -> None:
        """Run ``operation`` as a member of the group for ``shared`` until it ends."""
        member = Member(handler, operation, asyncio.Queue(self.queue))
        group = self.groups.get(shared.key)
        if group is None:
            group = self.groups[shared.key] = Group(shared)
            group.leader = asyncio.create_task(self._lead(group, handler.context, operation))
        group.members.add(member)
        try:
            await self._deliver(member, shared)
        finally:
            self._leave(group, member)

    def _leave(self, group: Group, member: Member) -> None:
        group.members.discard(member)
        self._prune(group)

    def _prune(self, group: Group) -> None:
        """A group nobody follows any more stops its leader."""
        if not group.members:
            self._retire(group)
            if group.leader is not None and group.leader is not asyncio.current_task():
                group.leader.cancel()

    def _retire(self, group: Group) -> None:
        """No one joins ``group`` from now on."""
        if self.groups.get(group.plan.key) is group:
            del self.groups[group.plan.key]

    async def _lead(self, group: Group, context: Context, first: Any) -> None:
        """Run the one stream of ``group`` and hand each result to every member."""
        # Its own context: a system reader whose key can't be revoked under the others, with
        # loaders of its own; members' keys are checked per member.
        own = replace(context, principal=None, open_reads=True, connection_params=None)
        root = group.plan.root.name.value
        try:
            results = await self.schema.stream(
                first.query,
                variable_values=first.variables,
                context_value=own,
                operation_name=first.operation_name,
            )
            async with contextlib.aclosing(results):
                async for result in results:
                    if isinstance(result, PreExecutionError) or not isinstance(
                        result, ExecutionResult
                    ):
                        self._end(group, ALONE)
                        return
                    self._publish(group, _frame(result, root))
                    if not group.members:  # all fell behind: nobody left to lead for
                        self._retire(group)
                        return
        except asyncio.CancelledError:
            self._retire(group)
            raise
        except Exception:
            logger.exception("shared subscription failed; its members go on alone")
            self._end(group, ALONE)
        else:
            self._end(group, END)

    def _end(self, group: Group, item: object) -> None:
        """The last word to every member; retired first, so nobody joins a finished group."""
        self._retire(group)
        self._publish(group, item)

    def _publish(self, group: Group, item: Any) -> None:
        for member in list(group.members):
            if not member.offer(item):
                group.members.discard(member)  # it goes on alone (see _deliver)

    async def _deliver(self, member: Member, shared: Plan) -> None:
        """Send the member's frames; on its own if it fell behind."""
        operation, handler = member.operation, member.handler
        prefix = f'{{"id":{encode(operation.id)},"type":"next","payload":'
        keys = KeyWatch(handler.context)
        while True:
            if member.fell_behind and member.queue.empty():
                await self._alone(member, shared)
                return
            item = await member.queue.get()
            if item is END:
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
                return
            if item is ALONE:  # from its last frame, if it had one
                await self._alone(member, shared)
                return
            with contextlib.suppress(ApiError):  # revoked: handler.context.key_revoked says so
                await keys.recheck()
            if handler.context.key_revoked or not handler.context.can_read():
                # As the per-socket path ends (_BetweenItems); the handler closes the socket.
                await operation.send_operation_message(
                    {"id": operation.id, "type": "next", "payload": UNAUTHENTICATED}
                )
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
                return
            if operation.completed:
                return
            try:
                await write_frame(handler, prefix + item.payload + "}")
            except (WebSocketDisconnect, OSError, RuntimeError):
                return  # the socket is gone; its handler is cleaning up

    async def _alone(self, member: Member, shared: Plan) -> None:
        """Go on as an ordinary subscription, right after the last frame this member got."""
        operation = member.operation
        if member.last_cursor is not None:
            resume(shared, operation, member.last_cursor)
        logger.info("subscription %s goes on alone", operation.id)
        await member.handler.run_alone(operation)


def _frame(result: ExecutionResult, root: str) -> Frame:
    """As Strawberry's ``Operation.send_next`` builds a `next` payload, encoded once."""
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [e.formatted for e in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    item = (result.data or {}).get(root) or {}
    return Frame(encode(payload), item.get("cursor"))
