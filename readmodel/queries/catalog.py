"""Places and actors: look-ups by id or slug, listings and name search."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final
from uuid import UUID

from domain.errors import InvalidInput
from domain.vocabulary import PlaceKind
from readmodel.queries.rows import ActorRow, PlaceRow, actor_from_row, place_from_row
from readmodel.queries.sql import BBox, Near, Query, place_filters

SELECT_PLACE: Final = "SELECT p.* FROM rm.places AS p WHERE p.id = $1"
SELECT_PLACE_BY_SLUG: Final = "SELECT p.* FROM rm.places AS p WHERE p.slug = $1"
SELECT_ACTOR: Final = "SELECT a.* FROM rm.actors AS a WHERE a.id = $1"
SELECT_ACTOR_BY_SLUG: Final = "SELECT a.* FROM rm.actors AS a WHERE a.slug = $1"
# By name, then slug (unique): a total order, so a page can start after a (name, slug) key.
SELECT_ACTORS: Final = (
    "SELECT a.* FROM rm.actors AS a WHERE {conditions} ORDER BY a.name, a.slug{limit}"
)
SELECT_PLACES: Final = (
    "SELECT p.* FROM rm.places AS p WHERE {conditions} ORDER BY p.name, p.slug{limit}"
)
#: Where a page starts: after this (name, slug).
After = tuple[str, str]

# Case-insensitive substring match on the name or any alias; exact matches first, then
# prefixes. Small tables: a scan is fine (add pg_trgm if they grow large).
FIND: Final = """
SELECT t.* FROM rm.{table} AS t
 CROSS JOIN LATERAL (SELECT array_agg(lower(n)) AS names
                       FROM unnest(t.aliases || t.name) AS n) AS n
 WHERE EXISTS (SELECT 1 FROM unnest(n.names) AS x WHERE x LIKE $1 ESCAPE '\\')
 ORDER BY $2 = ANY(n.names) DESC,
          EXISTS (SELECT 1 FROM unnest(n.names) AS x WHERE x LIKE $3 ESCAPE '\\') DESC,
          t.name, t.id
 LIMIT $4
"""
FIND_PLACES: Final = FIND.replace("{table}", "places")
FIND_ACTORS: Final = FIND.replace("{table}", "actors")
MAX_FOUND: Final = 100


async def get_place(conn: Any, place_id: UUID) -> PlaceRow | None:
    """A place by id, or None."""
    row = await conn.fetchrow(SELECT_PLACE, place_id)
    return None if row is None else place_from_row(row)


async def get_place_by_slug(conn: Any, slug: str) -> PlaceRow | None:
    """A place by slug, or None."""
    row = await conn.fetchrow(SELECT_PLACE_BY_SLUG, slug)
    return None if row is None else place_from_row(row)


async def get_actor(conn: Any, actor_id: UUID) -> ActorRow | None:
    """An actor by id, or None."""
    row = await conn.fetchrow(SELECT_ACTOR, actor_id)
    return None if row is None else actor_from_row(row)


async def get_actor_by_slug(conn: Any, slug: str) -> ActorRow | None:
    """An actor by slug, or None."""
    row = await conn.fetchrow(SELECT_ACTOR_BY_SLUG, slug)
    return None if row is None else actor_from_row(row)


async def list_actors(
    conn: Any, *, after: After | None = None, limit: int | None = None
) -> list[ActorRow]:
    """Actors by name (then slug): all, or ``limit`` of them after ``after``."""
    q = Query()
    if after is not None:
        q.where("(a.name, a.slug) > ({0}::text, {1}::text)", *after)
    sql = SELECT_ACTORS.format(conditions=q.clause, limit=_limit(q, limit))
    return [actor_from_row(row) for row in await conn.fetch(sql, *q.args)]


def _limit(q: Query, limit: int | None) -> str:
    return "" if limit is None else " LIMIT " + q.param(limit)


async def list_places(
    conn: Any,
    *,
    bbox: BBox | None = None,
    near: Near | None = None,
    governorate: str | None = None,
    kinds: Iterable[PlaceKind | str] | None = None,
    after: After | None = None,
    limit: int | None = None,
) -> list[PlaceRow]:
    """Places matching the filters (as ``control_map``'s), by name then slug: all, or
    ``limit`` of them after ``after``."""
    q = Query()
    q.conditions += place_filters(q, bbox=bbox, near=near, governorate=governorate, kinds=kinds)
    if after is not None:
        q.where("(p.name, p.slug) > ({0}::text, {1}::text)", *after)
    sql = SELECT_PLACES.format(conditions=q.clause, limit=_limit(q, limit))
    return [place_from_row(row) for row in await conn.fetch(sql, *q.args)]


async def find_places(conn: Any, text: str, limit: int = 20) -> list[PlaceRow]:
    """Places whose name or an alias contains ``text``, case-insensitively; exact matches
    first, then those starting with it, then by name."""
    rows = await conn.fetch(FIND_PLACES, *_search_args(text, limit))
    return [place_from_row(row) for row in rows]


async def find_actors(conn: Any, text: str, limit: int = 20) -> list[ActorRow]:
    """Actors whose name or an alias contains ``text``; ordered as ``find_places``."""
    rows = await conn.fetch(FIND_ACTORS, *_search_args(text, limit))
    return [actor_from_row(row) for row in rows]


def _search_args(text: str, limit: int) -> tuple[str, str, str, int]:
    needle = text.strip().lower()
    if not needle:
        raise InvalidInput("the search text must not be empty", field="name")
    if not 1 <= limit <= MAX_FOUND:
        raise InvalidInput(f"limit must be between 1 and {MAX_FOUND}", field="limit")
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%", needle, f"{escaped}%", limit
