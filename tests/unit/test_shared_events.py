"""Subscription events executed once per row and selection (api.graphql.execution)."""

from __future__ import annotations

import asyncio

from graphql import ExecutionResult, GraphQLError, OperationDefinitionNode, parse

from api.graphql.execution import SharedEvents, selection_variables


def _operation(text: str) -> tuple[OperationDefinitionNode, dict[str, object]]:
    document = parse(text)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {d.name.value: d for d in document.definitions if d not in operations}  # type: ignore[attr-defined]
    return operations[0], fragments


def test_only_variables_of_the_selection_count_not_the_root_fields_arguments() -> None:
    operation, fragments = _operation(
        """subscription ($after: String, $f: IncidentFilter, $t: Instant) {
             incidents(after: $after, filter: $f) { cursor node { ...N } } }
           fragment N on Incident { id control(asOf: $t) { status } }"""
    )
    assert selection_variables(operation, fragments) == {"t"}


def test_a_selection_without_variables_is_shared_by_every_cursor() -> None:
    operation, fragments = _operation(
        "subscription ($after: String) { incidents(after: $after) { cursor node { id } } }"
    )
    assert selection_variables(operation, fragments) == frozenset()


def test_concurrent_subscribers_of_one_row_execute_it_once() -> None:
    shared = SharedEvents()
    operation = object()
    calls = 0

    async def execute() -> ExecutionResult:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return ExecutionResult(data={"n": calls})

    async def main() -> list[ExecutionResult]:
        return await asyncio.gather(
            *(shared.result(("1", 0, ""), operation, execute) for _ in range(50))
        )

    results = asyncio.run(main())
    assert calls == 1
    assert {id(r) for r in results} == {id(results[0])}
    assert (shared.executed, shared.shared) == (1, 49)


def test_a_result_with_errors_is_not_shared() -> None:
    shared = SharedEvents()
    operation = object()
    calls = 0

    async def execute() -> ExecutionResult:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return ExecutionResult(data=None, errors=[GraphQLError("boom")])

    async def main() -> None:
        await asyncio.gather(*(shared.result("k", operation, execute) for _ in range(3)))

    asyncio.run(main())
    assert calls == 3


def test_another_operation_under_a_reused_id_is_not_given_the_old_result() -> None:
    shared = SharedEvents()

    async def main() -> tuple[object, object]:
        first = await shared.result("k", object(), lambda: ExecutionResult(data={"a": 1}))
        second = await shared.result("k", object(), lambda: ExecutionResult(data={"b": 2}))
        return first.data, second.data

    assert asyncio.run(main()) == ({"a": 1}, {"b": 2})


def test_the_memory_is_bounded() -> None:
    shared = SharedEvents(capacity=10)

    async def main() -> None:
        for n in range(100):
            await shared.result(n, None, lambda: ExecutionResult(data={}))

    asyncio.run(main())
    assert len(shared._entries) == 10
