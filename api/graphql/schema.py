"""The schema, with the protections every request goes through."""

from __future__ import annotations

from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
)
from strawberry.schema.config import StrawberryConfig

from api import bounds
from api.graphql.complexity import GuardedValidationCache, bounded
from api.graphql.cost import cost_limit
from api.graphql.errors import TypedErrors
from api.graphql.execution import FrontlineExecutionContext
from api.graphql.mutation import Mutation
from api.graphql.prepared import PreparingSchema, Remember
from api.graphql.query import Query
from api.graphql.scalars import SCALAR_MAP
from api.graphql.subscription import Subscription
from api.graphql.types.actor import Actor
from api.graphql.types.incident import Incident
from api.graphql.types.place import Place

MAX_DEPTH = bounds.MAX_DEPTH
# Parsing and validating a query costs more than answering a small one (bench/results.md), and
# clients send the same few query texts again and again: cache both, by query text, in bounded
# LRUs (a flood of distinct texts only evicts). Validation is cached per (document, rules), so
# the limits' rule classes are built once here rather than by a factory per request.
CACHED_QUERIES = 256
#: The default limit on a query's estimated cost (api.graphql.cost; FRONTLINE_MAX_QUERY_COST).
DEFAULT_MAX_COST = bounds.MAX_QUERY_COST


def build_schema(max_cost: int = DEFAULT_MAX_COST) -> PreparingSchema:
    """The schema, with every request limit; ``max_cost`` bounds a query's estimated cost."""
    # The depth, alias and cost limits walk nested fragments: `bounded` runs them only on
    # documents of a bounded expanded size (a fragment bomb is refused first, in linear
    # time). A depth of N admits N levels of fields below the operation: strawberry's
    # limiter counts from 0.
    limit_rules = [
        bounded(
            [
                *QueryDepthLimiter(max_depth=MAX_DEPTH - 1).validation_rules,
                *MaxAliasesLimiter(max_alias_count=bounds.MAX_ALIASES).validation_rules,
                cost_limit(max_cost),
            ]
        )
    ]
    return PreparingSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Place, Actor, Incident],
        execution_context_class=FrontlineExecutionContext,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        # Factories, not instances: each operation gets fresh extension state.
        extensions=[
            lambda: MaxTokensLimiter(max_token_count=bounds.MAX_TOKENS),
            lambda: ParserCache(maxsize=CACHED_QUERIES),
            lambda: AddValidationRules(limit_rules),
            lambda: GuardedValidationCache(maxsize=CACHED_QUERIES),
            TypedErrors,
            Remember,
        ],
    )


#: The schema with the default limits (tests, tools); the app builds its own from settings.
schema = build_schema()
