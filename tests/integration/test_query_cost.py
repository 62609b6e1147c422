"""The query cost limit (api/graphql/cost.py): what it counts, what it refuses, and that a
refused query never reaches PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from graphql import get_introspection_query, parse

from api.graphql.context import Context
from api.graphql.cost import UNPAGED_LIST, query_cost
from api.graphql.schema import DEFAULT_MAX_COST, MAX_DEPTH, build_schema, schema
from api.playground import EXAMPLES
from domain.incidents import MAX_INCIDENT_SOURCES

ATTACK = (
    "{ actors(first:100){nodes{incidents(first:100){nodes{actors{incidents(first:100)"
    "{nodes{id}}}}}}}}"
)
README = Path(__file__).resolve().parents[2] / "README.md"


def cost(query: str) -> int:
    return query_cost(schema._schema, parse(query))


def test_a_connection_costs_its_page_and_lists_multiply_down_the_tree() -> None:
    # places: 1; nodes: 1 + 10 × (slug 1).
    assert cost("{ places(first: 10) { nodes { slug } } }") == 1 + 1 + 10 * 1
    # A variable page size counts as the cap.
    assert cost("query ($n: Int!) { places(first: $n) { nodes { slug } } }") == 1 + 1 + 100
    # A list the domain bounds costs its bound; one nothing bounds costs UNPAGED_LIST.
    sources = '{ incident(id: "x") { sources { outlet } } }'
    assert cost(sources) == 1 + 1 + MAX_INCIDENT_SOURCES * 1
    history = '{ controlHistory(place: "hama") { status } }'
    assert cost(history) == 1 + UNPAGED_LIST * 1
    nested = "{ actors(first: 2) { nodes { incidents(first: 3) { nodes { id } } } } }"
    assert cost(nested) == 1 + 1 + 2 * (1 + 1 + 3 * 1)


def test_a_geojson_map_costs_as_much_as_a_large_map() -> None:
    assert cost("{ controlMapGeoJson }") == 20_000
    three = "{ a: controlMapGeoJson b: controlMapGeoJson c: controlMapGeoJson }"
    assert cost(three) > DEFAULT_MAX_COST  # at most two maps a request


def test_fragments_cost_what_they_expand_to() -> None:
    inline = "{ places(first: 5) { nodes { slug name } } }"
    spread = "{ places(first: 5) { nodes { ...P } } } fragment P on Place { slug name }"
    assert cost(spread) == cost(inline)


def test_introspection_costs_what_it_resolves_and_the_playground_s_fits() -> None:
    full = cost(get_introspection_query(descriptions=True))
    assert 1_000 < full < DEFAULT_MAX_COST
    # Nesting inside introspection costs what it resolves, not a guess per level.
    nested = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    assert cost(nested) < full


def test_the_query_that_took_22_seconds_costs_millions() -> None:
    assert cost(ATTACK) > 1_000 * DEFAULT_MAX_COST


def _readme_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    return re.findall(r"^```graphql\n(.*?)^```", text, re.MULTILINE | re.DOTALL)


def test_every_readme_example_and_playground_tab_is_within_the_default_limit() -> None:
    queries = [*_readme_blocks(), *(example.query for example in EXAMPLES)]
    assert len(queries) > 10
    for query in queries:
        assert cost(query) <= DEFAULT_MAX_COST, query


@pytest.fixture
async def logged_pool(database_dsn: str) -> AsyncIterator[tuple[Any, list[str]]]:
    """A real pool on a migrated database that records every query it is sent."""
    sent: list[str] = []

    async def log_queries(conn: asyncpg.Connection[Any]) -> None:
        conn.add_query_logger(lambda record: sent.append(record.query))

    pool = await asyncpg.create_pool(database_dsn, min_size=1, max_size=2, init=log_queries)
    try:
        yield pool, sent
    finally:
        await pool.close()


async def _execute(pool: Any, query: str, max_cost: int = DEFAULT_MAX_COST) -> Any:
    context = Context(
        pool=pool,
        application=None,  # type: ignore[arg-type]  # queries never write
        principal=None,
        open_reads=True,
        projected=lambda: pool.fetchval("SELECT 0"),
    )
    return await build_schema(max_cost).execute(query, context_value=context)


async def test_a_query_over_the_limit_is_refused_before_any_sql_runs(
    logged_pool: tuple[Any, list[str]],
) -> None:
    pool, sent = logged_pool
    result = await _execute(pool, ATTACK)
    assert result.data is None
    [error] = result.errors
    assert error.extensions["code"] == "QUERY_TOO_COSTLY"
    assert error.extensions["cost"] == cost(ATTACK)
    assert error.extensions["maxCost"] == DEFAULT_MAX_COST
    assert sent == []

    # The same pool does reach PostgreSQL for a query within the limit.
    allowed = await _execute(pool, "{ actors(first: 1) { nodes { slug } } }")
    assert allowed.errors is None
    assert sent


async def test_the_limit_is_the_configured_one(logged_pool: tuple[Any, list[str]]) -> None:
    pool, _ = logged_pool
    query = "{ places(first: 10) { nodes { slug } } }"  # costs 12
    assert (await _execute(pool, query, max_cost=12)).errors is None
    [error] = (await _execute(pool, query, max_cost=11)).errors
    assert error.extensions == {"code": "QUERY_TOO_COSTLY", "cost": 12, "maxCost": 11}


def _nested(levels: int) -> str:
    """A query with ``levels`` levels of fields below the operation."""
    return '{ place(ref: "hama") { ' + "parent { " * (levels - 2) + "slug" + " }" * levels


async def test_max_depth_levels_pass_and_one_more_is_refused(
    logged_pool: tuple[Any, list[str]],
) -> None:
    pool, _ = logged_pool
    assert (await _execute(pool, _nested(MAX_DEPTH))).errors is None
    [error] = (await _execute(pool, _nested(MAX_DEPTH + 1))).errors
    assert "depth" in error.message


@pytest.mark.parametrize(
    "query",
    [
        "{ places(first: 1) { nodes { slug } } }",
        "{ actors(first: 1) { nodes { slug } } }",
        "{ controlMap(first: 1) { nodes { place { slug } } } }",
    ],
)
async def test_a_list_page_is_cut_by_the_database_not_after_loading_everything(
    logged_pool: tuple[Any, list[str]], query: str
) -> None:
    """`first: 1` over 30,000 places once built 30,000 rows in Python per alias."""
    pool, sent = logged_pool
    result = await _execute(pool, query)
    assert result.errors is None, result.errors
    assert any("LIMIT" in sql for sql in sent), sent
