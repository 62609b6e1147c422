"""The schema, with the protections every request goes through."""

from __future__ import annotations

from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)

from api.graphql.complexity import bounded
from api.graphql.errors import FrontlineSchema, TypedErrors
from api.graphql.execution import FrontlineExecutionContext
from api.graphql.mutation import Mutation
from api.graphql.query import Query
from api.graphql.subscription import Subscription
from api.graphql.types.actor import Actor
from api.graphql.types.incident import Incident
from api.graphql.types.place import Place

MAX_DEPTH = 12
MAX_TOKENS = 4_000
MAX_ALIASES = 30
# Parsing and validating a query costs more than answering a small one (bench/results.md), and
# clients send the same few query texts again and again: cache both, by query text, in bounded
# LRUs (a flood of distinct texts only evicts). Validation is cached per (document, rules), so
# the limits' rule classes are built once here rather than by a factory per request.
CACHED_QUERIES = 256
# Both limits walk nested fragments exponentially: `bounded` runs them only on documents of a
# bounded expanded size (a fragment bomb is refused first, in linear time).
LIMIT_RULES = [
    bounded(
        [
            *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
            *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
        ]
    )
]

schema = FrontlineSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=[Place, Actor, Incident],
    execution_context_class=FrontlineExecutionContext,
    # Factories, not instances: each operation gets fresh extension state.
    extensions=[
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParserCache(maxsize=CACHED_QUERIES),
        lambda: AddValidationRules(LIMIT_RULES),
        lambda: ValidationCache(maxsize=CACHED_QUERIES),
        TypedErrors,
    ],
)
