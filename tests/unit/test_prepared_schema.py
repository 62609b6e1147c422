"""What api.graphql.prepared remembers, and that a remembered text skips Strawberry's path.

No database: the texts here fail or succeed before any resolver reads one (``__typename``,
validation errors), which is all the cache's rules are about.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from api.graphql.prepared import (
    PREPARED_TEXT_MAX,
    Prepared,
    PreparedOperations,
    PreparingSchema,
)
from api.graphql.schema import build_schema


class Counting(PreparingSchema):
    """Counts how often Strawberry's own path builds its extensions."""

    strawberry_runs = 0

    def get_extensions(self, sync: bool = False) -> list[Any]:
        self.strawberry_runs += 1
        return super().get_extensions(sync)


@pytest.fixture
def schema() -> PreparingSchema:
    built = build_schema()
    built.__class__ = Counting
    return built


def run(schema: PreparingSchema, query: str, **kwargs: Any) -> Any:
    return asyncio.run(schema.execute(query, **kwargs))


def test_a_text_that_ran_is_answered_after_without_strawberrys_path(
    schema: Counting,
) -> None:
    first = run(schema, "{ __typename }")
    assert first.errors is None
    assert len(schema.prepared) == 1
    runs = schema.strawberry_runs
    for _ in range(3):
        again = run(schema, "{ __typename }")
        assert (again.data, again.errors) == (first.data, first.errors)
    assert schema.strawberry_runs == runs


@pytest.mark.parametrize(
    "query",
    [
        "{ nosuchfield }",  # invalid
        "{ __typename ",  # a syntax error
        "{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }",  # over the aliases
        "{ " + " ".join(f"a{i}: __typename" for i in range(5_000)) + " }",  # over the tokens
    ],
)
def test_a_refused_text_is_never_remembered(schema: Counting, query: str) -> None:
    for _ in range(2):
        assert run(schema, query).errors
    assert len(schema.prepared) == 0


def test_a_text_with_operation_extensions_takes_strawberrys_path(schema: Counting) -> None:
    run(schema, "{ __typename }")
    runs = schema.strawberry_runs
    run(schema, "{ __typename }", operation_extensions={"x": 1})
    assert schema.strawberry_runs == runs + 1


def test_operation_names_are_remembered_apart(schema: Counting) -> None:
    text = "query A { __typename } query B { __typename }"
    run(schema, text, operation_name="A")
    runs = schema.strawberry_runs
    run(schema, text, operation_name="B")
    assert schema.strawberry_runs == runs + 1
    run(schema, text, operation_name="B")
    assert schema.strawberry_runs == runs + 1


def test_the_cache_keeps_at_most_its_capacity_most_recent_first() -> None:
    cache = PreparedOperations(capacity=2)
    entry = Prepared(document=object(), type=object(), operation_name=None)  # type: ignore[arg-type]
    cache.remember("a", None, entry)
    cache.remember("b", None, entry)
    assert cache.get("a", None) is entry  # "a" is now the most recent
    cache.remember("c", None, entry)
    assert len(cache) == 2
    assert cache.get("b", None) is None
    assert cache.get("a", None) is entry
    assert cache.get("c", None) is entry


def test_a_remembered_text_of_a_type_the_caller_does_not_allow_takes_strawberrys_path(
    schema: Counting,
) -> None:
    mutation = "mutation { __typename }"
    assert run(schema, mutation).errors is None
    assert len(schema.prepared) == 1
    runs = schema.strawberry_runs
    with pytest.raises(InvalidOperationTypeError):  # as over GET: queries only
        run(schema, mutation, allowed_operation_types={OperationType.QUERY})
    assert schema.strawberry_runs == runs + 1


def test_a_long_text_is_not_remembered(schema: Counting) -> None:
    text = "{ __typename }" + " " * PREPARED_TEXT_MAX
    assert run(schema, text).errors is None
    assert len(schema.prepared) == 0


def test_an_unnamed_operation_keeps_the_name_strawberry_resolved(schema: Counting) -> None:
    run(schema, "query Only { __typename }")
    prepared = schema.prepared.get("query Only { __typename }", None)
    assert prepared is not None
    assert prepared.operation_name == "Only"
    assert run(schema, "query Only { __typename }").data == {"__typename": "Query"}
