"""Applying one logged event to the read models (inside the projector's transaction).

Each handler rebuilds the aggregate as of the event (the domain's own ``mutate`` rules, so
the read side never re-implements them) and upserts the rows it owns.
"""

from __future__ import annotations

from typing import Any

from domain.actors import Actor
from domain.control import facts_of
from domain.details import TERRITORIAL_KINDS
from domain.incidents import Incident
from domain.places import Place
from readmodel.control import rewrite_timelines
from readmodel.events import LoggedEvent, replay_aggregate
from readmodel.jsonable import dumps

UPSERT_PLACE = """
INSERT INTO {s}.places AS p (id, slug, name, kind, latitude, longitude, country, governorate,
                             aliases, parent_id, position)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (id) DO UPDATE SET aliases = excluded.aliases
"""

UPSERT_ACTOR = """
INSERT INTO {s}.actors AS a (id, slug, name, kind, side, aliases, coalition_ids, position)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (id) DO UPDATE SET aliases = excluded.aliases, coalition_ids = excluded.coalition_ids
"""

UPSERT_INCIDENT = """
INSERT INTO {s}.incidents AS i (id, kind, status, valid_from, valid_to, precision, place_ids,
    actor_ids, summary, details, sources, recorded_by, recorded_position, recorded_at,
    updated_position, version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, $12, $13, $14, $13, $15)
ON CONFLICT (id) DO UPDATE SET
    status = excluded.status, valid_from = excluded.valid_from, valid_to = excluded.valid_to,
    precision = excluded.precision, place_ids = excluded.place_ids,
    sources = excluded.sources, updated_position = excluded.updated_position,
    version = excluded.version
RETURNING recorded_position
"""


async def apply_event(conn: Any, schema: str, logged: LoggedEvent) -> None:
    event = logged.event
    if event.originator_version == 1:
        aggregate = event.mutate(None)
    else:
        aggregate = await replay_aggregate(conn, event.originator_id, event.originator_version)
    if isinstance(aggregate, Incident):
        await _incident(conn, schema, aggregate, logged)
    elif isinstance(aggregate, Place):
        await _place(conn, schema, aggregate, logged)
    elif isinstance(aggregate, Actor):
        await _actor(conn, schema, aggregate, logged)


async def _place(conn: Any, schema: str, place: Place, logged: LoggedEvent) -> None:
    c = place.coordinates
    await conn.execute(
        UPSERT_PLACE.format(s=schema),
        place.id, place.slug, place.name, place.kind.value, c.latitude, c.longitude,
        place.country, place.governorate, list(place.aliases), place.parent_id, logged.position,
    )  # fmt: skip


async def _actor(conn: Any, schema: str, actor: Actor, logged: LoggedEvent) -> None:
    await conn.execute(
        UPSERT_ACTOR.format(s=schema),
        actor.id, actor.slug, actor.name, actor.kind.value, actor.side, list(actor.aliases),
        list(actor.coalition_ids), logged.position,
    )  # fmt: skip


async def _incident(conn: Any, schema: str, incident: Incident, logged: LoggedEvent) -> None:
    time = incident.valid_time
    sources = (*incident.sources, *incident.corroborations, *incident.confirmations)
    recorded_position = await conn.fetchval(
        UPSERT_INCIDENT.format(s=schema),
        incident.id, incident.kind.value, incident.status.value, time.earliest, time.latest,
        time.precision.value, list(incident.place_ids), list(incident.actor_ids),
        incident.summary, dumps(incident.details), dumps(sources), incident.meta.recorded_by,
        logged.position, logged.recorded_at, incident.version,
    )  # fmt: skip
    if incident.kind in TERRITORIAL_KINDS:
        facts = facts_of(incident, recorded_position)
        await rewrite_timelines(conn, schema, incident.id, facts, logged.position)
