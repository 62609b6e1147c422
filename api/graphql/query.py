"""The read API: control, maps, changes, places, actors, incidents and the raw log."""

from __future__ import annotations

import base64
import binascii
import json
from bisect import bisect_right
from collections.abc import Callable
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from api.colors import PALETTE
from api.graphql import ids
from api.graphql.context import Info
from api.graphql.encoding import EncodedJSON
from api.graphql.errors import ApiError
from api.graphql.freshness import known_read, reach
from api.graphql.inputs import IncidentFilter, PlaceFilter
from api.graphql.types.actor import Actor
from api.graphql.types.common import (
    Connection,
    From,
    KnownAtPosition,
    Node,
    PlaceKind,
    check_page_size,
    connection,
)
from api.graphql.types.control import Change, ControlState, PlaceControl, control_at, now_or
from api.graphql.types.incident import Incident, incident_page
from api.graphql.types.log import LogEntry, log_page
from api.graphql.types.place import Place
from readmodel import queries as q
from readmodel.queries.catalog import MAX_FOUND

SortKey = tuple[int | str, ...]


@strawberry.type(description="When the earliest and the latest incident on record began.")
class OccurrenceSpan:
    first: datetime | None
    last: datetime | None


def _keyset_cursor(key: SortKey) -> str:
    return base64.urlsafe_b64encode(json.dumps(["after", *key]).encode()).decode()


def _keyset(after: str, like: SortKey) -> SortKey:
    """The key a cursor holds; it must have the shape of this list's keys (``like``)."""
    try:
        kind, *key = json.loads(base64.urlsafe_b64decode(after.encode()).decode())
        if kind == "after" and [type(k) for k in key] == [type(k) for k in like]:
            return tuple(key)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        pass
    raise ApiError("INVALID_CURSOR", "not a cursor from this list", field="after")


def _page(
    items: list[Any], first: int, after: str | None, key_of: Callable[[Any], SortKey]
) -> Connection[Any]:
    """Page a bounded list (places, actors, map entries) by keyset: in (name, slug) order, a
    cursor is the last item's key, so a row added between two pages repeats nothing."""
    limit = check_page_size(first)
    ordered = sorted(items, key=key_of)
    keys = [key_of(item) for item in ordered]
    start = 0
    if after is not None and keys:
        start = bisect_right(keys, _keyset(after, keys[0]))
    elif after is not None:
        _keyset(after, ())  # an empty list: the cursor is still checked
    window = ordered[start : start + limit + 1]
    return connection(window, limit, lambda item: _keyset_cursor(key_of(item)), after=after)


def _by_name(item: Place | Actor) -> SortKey:
    return (item.name, item.slug)


def _name_after(after: str | None) -> tuple[str, str] | None:
    """A (name, slug) cursor as the SQL keyset takes it (readmodel: ``after``)."""
    if after is None:
        return None
    name, slug = _keyset(after, ("", ""))
    return (str(name), str(slug))


def _sql_page(
    items: list[Any], first: int, after: str | None, key_of: Callable[[Any], SortKey]
) -> Connection[Any]:
    """A page the database already cut: ``first + 1`` items after the cursor, in order."""
    return connection(items, first, lambda item: _keyset_cursor(key_of(item)), after=after)


def _by_match(search: str) -> Callable[[Place | Actor], SortKey]:
    """Search results' order (readmodel.queries.catalog.FIND): exact matches of a name or
    alias first, then prefixes, then the rest; by name within each."""
    term = search.lower()

    def key(item: Place | Actor) -> SortKey:
        names = [n.lower() for n in (item.name, *item.aliases)]
        rank = 0 if term in names else 1 if any(n.startswith(term) for n in names) else 2
        return (rank, item.name, item.slug)

    return key


def _by_place_name(item: PlaceControl) -> SortKey:
    return (item.place.name, item.place.slug)


@strawberry.type
class Query:
    @strawberry.field(description="Any object by its global id.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        info.context.check_read()
        type_name, uuid = ids.decode(id)
        context = info.context
        if type_name == "Place":
            place = await context.place_loader.load(uuid)
            return None if place is None else Place.from_row(place)
        if type_name == "Actor":
            actor = await context.actor_loader.load(uuid)
            return None if actor is None else Actor.from_row(actor)
        if type_name == "Incident":
            incident = await context.incident_loader.load(uuid)
            return None if incident is None else Incident.from_row(incident)
        return None

    @strawberry.field(
        description="Wait (up to timeoutMs, at most 5,000) until the read models include log "
        "position `position` — e.g. the position a mutation returned — then answer the nested "
        "query; STALE if they do not in time."
    )
    async def fresh(self, info: Info, position: int, timeout_ms: int = 5_000) -> Query:
        await reach(info, position, timeout_ms)  # api.graphql.freshness
        return Query()

    @strawberry.field(description='A place by slug (e.g. "hama") or id.')
    async def place(self, info: Info, ref: str) -> Place | None:
        info.context.check_read()
        row = await info.context.place_loader.load(ids.place_ref(ref))
        return None if row is None else Place.from_row(row)

    @strawberry.field(
        description="Places by filters, by name; or the 100 best matches of a name or alias "
        "(search: exact matches first, then prefixes)."
    )
    async def places(
        self,
        info: Info,
        first: int,
        after: str | None = None,
        search: str | None = None,
        governorate: str | None = None,
        kinds: list[PlaceKind] | None = None,
    ) -> Connection[Place]:
        info.context.check_read()
        async with info.context.pool.acquire() as conn:
            if search:
                found = await q.find_places(conn, search, limit=MAX_FOUND)
                rows = [
                    r
                    for r in found
                    if (governorate is None or r.governorate == governorate)
                    and (kinds is None or r.kind in kinds)
                ]
            else:  # paged by the database: `first` bounds the work, not only the answer
                rows = await q.list_places(
                    conn,
                    governorate=governorate,
                    kinds=kinds,
                    after=_name_after(after),
                    limit=check_page_size(first) + 1,
                )
                return _sql_page([Place.from_row(r) for r in rows], first, after, _by_name)
        return _page([Place.from_row(r) for r in rows], first, after, _by_match(search))

    @strawberry.field(description='An actor by slug (e.g. "hts") or id.')
    async def actor(self, info: Info, ref: str) -> Actor | None:
        info.context.check_read()
        row = await info.context.actor_loader.load(ids.actor_ref(ref))
        return None if row is None else Actor.from_row(row)

    @strawberry.field(
        description="Actors, by name; or the 100 best matches of a name or alias (search)."
    )
    async def actors(
        self, info: Info, first: int, after: str | None = None, search: str | None = None
    ) -> Connection[Actor]:
        info.context.check_read()
        if not search:
            limit = check_page_size(first) + 1
            async with info.context.pool.acquire() as conn:
                listed = await q.list_actors(conn, after=_name_after(after), limit=limit)
            return _sql_page([Actor.from_row(r) for r in listed], first, after, _by_name)
        async with info.context.pool.acquire() as conn:
            found = await q.find_actors(conn, search, MAX_FOUND)
        return _page([Actor.from_row(r) for r in found], first, after, _by_match(search))

    @strawberry.field(description="An incident by id.")
    async def incident(self, info: Info, id: strawberry.ID) -> Incident | None:
        info.context.check_read()
        row = await info.context.incident_loader.load(ids.incident_ref(id))
        return None if row is None else Incident.from_row(row)

    @strawberry.field(description="The incident feed: most recent first, or in log order.")
    async def incidents(
        self,
        info: Info,
        first: int,
        after: str | None = None,
        filter: IncidentFilter | None = None,
        log_order: bool = False,
    ) -> Connection[Incident]:
        order = q.FeedOrder.LOG if log_order else q.FeedOrder.RECENT
        args = {} if filter is None else filter.feed_args()
        return await incident_page(info, first, after, order, **args)

    @strawberry.field(
        description="Who held a place at asOf (default: now), using only what was recorded "
        "by knownAt (default: everything). Null: nothing known."
    )
    async def control_at(
        self,
        info: Info,
        place: str,
        as_of: datetime | None = None,
        known_at: datetime | None = None,
        known_at_position: KnownAtPosition = None,
    ) -> ControlState | None:
        info.context.check_read()
        then = await known_read(info, known_at, known_at_position)
        state = await control_at(info, ids.place_ref(place), as_of, then)
        return None if state is None else ControlState.from_row(state)

    @strawberry.field(description="A place's control timeline as known at knownAt.")
    async def control_history(
        self,
        info: Info,
        place: str,
        known_at: datetime | None = None,
        known_at_position: KnownAtPosition = None,
    ) -> list[ControlState]:
        info.context.check_read()
        then = await known_read(info, known_at, known_at_position)
        async with info.context.pool.acquire() as conn:
            states = await q.control_history(conn, ids.place_ref(place), then)
        return [ControlState.from_row(s) for s in states]

    @strawberry.field(description="Every place's state at asOf as known at knownAt, by name.")
    async def control_map(
        self,
        info: Info,
        first: int,
        after: str | None = None,
        as_of: datetime | None = None,
        known_at: datetime | None = None,
        known_at_position: KnownAtPosition = None,
        where: PlaceFilter | None = None,
    ) -> Connection[PlaceControl]:
        info.context.check_read()
        args: dict[str, Any] = {} if where is None else where.map_args()
        args |= {"after": _name_after(after), "limit": check_page_size(first) + 1}
        known_then = await known_read(info, known_at, known_at_position)
        async with info.context.pool.acquire() as conn:
            entries = await q.control_map(conn, now_or(as_of), known_then, **args)
        found = [PlaceControl.from_row(e) for e in entries]
        return _sql_page(found, first, after, _by_place_name)

    @strawberry.field(
        description="The control map as a GeoJSON FeatureCollection (Point per place, with "
        "status, controllers and flags as properties), for Leaflet, MapLibre or QGIS."
    )
    async def control_map_geo_json(
        self,
        info: Info,
        as_of: datetime | None = None,
        known_at: datetime | None = None,
        known_at_position: KnownAtPosition = None,
        where: PlaceFilter | None = None,
    ) -> JSON:
        info.context.check_read()
        args: dict[str, Any] = {} if where is None else where.map_args()
        then = await known_read(info, known_at, known_at_position)
        async with info.context.pool.acquire() as conn:
            text = await q.control_map_geojson(conn, now_or(as_of), then, palette=PALETTE, **args)
        # Built and encoded by PostgreSQL; spliced into the response as it is (see
        # FrontlineGraphQL.encode_json) rather than parsed and encoded again.
        return JSON(EncodedJSON(text))

    @strawberry.field(description="Places whose holder differs between two instants.")
    async def changes(
        self,
        info: Info,
        from_: From,
        to: datetime,
        known_at: datetime | None = None,
        known_at_position: KnownAtPosition = None,
        where: PlaceFilter | None = None,
    ) -> list[Change]:
        info.context.check_read()
        args: dict[str, Any] = {} if where is None else where.map_args()
        then = await known_read(info, known_at, known_at_position)
        async with info.context.pool.acquire() as conn:
            rows = await q.changes_between(conn, from_, to, then, **args)
        return [Change.from_row(r) for r in rows]

    @strawberry.field(
        description="When the earliest and the latest incident began (e.g. a date slider's "
        "range); null when none is recorded."
    )
    async def occurrence_span(self, info: Info) -> OccurrenceSpan | None:
        info.context.check_read()
        first, last = await q.occurrence_span(info.context.pool)
        return None if first is None else OccurrenceSpan(first=first, last=last)

    @strawberry.field(description="The raw log, in position order, after a position.")
    async def log(self, info: Info, first: int, after: str | None = None) -> Connection[LogEntry]:
        info.context.check_read()
        return await log_page(info, first, after)
