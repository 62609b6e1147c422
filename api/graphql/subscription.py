"""Live streams over graphql-transport-ws: new incidents and control hand-overs.

Both resume after a cursor: every row recorded after it, in log order — first the missed
ones, then live ones, with no gap and no duplicate, whichever process serves the reconnect.
Without a cursor a stream starts at the present. Each item carries its own cursor. The
mechanics (one LISTEN per process, a bounded ring, per-subscriber cursors) are in
``api.live.broadcast``.

Cursors are log positions as text: an incident's is its ``recordedPosition`` ("123"). One
event can hand over several places, so a hand-over's cursor also names its place
("123:<place uuid>"); a plain position is accepted too and means "after all of it".
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from uuid import UUID

import strawberry

from api.graphql import ids
from api.graphql.context import Context, Info, KeyWatch
from api.graphql.errors import ApiError
from api.graphql.inputs import AreaInput, IncidentFilter, area_filters
from api.graphql.types.common import Edge, PlaceKind
from api.graphql.types.control_change import ControlChange
from api.graphql.types.entry import Entry, EntryFilter
from api.graphql.types.incident import Incident
from api.live.broadcast import Broadcaster
from readmodel.queries.entries import entry_matcher
from readmodel.queries.live import END, Key, change_matcher, incident_matcher
from readmodel.queries.sql import parse_position


def parse_cursor(after: str | None) -> Key | None:
    """The key a subscription cursor stands for (None: no cursor, start from now)."""
    if after is None:
        return None
    position, _, place = after.strip().partition(":")
    try:
        key = (parse_position(position), UUID(place).int if place else END)
    except ValueError:
        key = (-1, END)
    if key[0] < 0:
        raise ApiError("INVALID_CURSOR", "not a subscription cursor", field="after")
    return key


def cursor_of(key: Key) -> str:
    position, tiebreak = key
    return str(position) if tiebreak == END else f"{position}:{UUID(int=tiebreak)}"


@strawberry.input(description="Which hand-overs to follow; all given must hold.")
class ControlChangeFilter:
    area: AreaInput | None = None
    governorate: str | None = None
    kinds: list[PlaceKind] | None = None
    actor: str | None = strawberry.field(
        default=None, description="Slug or id: it held the place before or holds it after."
    )

    def matcher_args(self) -> dict[str, object]:
        return {
            "governorate": self.governorate,
            "kinds": self.kinds,
            "actor": None if self.actor is None else ids.actor_ref(self.actor),
            **area_filters(self.area),
        }


def _broadcaster(context: Context) -> Broadcaster:
    context.check_read()
    if context.broadcaster is None:
        raise ApiError("UNAVAILABLE", "subscriptions are not served by this process")
    return context.broadcaster


class _BetweenItems:
    """What a subscription does before each item: it lives as long as its socket, so it drops
    the loaders' caches (memory stays flat, each item is read fresh) and re-checks the
    socket's key (``KeyWatch``). A revoked key ends the subscription with UNAUTHENTICATED
    before the next item, and its socket closes. (An idle subscription is not polled: it
    receives nothing either way.)"""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.keys = KeyWatch(context)

    async def __call__(self) -> None:
        context = self.context
        for loader in (context.place_loader, context.actor_loader, context.incident_loader):
            loader.clear_all()
        await self.keys.recheck()
        context.check_read()


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Incidents recorded after the cursor `after` (omitted: from now on), in "
        "log order: the missed ones first, then live ones. Filters as in the feed."
    )
    async def incidents(
        self, info: Info, after: str | None = None, filter: IncidentFilter | None = None
    ) -> AsyncGenerator[Edge[Incident], None]:
        broadcaster = _broadcaster(info.context)
        start = parse_cursor(after)
        match = incident_matcher(**({} if filter is None else filter.feed_args()))  # type: ignore[arg-type]
        rows = broadcaster.follow(broadcaster.incidents, start, match)
        between_items = _BetweenItems(info.context)
        async for item in rows:
            await between_items()
            yield Edge(node=Incident.from_row(item.row), cursor=cursor_of(item.key))

    @strawberry.subscription(
        description="Every entry of the log after the cursor `after` (omitted: from now on), "
        "in log order: recordings, each kind of correction, places' and actors' registrations, "
        "each with the incident as it stood right after it. The missed ones first, then live."
    )
    async def log_entries(
        self, info: Info, after: str | None = None, filter: EntryFilter | None = None
    ) -> AsyncGenerator[Entry, None]:
        broadcaster = _broadcaster(info.context)
        start = parse_cursor(after)
        match = entry_matcher(**({} if filter is None else filter.matcher_args()))  # type: ignore[arg-type]
        between_items = _BetweenItems(info.context)
        async for row in broadcaster.follow(broadcaster.entries, start, match):
            await between_items()
            yield Entry.from_row(row, cursor_of(row.key))

    @strawberry.subscription(
        description="Hand-overs — changes of who holds a place now — learned after the cursor "
        "`after` (omitted: from now on), in log order, with their evidence."
    )
    async def control_changes(
        self, info: Info, after: str | None = None, where: ControlChangeFilter | None = None
    ) -> AsyncGenerator[ControlChange, None]:
        broadcaster = _broadcaster(info.context)
        start = parse_cursor(after)
        match = change_matcher(**({} if where is None else where.matcher_args()))  # type: ignore[arg-type]
        between_items = _BetweenItems(info.context)
        async for row in broadcaster.follow(broadcaster.control_changes, start, match):
            await between_items()
            yield ControlChange.from_row(row, cursor_of(row.key))
