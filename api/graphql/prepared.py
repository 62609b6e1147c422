"""Operations already parsed and validated, executed without Strawberry's per-request layers.

Clients send the same few query texts again and again. For a text Strawberry has parsed and
validated once (every limit included: tokens, depth, aliases, repeats, cost — all decided by
the text alone, variables counting as the page cap), what it does again each time is build
five extensions, enter and leave their hooks, look the text up in its parser and validation
caches, and wrap graphql-core's result: ~230 µs of a small query's ~950 (cProfile, bench
"small query"), a quarter of the request.

``PreparingSchema.execute`` keeps, in a bounded LRU, the documents that reached execution on
Strawberry's path (``Remember``: ``on_execute`` runs only once parsing and every validation
rule passed), and runs a known text straight through graphql-core's ``execute`` — the same
function Strawberry calls, on the same schema, executor class and context — then gives its
errors what Strawberry's path gives them: the schema's ``process_errors`` (logging) and
``TypedErrors``' masking, the only extension that touches a result. Anything else (a new
text, operation extensions, an operation type the transport does not allow) takes
Strawberry's path unchanged. tests/e2e/test_prepared_operations.py asserts that a
text's first answer (Strawberry's path) and later answers (this one) are the same, errors
included.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final

from graphql import DocumentNode, GraphQLError
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import execute as graphql_execute
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.extensions import SchemaExtension
from strawberry.schema._graphql_core import execution_context_class_kwargs
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.utils.await_maybe import await_maybe
from strawberry.utils.operation import get_operation_type

from api.graphql.errors import FrontlineSchema, TypedErrors
from api.metrics import note_operation

#: Distinct (text, operation name) pairs kept; a flood of distinct texts only evicts.
PREPARED_OPERATIONS: Final = 256
#: Longer texts are answered on Strawberry's path every time: the token limit bounds a
#: text's tokens, not its length (one string literal is one token), and the cache must not
#: hold 256 of the longest bodies a client may send.
PREPARED_TEXT_MAX: Final = 20_000
#: Subscriptions run through ``subscribe``, never ``execute``: only these are kept.
PREPARABLE: Final = frozenset({OperationType.QUERY, OperationType.MUTATION})


@dataclass(frozen=True, slots=True)
class Prepared:
    document: DocumentNode
    type: OperationType
    operation_name: str | None  # as Strawberry resolved it (the only operation's, if unnamed)


class PreparedOperations:
    """A bounded LRU of validated documents by (query text, operation name)."""

    def __init__(self, capacity: int = PREPARED_OPERATIONS) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[tuple[str, str | None], Prepared] = OrderedDict()

    def get(self, query: str, operation_name: str | None) -> Prepared | None:
        key = (query, operation_name)
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def remember(self, query: str, operation_name: str | None, prepared: Prepared) -> None:
        self._entries[(query, operation_name)] = prepared
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


#: The (text, operation name) that ``PreparingSchema.execute`` hands to Strawberry's path:
#: Strawberry's execution context does not say which name the client sent (``operation_name``
#: falls back to the document's only operation).
_SENT: ContextVar[tuple[str, str | None] | None] = ContextVar("frontline_sent", default=None)


class Remember(SchemaExtension):
    """Notes each query or mutation that reached execution (its text passed every check),
    and tells /metrics what the request runs."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        schema = context.schema
        document = context.graphql_document
        sent = _SENT.get()
        if document is None:
            yield
            return
        name = context.operation_name
        kind = get_operation_type(document, name)
        note_operation(kind.value, name)  # for /metrics
        if (
            isinstance(schema, PreparingSchema)
            and sent is not None
            and sent[0] is context.query  # this execution's own text, not an earlier one's
            and len(sent[0]) <= PREPARED_TEXT_MAX
            and not context.operation_extensions
            and kind in PREPARABLE
        ):
            schema.prepared.remember(*sent, Prepared(document, kind, name))
        yield


class PreparingSchema(FrontlineSchema):
    """The schema, answering texts it has validated before without re-running the checks."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # What Strawberry's path would add to every field and this one does not: resolver
        # middleware (extensions with a ``resolve`` hook) and custom directives. None today;
        # one added later must not be skipped unseen.
        hooked = [e for e in self.get_extensions() if e._implements_resolve()]
        if hooked or self.directives:
            raise TypeError(f"the prepared path cannot run {hooked or self.directives}")
        self.prepared = PreparedOperations()
        self._masking = TypedErrors()
        self._executor = execution_context_class_kwargs(self.execution_context_class)

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        allowed = (
            DEFAULT_ALLOWED_OPERATION_TYPES
            if allowed_operation_types is None
            else allowed_operation_types
        )
        prepared = None
        # Strawberry answers a malformed name (an object, a list) with its own 400.
        if isinstance(query, str) and isinstance(operation_name, str | None):
            prepared = self.prepared.get(query, operation_name)
        if prepared is None or operation_extensions or prepared.type not in allowed:
            sent = (query, operation_name) if isinstance(query, str) else None
            token = _SENT.set(sent if isinstance(operation_name, str | None) else None)
            try:
                return await super().execute(
                    query,
                    variable_values,
                    context_value,
                    root_value,
                    operation_name,
                    allowed_operation_types,
                    operation_extensions,
                )
            finally:
                _SENT.reset(token)
        return await self.execute_prepared(prepared, variable_values, context_value, root_value)

    async def execute_prepared(
        self,
        prepared: Prepared,
        variable_values: dict[str, Any] | None,
        context_value: Any,
        root_value: Any = None,
    ) -> ExecutionResult:
        """Run a remembered document straight through graphql-core (see the module)."""
        try:
            result = await await_maybe(
                graphql_execute(
                    self._schema,
                    prepared.document,
                    root_value=root_value,
                    context_value=context_value,
                    variable_values=variable_values,
                    operation_name=prepared.operation_name,
                    is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type] # as Strawberry
                    operation_extensions=None,
                    **self._executor,
                )
            )
        except Exception as error:  # as on Strawberry's path: a masked error
            failed = (
                error
                if isinstance(error, GraphQLError)
                else GraphQLError(str(error), original_error=error)
            )
            result = GraphQLExecutionResult(data=None, errors=[failed])
        errors = result.errors
        if errors:
            self._process_errors(errors)
            errors = self._masking._process_errors(errors)
        return ExecutionResult(data=result.data, errors=errors, extensions={})
