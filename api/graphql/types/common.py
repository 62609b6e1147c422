"""Shared GraphQL building blocks: enums, the Node interface, cursor connections, paging."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Generic, TypeVar

import strawberry

from api.graphql.errors import ApiError
from domain import vocabulary as v
from domain.control import ControlStatus as DomainControlStatus
from readmodel.queries.sql import Known

MAX_PAGE = 100

# The domain's own enums are the GraphQL enums (registered here, once).
strawberry.enum(v.PlaceKind, description="What kind of place it is.")
strawberry.enum(v.ActorKind)
strawberry.enum(v.IncidentKind)
strawberry.enum(v.ClaimStatus, description="Where a claim stands after its corrections.")
strawberry.enum(v.TimePrecision, description="How precisely a time is known.")
strawberry.enum(v.AircraftOutcome)
strawberry.enum(v.SpeakerRole)
strawberry.enum(v.Channel)
strawberry.enum(v.AssessedStatus, description="What an assessment says of a place's state.")
strawberry.enum(
    v.AssessmentTier,
    description="What an assessment rests on: ASSESSED (an analyst's or a mapper's "
    "judgement), CLAIMED (a party says so), CONFIRMED (verified on the ground).",
)
strawberry.enum(
    DomainControlStatus,
    name="ControlStatus",
    description="HELD by controllers; CONTESTED between them (with none: abandoned, held by "
    "nobody); UNKNOWN (an assessment says nobody can tell).",
)
PlaceKind = v.PlaceKind
ActorKind = v.ActorKind
IncidentKind = v.IncidentKind
ClaimStatus = v.ClaimStatus
TimePrecision = v.TimePrecision
AircraftOutcome = v.AircraftOutcome
SpeakerRole = v.SpeakerRole
Channel = v.Channel
ControlStatus = DomainControlStatus
AssessedStatus = v.AssessedStatus
AssessmentTier = v.AssessmentTier

T = TypeVar("T")

#: Record time as a log position: every `knownAt` argument has this sibling.
KnownAtPosition = Annotated[
    int | None,
    strawberry.argument(
        description="Only what the log held up to this position (e.g. a mutation's "
        "`position`: as known right after that write). Instead of knownAt."
    ),
]


def known(known_at: datetime | None, known_at_position: int | None) -> Known:
    """The record time a query asks for: a moment, a log position, or None (now)."""
    if known_at_position is None:
        return known_at
    if known_at is not None:
        raise ApiError(
            "INVALID_INPUT", "give knownAt or knownAtPosition, not both", field="knownAtPosition"
        )
    if known_at_position < 0:
        raise ApiError("INVALID_INPUT", "a log position is 0 or more", field="knownAtPosition")
    return known_at_position


# `from` is a Python keyword, so resolvers take `from_`; clients still write `from:`.
From = Annotated[datetime, strawberry.argument(name="from", description="The earlier instant.")]


@strawberry.interface(description="An object with a global id, fetchable with node(id:).")
class Node:
    id: strawberry.ID


@strawberry.type(
    description="Relay's page info. Pages go forward (first/after): a page after a "
    "cursor has one before it."
)
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    node: T
    cursor: str


@strawberry.type(description="A page of results; ask for the next with after: endCursor.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @strawberry.field(description="The nodes of the edges, for clients that skip cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def check_page_size(first: int) -> int:
    """GitHub's convention: every list asks for 1 to 100 items."""
    if not 1 <= first <= MAX_PAGE:
        raise ApiError(
            "INVALID_PAGE_SIZE", f"first must be between 1 and {MAX_PAGE}", field="first"
        )
    return first


def connection(
    items: Sequence[T], first: int, cursor_of: Callable[[T], str], *, after: str | None = None
) -> Connection[T]:
    """A page from ``items`` fetched with ``limit = first + 1`` (the extra one says more),
    following the cursor ``after`` (there is something before it)."""
    page = list(items[:first])
    edges = [Edge(node=item, cursor=cursor_of(item)) for item in page]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(items) > first,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )
