"""The executor every operation runs on: Strawberry's, with subscription events shared.

Two changes to how graphql-core 3.3 runs subscription events, each on a shallow copy of the
subscription's executor (``build_per_event_executor``):

- **A leak stopped.** Each event starts with a subfield memo of its own
  (api.graphql.patches.graphql_core says why: the shared one kept every item for ever).
- **One execution per row and selection.** A thousand browsers following the same live map
  send the same subscription; executing its selection a thousand times for every new row
  was most of the fan-out's cost (bench: "append → subscriber receipt"). The first
  subscriber to reach a row executes it; the others with the same operation and the same
  values for the variables the selection uses get that result (``SharedEvents``).
  Sharing is sound because an item's rendering depends only on the row, the selection and
  its variables: the root field's arguments (``after``, filters) choose *which* rows a
  subscriber gets, never how one looks, and every subscriber passed the same read check to
  subscribe. Results with errors are never shared.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Hashable
from inspect import isawaitable
from typing import Any, Final, cast

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentSpreadNode,
    OperationDefinitionNode,
    VariableNode,
    Visitor,
    visit,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from api.graphql.patches.graphql_core import fresh_subfield_memo

SHARED_EVENTS: Final = 4096  # rows × distinct selections remembered; all arrive within ms


class SharedEvents:
    """Single-flight results of subscription events, in a bounded LRU."""

    def __init__(self, capacity: int = SHARED_EVENTS) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[Hashable, tuple[object, asyncio.Future[Any]]] = OrderedDict()
        self.executed = 0
        self.shared = 0

    async def result(
        self, key: Hashable, operation: object, execute: Callable[[], Any]
    ) -> ExecutionResult:
        entry = self._entries.get(key)
        # `is operation`: the key holds the operation's id, which could be reused once the
        # parser cache dropped it; the entry keeps it alive and proves it is the same.
        if entry is not None and entry[0] is operation:
            shared: ExecutionResult | None = await asyncio.shield(entry[1])
            if shared is not None:
                self.shared += 1
                return shared
            return await _settled(execute())
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._entries[key] = (operation, future)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)
        try:
            result = await _settled(execute())
        except BaseException:
            self._forget(key, future)
            raise
        self.executed += 1
        if result.errors:
            self._forget(key, future)
        else:
            future.set_result(result)
        return result

    def _forget(self, key: Hashable, future: asyncio.Future[Any]) -> None:
        """Waiters execute on their own; the entry goes."""
        future.set_result(None)
        if self._entries.get(key, (None, None))[1] is future:
            del self._entries[key]


async def _settled(value: Any) -> ExecutionResult:
    result: ExecutionResult = await value if isawaitable(value) else value
    return result


SHARED = SharedEvents()


class FrontlineExecutionContext(StrawberryGraphQLCoreExecutionContext):
    _event_key: Hashable | None = None

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = cast("FrontlineExecutionContext", super().build_per_event_executor(payload))
        fresh_subfield_memo(executor)
        cursor = getattr(payload, "cursor", None)
        if isinstance(cursor, str):  # every subscription item carries its row's cursor
            used = selection_variables(self.operation, self.fragment_definitions)
            values = self.variable_values.coerced
            executor._event_key = (
                cursor,
                id(self.operation),
                repr(sorted((name, values.get(name)) for name in used)),
            )
        return executor

    def execute_operation(self, serially: bool | None = None) -> Any:
        key = self._event_key
        if key is None:
            return super().execute_operation(serially)
        run = super().execute_operation
        return SHARED.result(key, self.operation, lambda: run(serially))


_USED: dict[int, tuple[OperationDefinitionNode, frozenset[str]]] = {}


def selection_variables(
    operation: OperationDefinitionNode, fragments: dict[str, Any]
) -> frozenset[str]:
    """The variables an operation's root field's *selection* uses (not its arguments)."""
    known = _USED.get(id(operation))
    if known is not None and known[0] is operation:
        return known[1]
    names: set[str] = set()
    seen: set[str] = set()
    pending: list[Any] = []
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.selection_set is not None:
                pending.append(selection.selection_set)
        else:  # a fragment at the root: play safe, every argument counts
            pending.append(selection)

    class Collect(Visitor):
        def enter_variable(self, node: VariableNode, *_: Any) -> None:
            names.add(node.name.value)

        def enter_fragment_spread(self, node: FragmentSpreadNode, *_: Any) -> None:
            if node.name.value not in seen and node.name.value in fragments:
                seen.add(node.name.value)
                pending.append(fragments[node.name.value])

    while pending:
        visit(pending.pop(), Collect())
    used = frozenset(names)
    if len(_USED) > SHARED_EVENTS:
        _USED.clear()
    _USED[id(operation)] = (operation, used)
    return used
