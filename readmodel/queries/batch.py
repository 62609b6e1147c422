"""Lookups of many rows by id at once, for the API's per-request DataLoaders."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from readmodel.queries.rows import (
    ActorRow,
    IncidentRow,
    PlaceRow,
    actor_from_row,
    incident_from_row,
    place_from_row,
)

SELECT_PLACES = "SELECT * FROM rm.places WHERE id = ANY($1::uuid[])"
SELECT_ACTORS = "SELECT * FROM rm.actors WHERE id = ANY($1::uuid[])"
SELECT_INCIDENTS = "SELECT * FROM rm.incidents WHERE id = ANY($1::uuid[])"


async def places_by_id(conn: Any, ids: Sequence[UUID]) -> dict[UUID, PlaceRow]:
    return {r["id"]: place_from_row(r) for r in await conn.fetch(SELECT_PLACES, list(ids))}


async def actors_by_id(conn: Any, ids: Sequence[UUID]) -> dict[UUID, ActorRow]:
    return {r["id"]: actor_from_row(r) for r in await conn.fetch(SELECT_ACTORS, list(ids))}


async def incidents_by_id(conn: Any, ids: Sequence[UUID]) -> dict[UUID, IncidentRow]:
    return {r["id"]: incident_from_row(r) for r in await conn.fetch(SELECT_INCIDENTS, list(ids))}
