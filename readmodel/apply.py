"""Applying a batch of logged events to the read models, inside the projector's transaction.

Aggregates are rebuilt with the domain's own ``mutate`` rules, so the read side never
re-implements them. Incidents and place timelines are kept in ``Memory`` between batches;
whatever is missing is loaded in bulk first, then every event is applied in log order (each
revision at its own position), and the changes are written in bulk by ``BatchWriter``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

from domain.actors import Actor
from domain.control import Fact, facts_of
from domain.details import TERRITORIAL_KINDS
from domain.incidents import Incident
from domain.places import Place
from readmodel.control import fact_from_row, revise, row_from_record
from readmodel.entries import Amendable, entry_record
from readmodel.events import LoggedEvent, decode, replay_aggregate
from readmodel.memory import IncidentEntry, Memory, PlaceTimeline
from readmodel.writer import BatchWriter

UPSERT_PLACE = """
INSERT INTO {s}.places AS p (id, slug, name, kind, latitude, longitude, country, governorate,
                             aliases, parent_id, position)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (id) DO UPDATE SET aliases = excluded.aliases
"""
UPSERT_ACTOR = """
INSERT INTO {s}.actors AS a (id, slug, name, kind, side, aliases, coalition_ids, position,
                             color)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (id) DO UPDATE SET aliases = excluded.aliases, coalition_ids = excluded.coalition_ids,
                               color = excluded.color
"""
SELECT_EVENTS_OF = """
SELECT notification_id, originator_id, originator_version, topic, state, recorded_at
  FROM public.frontline_events
 WHERE originator_id = ANY($1::uuid[]) AND notification_id <= $2
 ORDER BY originator_id, originator_version
"""
SELECT_INCIDENT_ROWS = (
    "SELECT id, recorded_position, recorded_at FROM {s}.incidents WHERE id = ANY($1::uuid[])"
)
SELECT_FACTS_OF_INCIDENTS = "SELECT * FROM {s}.place_facts WHERE incident_id = ANY($1::uuid[])"
SELECT_FACTS_OF_PLACES = "SELECT * FROM {s}.place_facts WHERE place_id = ANY($1::uuid[])"
SELECT_BELIEVED = """
SELECT * FROM {s}.control WHERE place_id = ANY($1::uuid[]) AND known_to IS NULL
 ORDER BY place_id, valid_from NULLS FIRST
"""

Revision = tuple[int, UUID, UUID, Fact | None]  # position, incident, place, new fact


async def apply_batch(
    conn: Any, schema: str, events: list[LoggedEvent], start: int, memory: Memory
) -> None:
    """Apply ``events`` (the log after position ``start``, in order) to ``schema``."""
    writer = BatchWriter(schema)
    incidents = await _load_incidents(conn, schema, events, start, memory)
    revisions: list[Revision] = []
    for logged in events:
        event = logged.event
        if isinstance(event, Incident.Event):
            _apply_incident(logged, incidents, writer, revisions)
        else:
            await _apply_registry(conn, schema, logged, writer)
            writer.entry(entry_record(logged))
    timelines = await _load_places(conn, schema, {r[2] for r in revisions}, memory)
    for position, incident_id, place_id, fact in revisions:
        revise(timelines[place_id], place_id, incident_id, fact, position, writer)
    await writer.flush(conn)
    for entry in incidents.values():
        memory.incidents.put(entry.incident.id, entry)
    for place_id, timeline in timelines.items():
        memory.places.put(place_id, timeline)


def _apply_incident(
    logged: LoggedEvent,
    incidents: dict[UUID, IncidentEntry],
    writer: BatchWriter,
    revisions: list[Revision],
) -> None:
    event = logged.event
    created = event.originator_version == 1
    if created:
        entry = IncidentEntry(event.mutate(None), logged.position, logged.recorded_at)
        incidents[entry.incident.id] = entry
        writer.entry(entry_record(logged))
    else:
        entry = incidents[event.originator_id]
        # Captured first: mutate changes the aggregate in place.
        before = Amendable.of(entry.incident)
        entry.incident = event.mutate(entry.incident)
        writer.entry(entry_record(logged, before))
    writer.incident(entry, logged.position, new=created)
    if entry.incident.kind not in TERRITORIAL_KINDS and not entry.facts:
        return  # never decided control (an amendment may have just made it stop)
    old, new = entry.facts, facts_of(entry.incident, entry.recorded_position)
    if old == new:
        return
    for place in sorted(old.keys() | new.keys()):
        if old.get(place) != new.get(place):
            revisions.append((logged.position, entry.incident.id, place, new.get(place)))
    entry.facts = new
    writer.incident_facts(entry.incident.id, new)


async def _apply_registry(conn: Any, schema: str, logged: LoggedEvent, writer: BatchWriter) -> None:
    """Places and actors: their rows, upserted in order when the batch is written."""
    event = logged.event
    if event.originator_version == 1:
        aggregate = event.mutate(None)
    else:
        aggregate = await replay_aggregate(conn, event.originator_id, event.originator_version)
    if isinstance(aggregate, Place):
        c = aggregate.coordinates
        place = (
            aggregate.id, aggregate.slug, aggregate.name, aggregate.kind.value, c.latitude,
            c.longitude, aggregate.country, aggregate.governorate, list(aggregate.aliases),
            aggregate.parent_id, logged.position,
        )  # fmt: skip
        writer.registry(UPSERT_PLACE, place)
    elif isinstance(aggregate, Actor):
        actor = (
            aggregate.id, aggregate.slug, aggregate.name, aggregate.kind.value, aggregate.side,
            list(aggregate.aliases), list(aggregate.coalition_ids), logged.position,
            aggregate.color,
        )  # fmt: skip
        writer.registry(UPSERT_ACTOR, actor)


async def _load_incidents(
    conn: Any, schema: str, events: list[LoggedEvent], start: int, memory: Memory
) -> dict[UUID, IncidentEntry]:
    """Every incident the batch corrects, as of position ``start``: from memory, else
    rebuilt from the log and the tables in three bulk queries."""
    wanted = {
        e.event.originator_id
        for e in events
        if e.event.originator_version > 1 and isinstance(e.event, Incident.Event)
    }
    found: dict[UUID, IncidentEntry] = {}
    missing = []
    for incident_id in wanted:
        entry = memory.incidents.get(incident_id)
        if entry is None:
            missing.append(incident_id)
        else:
            found[incident_id] = entry
    if not missing:
        return found
    aggregates: dict[UUID, Incident] = {}
    for row in await conn.fetch(SELECT_EVENTS_OF, missing, start):
        logged = decode(row)
        aggregates[row["originator_id"]] = logged.event.mutate(aggregates.get(row["originator_id"]))
    facts: dict[UUID, dict[UUID, Fact]] = defaultdict(dict)
    for row in await conn.fetch(SELECT_FACTS_OF_INCIDENTS.format(s=schema), missing):
        facts[row["incident_id"]][row["place_id"]] = fact_from_row(row)
    for row in await conn.fetch(SELECT_INCIDENT_ROWS.format(s=schema), missing):
        found[row["id"]] = IncidentEntry(
            aggregates[row["id"]], row["recorded_position"], row["recorded_at"], facts[row["id"]]
        )
    return found


async def _load_places(
    conn: Any, schema: str, place_ids: set[UUID], memory: Memory
) -> dict[UUID, PlaceTimeline]:
    """The timelines of ``place_ids``: from memory, else from the tables in two queries."""
    found: dict[UUID, PlaceTimeline] = {}
    missing = []
    for place_id in place_ids:
        timeline = memory.places.get(place_id)
        if timeline is None:
            missing.append(place_id)
        else:
            found[place_id] = timeline
    if not missing:
        return found
    facts: dict[UUID, dict[UUID, Fact]] = defaultdict(dict)
    for row in await conn.fetch(SELECT_FACTS_OF_PLACES.format(s=schema), missing):
        facts[row["place_id"]][row["incident_id"]] = fact_from_row(row)
    rows = defaultdict(list)
    for record in await conn.fetch(SELECT_BELIEVED.format(s=schema), missing):
        rows[record["place_id"]].append(row_from_record(record))
    for place_id in missing:
        found[place_id] = PlaceTimeline(facts[place_id], rows[place_id])
    return found
