"""Which subscriptions share a live stream, and how one that falls behind resumes
(api/live/fanout.py). Pure: parsing only."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from graphql import parse, validate

from api.graphql.schema import schema
from api.live.fanout import plan, resume

LIVE = "subscription { incidents { cursor node { id } } }"
WITH_VARIABLE = """subscription ($after: String, $filter: IncidentFilter) {
  incidents(after: $after, filter: $filter) { cursor node { id } } }"""


def test_a_live_subscription_selecting_its_cursor_is_shared() -> None:
    assert plan(LIVE, None, None) is not None
    assert plan(WITH_VARIABLE, {"after": None}, None) is not None
    assert plan(WITH_VARIABLE, {}, None) is not None
    assert plan("subscription { incidents(after: null) { cursor } }", None, None) is not None


def test_identical_subscriptions_share_and_different_variables_do_not() -> None:
    one = plan(WITH_VARIABLE, {"filter": {"actor": "hts"}}, None)
    two = plan(WITH_VARIABLE, {"filter": {"actor": "hts"}}, None)
    other = plan(WITH_VARIABLE, {"filter": {"actor": "saa"}}, None)
    assert one is not None
    assert two is not None
    assert other is not None
    assert one.key == two.key != other.key


def test_anything_that_resumes_or_cannot_resume_runs_on_its_own() -> None:
    refused: list[tuple[str, Any]] = [
        ('subscription { incidents(after: "12") { cursor } }', None),
        (WITH_VARIABLE, {"after": "12"}),
        ('subscription ($after: String = "12") { incidents(after: $after) { cursor } }', {}),
        ("subscription { incidents { node { id } } }", None),  # no cursor to resume from
        ("subscription ($c: Boolean!) { incidents { cursor @include(if: $c) } }", {"c": True}),
        ("subscription { live: incidents { cursor } }", None),
        ("query { __typename }", None),
        ("subscription {", None),  # Strawberry's own path reports the syntax error
        (LIVE, ["not", "an", "object"]),
        (LIVE, {"huge": 10**30}),
    ]
    for query, variables in refused:
        assert plan(query, variables, None) is None, query


def _valid(query: str) -> bool:
    return not validate(schema._schema, parse(query))


def test_falling_behind_resumes_through_the_after_variable() -> None:
    shared = plan(WITH_VARIABLE, {"after": None, "filter": {"actor": "hts"}}, None)
    assert shared is not None
    operation = SimpleNamespace(query=WITH_VARIABLE, variables={"after": None})
    resume(shared, operation, "41")
    assert operation.query == WITH_VARIABLE
    assert operation.variables == {"after": "41"}


def test_falling_behind_writes_the_cursor_into_a_query_without_a_variable() -> None:
    for query in (LIVE, "subscription { incidents(after: null) { cursor node { id } } }"):
        shared = plan(query, None, None)
        assert shared is not None
        operation = SimpleNamespace(query=query, variables=None)
        resume(shared, operation, "41:6f1c1f7e-0000-4000-8000-000000000000")
        assert 'after: "41:6f1c1f7e-0000-4000-8000-000000000000"' in operation.query
        assert _valid(operation.query), operation.query
