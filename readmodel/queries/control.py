"""Who held what: control of places at a valid time T, as known at a record time K.

Every answer is read from ``rm.control`` (bitemporal intervals written by the projector),
never by replaying the log. ``known_at`` None means "everything known now"; otherwise only
what had been recorded by ``known_at`` counts (the log position known then, see
``known_position``). The rules that produce the intervals are in ``domain.control``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final
from uuid import UUID

from domain.vocabulary import PlaceKind
from readmodel.queries.rows import (
    Change,
    ControlState,
    PlaceControl,
    place_from_row,
    state_from_row,
)
from readmodel.queries.sql import (
    CONTROL_AT,
    KNOWN_POSITION,
    PLACE_KNOWN,
    BBox,
    Known,
    Near,
    Query,
    aware,
    place_filters,
)

STATE_COLUMNS: Final = (
    "place_id", "status", "controllers", "valid_from", "valid_to", "known_from", "known_to",
    "evidence", "disputed", "inferred", "precision", "certain_from", "assessed",
)  # fmt: skip

SELECT_KNOWN_POSITION: Final = "SELECT " + KNOWN_POSITION.format("$1")

# One place: walk its (place_id, valid_from) index backwards from T and stop at the first
# row believed at K that still covers T (or fall back to the open-to-the-past interval).
# This stays O(log n) as the log grows; the GiST span index would instead visit every
# place's state at T, which is what the map wants and controlAt does not.
SELECT_CONTROL_AT: Final = """
WITH {with_known}
(SELECT c.* FROM rm.control AS c
  WHERE c.place_id = {place} AND c.valid_from <= {t} AND {believed}
  ORDER BY c.valid_from DESC
  LIMIT 1)
UNION ALL
(SELECT c.* FROM rm.control AS c
  WHERE c.place_id = {place} AND c.valid_from IS NULL AND {believed}
  LIMIT 1)
LIMIT 1
"""
BELIEVED_AT: Final = """c.known_from <= {pk} AND (c.known_to IS NULL OR c.known_to > {pk})
AND (c.valid_to IS NULL OR {t} < c.valid_to)"""

SELECT_HISTORY: Final = """
WITH {with_known}
SELECT c.* FROM rm.control AS c
 WHERE c.place_id = {place}
   AND c.known_from <= {pk} AND (c.known_to IS NULL OR c.known_to > {pk})
 ORDER BY c.valid_from ASC NULLS FIRST
"""

# Every place (known at K) with its state at T; the GiST probe finds all states at once.
SELECT_MAP: Final = """
WITH {with_known},
state AS (SELECT c.* FROM rm.control AS c WHERE {state_conditions})
SELECT p.*, {state_columns}
  FROM rm.places AS p
  LEFT JOIN state AS s ON s.place_id = p.id
 WHERE {conditions}
 ORDER BY p.name, p.slug{limit}
"""

# The same map as a GeoJSON FeatureCollection (RFC 7946), built and encoded by PostgreSQL:
# one Point feature per place, in the map's order, with the holders' slugs, names and sides
# from rm.actors and each holder's colour (its own, else the palette's by its rank). Written
# as compact JSON text (what json.dumps(separators=(",", ":"), ensure_ascii=False) writes;
# json_build_object would add a space around every ':' and ',' and take half as long
# again): every string goes through to_json, numbers through float8out (shortest exact
# form, like Python's repr), arrays through array_to_json (compact). Content equal to the
# former Python builder, which tests/integration/test_control_map_geojson.py keeps as the
# reference: "since" is Python's isoformat() of the UTC instant, "sides" the distinct
# non-empty sides in code-point order.
SELECT_MAP_GEOJSON: Final = """
WITH {with_known},
state AS (SELECT c.* FROM rm.control AS c WHERE {state_conditions}){chosen}
SELECT '{{"type":"FeatureCollection","features":[' || coalesce(string_agg(
  '{{"type":"Feature","id":' || to_json(p.slug)::text
  || ',"geometry":{{"type":"Point","coordinates":['
  || p.longitude::text || ',' || p.latitude::text || ']}}'
  || ',"properties":{{"slug":' || to_json(p.slug)::text
  || ',"name":' || to_json(p.name)::text
  || ',"kind":' || to_json(p.kind)::text
  || ',"country":' || to_json(p.country)::text
  || ',"governorate":' || coalesce(to_json(p.governorate)::text, 'null')
  || ',"status":' || to_json(coalesce(s.status, 'unknown'))::text
  || ',"controllers":' || coalesce(h.slugs, '[]')
  || ',"controllerNames":' || coalesce(h.names, '[]')
  || ',"colors":' || coalesce(h.colors, '[]')
  || ',"sides":' || coalesce(h.sides, '[]')
  || ',"since":' || coalesce(
       '"' || to_char(s.valid_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
       || CASE WHEN extract(microseconds FROM s.valid_from)::bigint % 1000000 = 0
               THEN '' ELSE to_char(s.valid_from AT TIME ZONE 'UTC', '.US') END
       || '+00:00"', 'null')
  || ',"disputed":' || coalesce(s.disputed, false)::text
  || ',"inferred":' || coalesce(s.inferred, false)::text
  || ',"uncertain":' || coalesce(s.certain_from > {t}, false)::text
  || ',"assessed":' || coalesce(s.assessed, false)::text
  || ',"abandoned":' || coalesce(s.status = 'contested' AND s.controllers = '{{}}', false)::text
  || '}}}}',
  ',' ORDER BY p.name, p.slug), '') || ']}}'
  FROM rm.places AS p
  LEFT JOIN state AS s ON s.place_id = p.id
  LEFT JOIN LATERAL (
    SELECT array_to_json(array_agg(a.slug ORDER BY u.n))::text AS slugs,
           array_to_json(array_agg(a.name ORDER BY u.n))::text AS names,
           array_to_json(array_agg(coalesce(a.color,
             ({palette}::text[])[a.color_rank % cardinality({palette}::text[]) + 1])
             ORDER BY u.n))::text AS colors,
           array_to_json(array_agg(DISTINCT a.side COLLATE "C" ORDER BY a.side COLLATE "C")
                         FILTER (WHERE a.side <> ''))::text AS sides
      FROM unnest(s.controllers) WITH ORDINALITY AS u(actor_id, n)
      JOIN rm.actors AS a ON a.id = u.actor_id) AS h ON true
 WHERE {conditions}{in_chosen}
"""
# With a limit: only the first places of the map's order are built into JSON (the picture,
# /map.svg, draws at most so many; the rest would be built to be thrown away).
MAP_CHOSEN: Final = """,
chosen AS (SELECT p.id FROM rm.places AS p LEFT JOIN state AS s ON s.place_id = p.id
            WHERE {conditions} ORDER BY p.name, p.slug LIMIT {limit})"""

SELECT_CHANGES: Final = """
WITH {with_known},
a AS (SELECT c.* FROM rm.control AS c WHERE {at_t1}),
b AS (SELECT c.* FROM rm.control AS c WHERE {at_t2})
SELECT p.*, {a_columns}, {b_columns}
  FROM rm.places AS p
  LEFT JOIN a ON a.place_id = p.id
  LEFT JOIN b ON b.place_id = p.id
 WHERE {conditions}
 ORDER BY p.name, p.id
"""

# Who holds the place differs (status, or the set of holders), as ``domain.control.hands_over``
# judges a hand-over: an UNKNOWN state is no state; unknown differs from known, except when
# an assessment made the place known (or unknown) — nobody took anything then (rule 8).
STATE_DIFFERS: Final = """
(nullif(a.status, 'unknown') IS DISTINCT FROM nullif(b.status, 'unknown')
 OR (nullif(a.status, 'unknown') IS NOT NULL AND nullif(b.status, 'unknown') IS NOT NULL
     AND NOT (a.controllers @> b.controllers AND a.controllers <@ b.controllers)))
AND NOT ((nullif(a.status, 'unknown') IS NULL OR nullif(b.status, 'unknown') IS NULL)
         AND coalesce(b.assessed, false))"""
# Held (alone or jointly): a contested place's `controllers` are its parties, not holders.
HELD_BY: Final = "{c}.status = 'held' AND {c}.controllers @> ARRAY[{0}::uuid]"
HELD_BY_EITHER: Final = """(a.status = 'held' AND a.controllers @> ARRAY[{0}::uuid])
OR (b.status = 'held' AND b.controllers @> ARRAY[{0}::uuid])"""
ASSESSED_ONLY: Final = "{c}.assessed = {0}::boolean"
HAS_STATE: Final = "s.place_id IS NOT NULL"


def _columns(alias: str, prefix: str) -> str:
    return ", ".join(f"{alias}.{col} AS {prefix}{col}" for col in STATE_COLUMNS)


async def known_position(conn: Any, known_at: Known) -> int | None:
    """The log position known at record time ``known_at``: the last event recorded at or
    before it, 0 if nothing was; None (everything known) when ``known_at`` is None; a
    position stands for itself."""
    if known_at is None or isinstance(known_at, int):
        return known_at
    return int(await conn.fetchval(SELECT_KNOWN_POSITION, aware(known_at, "knownAt")))


async def control_at(
    conn: Any, place_id: UUID, as_of: datetime, known_at: Known = None
) -> ControlState | None:
    """The control state of a place at valid time ``as_of``, as known at ``known_at``.

    None when nothing known covers ``as_of`` (no incident yet, and none to infer from).
    ``uncertain`` is set when ``as_of`` falls before the state's ``certain_from``.
    """
    q = Query()
    pk = q.known_position(known_at)
    t = q.param(aware(as_of, "asOf")) + "::timestamptz"
    place = q.param(place_id)
    sql = SELECT_CONTROL_AT.format(
        with_known=q.with_known, place=place, t=t, believed=BELIEVED_AT.format(t=t, pk=pk)
    )
    row = await conn.fetchrow(sql, *q.args)
    return None if row is None else state_from_row(row, as_of)


async def control_history(conn: Any, place_id: UUID, known_at: Known = None) -> list[ControlState]:
    """A place's whole control timeline as known at ``known_at``, oldest first (an interval
    open to the past first). ``uncertain`` here says the interval's start is uncertain."""
    q = Query()
    pk = q.known_position(known_at)
    place = q.param(place_id)
    rows = await conn.fetch(
        SELECT_HISTORY.format(with_known=q.with_known, place=place, pk=pk), *q.args
    )
    return [state for row in rows if (state := state_from_row(row, None)) is not None]


async def control_map(
    conn: Any,
    as_of: datetime,
    known_at: Known = None,
    *,
    bbox: BBox | None = None,
    near: Near | None = None,
    governorate: str | None = None,
    kinds: Iterable[PlaceKind | str] | None = None,
    controller: UUID | None = None,
    assessed: bool | None = None,
    after: tuple[str, str] | None = None,
    limit: int | None = None,
) -> list[PlaceControl]:
    """Every place matching the filters with its state at ``as_of`` as known at ``known_at``,
    ordered by name (then slug); or ``limit`` of them after the (name, slug) ``after``.

    Places whose state is unknown are included with ``state=None``, so a map can draw them
    as "unknown" rather than leave them out; places registered after ``known_at`` are not.
    With ``controller``, only places that actor holds (alone or jointly) are returned; with
    ``assessed``, only places whose state rests only on assessments (True) or on at least
    one incident (False). Filters: ``bbox`` (min_lat, min_lon, max_lat, max_lon), ``near``
    (lat, lon, radius_km), ``governorate`` (exact name), ``kinds`` (place kinds).
    """
    q, _, state_conditions = _map_query(
        as_of, known_at, bbox=bbox, near=near, governorate=governorate, kinds=kinds,
        controller=controller, assessed=assessed,
    )  # fmt: skip
    if after is not None:
        q.where("(p.name, p.slug) > ({0}::text, {1}::text)", *after)
    sql = SELECT_MAP.format(
        with_known=q.with_known,
        state_conditions=" AND ".join(state_conditions),
        state_columns=_columns("s", "s_"),
        conditions=q.clause,
        limit="" if limit is None else " LIMIT " + q.param(limit),
    )
    rows = await conn.fetch(sql, *q.args)
    return [PlaceControl(place_from_row(r), state_from_row(r, as_of, "s_")) for r in rows]


async def control_map_geojson(
    conn: Any,
    as_of: datetime,
    known_at: Known = None,
    *,
    bbox: BBox | None = None,
    near: Near | None = None,
    governorate: str | None = None,
    kinds: Iterable[PlaceKind | str] | None = None,
    controller: UUID | None = None,
    assessed: bool | None = None,
    palette: Sequence[str],
    limit: int | None = None,
) -> str:
    """``control_map`` as a GeoJSON FeatureCollection, encoded as JSON text by PostgreSQL
    (one Point feature per place, longitude first; status, holders, their colours and flags
    as properties). Same arguments and filters as ``control_map``; a holder with no colour
    of its own gets ``palette[color_rank % len(palette)]`` (api.colors). ``limit``: only the
    first so many places (by name)."""
    q, t, state_conditions = _map_query(
        as_of, known_at, bbox=bbox, near=near, governorate=governorate, kinds=kinds,
        controller=controller, assessed=assessed,
    )  # fmt: skip
    chosen = "" if limit is None else MAP_CHOSEN.format(conditions=q.clause, limit=q.param(limit))
    sql = SELECT_MAP_GEOJSON.format(
        palette=q.param(list(palette)),
        with_known=q.with_known,
        state_conditions=" AND ".join(state_conditions),
        chosen=chosen,
        t=t,
        conditions=q.clause,
        in_chosen="" if limit is None else " AND p.id IN (SELECT id FROM chosen)",
    )
    text: str = await conn.fetchval(sql, *q.args)
    return text


def _map_query(
    as_of: datetime,
    known_at: Known,
    *,
    bbox: BBox | None,
    near: Near | None,
    governorate: str | None,
    kinds: Iterable[PlaceKind | str] | None,
    controller: UUID | None,
    assessed: bool | None,
) -> tuple[Query, str, list[str]]:
    """The map's parameters and conditions, shared by its row and GeoJSON forms: the query,
    the asOf placeholder, and the conditions picking each place's state."""
    q = Query()
    pk = q.known_position(known_at)
    t = q.param(aware(as_of, "asOf")) + "::timestamptz"
    state_conditions = [CONTROL_AT.format(c="c", t=t, pk=pk)]
    q.where(PLACE_KNOWN, p="p", pk=pk)
    q.conditions += place_filters(q, bbox=bbox, near=near, governorate=governorate, kinds=kinds)
    if controller is not None:
        state_conditions.append(q.sql(HELD_BY, controller, c="c"))
    if assessed is not None:
        state_conditions.append(q.sql(ASSESSED_ONLY, assessed, c="c"))
    if controller is not None or assessed is not None:
        q.where(HAS_STATE)
    return q, t, state_conditions


async def changes_between(
    conn: Any,
    t1: datetime,
    t2: datetime,
    known_at: Known = None,
    *,
    bbox: BBox | None = None,
    near: Near | None = None,
    governorate: str | None = None,
    kinds: Iterable[PlaceKind | str] | None = None,
    controller: UUID | None = None,
    assessed: bool | None = None,
) -> list[Change]:
    """Places whose status or set of holders at ``t2`` differs from that at ``t1``, as known
    at ``known_at``, ordered by name. A net comparison: a place lost and retaken in between
    is not a change. Unknown → known counts as a change, unless only an assessment made it
    known (rule 8 of ``domain.control``: not a hand-over). ``controller`` keeps the changes in
    which that actor held the place at ``t1`` or at ``t2``; ``assessed`` judges the state at
    ``t2``; other filters as ``control_map``.
    """
    q = Query()
    pk = q.known_position(known_at)
    p1 = q.param(aware(t1, "from")) + "::timestamptz"
    p2 = q.param(aware(t2, "to")) + "::timestamptz"
    q.where(PLACE_KNOWN, p="p", pk=pk)
    q.conditions += place_filters(q, bbox=bbox, near=near, governorate=governorate, kinds=kinds)
    q.where(STATE_DIFFERS)
    if controller is not None:
        q.where(HELD_BY_EITHER, controller)
    if assessed is not None:
        q.where(ASSESSED_ONLY, assessed, c="b")
    sql = SELECT_CHANGES.format(
        with_known=q.with_known,
        at_t1=CONTROL_AT.format(c="c", t=p1, pk=pk),
        at_t2=CONTROL_AT.format(c="c", t=p2, pk=pk),
        a_columns=_columns("a", "a_"),
        b_columns=_columns("b", "b_"),
        conditions=q.clause,
    )
    rows = await conn.fetch(sql, *q.args)
    return [
        Change(place_from_row(r), state_from_row(r, t1, "a_"), state_from_row(r, t2, "b_"))
        for r in rows
    ]
