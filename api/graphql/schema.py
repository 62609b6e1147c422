"""The schema, with the protections every request goes through."""

from __future__ import annotations

import strawberry
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter

from api.graphql.errors import TypedErrors
from api.graphql.mutation import Mutation
from api.graphql.query import Query
from api.graphql.types.actor import Actor
from api.graphql.types.incident import Incident
from api.graphql.types.place import Place

MAX_DEPTH = 12
MAX_TOKENS = 4_000
MAX_ALIASES = 30

schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    types=[Place, Actor, Incident],
    # Factories, not instances: each operation gets fresh extension state.
    extensions=[
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        TypedErrors,
    ],
)
