"""What the ``logEntries`` subscription follows: every entry of the log, in log order.

An entry is one event: a recording or a correction of an incident (with the incident as it
stood right after it, from ``incident_versions``), or a place's or an actor's registration
or change. Its key is ``(position, END)``: one event per position. Rows at or below the
projected position never change, so the subscription's ring and its database fallback give
the same entries.

The filter is a pure predicate (``entry_matcher``), one definition for both paths: the
incident filters of the feed apply to incident entries (the incident as of the entry), the
place filters also to places' entries, ``actor`` also to actors' entries, and ``types`` to
the entry's type (``Incident.Retracted``, ``Place.Registered``, …).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from uuid import UUID

from domain.vocabulary import ClaimStatus, IncidentKind
from readmodel.queries.batch import places_by_id
from readmodel.queries.live import END, Key, NewIncident, incident_matcher, place_matcher
from readmodel.queries.rows import PlaceRow, incident_from_row
from readmodel.queries.sql import BBox, Near

SELECT_ENTRIES: Final = """
SELECT * FROM rm.log_entries WHERE position > $1 AND position <= $2
 ORDER BY position {direction} LIMIT $3
"""
SELECT_VERSIONS: Final = "SELECT * FROM rm.incident_versions WHERE updated_position = ANY($1)"
INCIDENT_TYPES: Final = "Incident."
PLACE_TYPES: Final = "Place."
ACTOR_TYPES: Final = "Actor."


@dataclass(frozen=True)
class EntryRow:
    """One log entry: the event's own fields, and what it is about as of its position."""

    position: int
    recorded_at: datetime
    type: str
    aggregate_id: UUID
    aggregate_version: int
    recorded_by: str | None
    reason: str | None
    source: dict[str, Any] | None
    disputed_by: UUID | None
    amended_from: dict[str, Any] | None
    amended_to: dict[str, Any] | None
    # The incident as it stood right after this entry (incident entries), with its places.
    incident: NewIncident | None
    # The place this entry registers or changes (place entries).
    place: PlaceRow | None

    @property
    def key(self) -> Key:
        return (self.position, END)


async def log_entries(
    conn: Any, after: Key, upto: int, limit: int, *, newest: bool = False
) -> list[EntryRow]:
    """Entries with ``after < key <= (upto, END)``, in log order: the first ``limit``, or the
    last ``limit`` when ``newest``."""
    position, tiebreak = after
    floor = position if tiebreak == END else position - 1
    sql = SELECT_ENTRIES.format(direction="DESC" if newest else "ASC")
    rows = list(await conn.fetch(sql, floor, upto, limit))
    if newest:
        rows.reverse()
    incident_positions = [r["position"] for r in rows if r["type"].startswith(INCIDENT_TYPES)]
    versions = {
        v["updated_position"]: incident_from_row(v)
        for v in await conn.fetch(SELECT_VERSIONS, incident_positions)
    }
    wanted = {p for v in versions.values() for p in v.place_ids}
    wanted |= {r["aggregate_id"] for r in rows if r["type"].startswith(PLACE_TYPES)}
    places = await places_by_id(conn, sorted(wanted))
    found = []
    for row in rows:
        version = versions.get(row["position"])
        incident = None
        if version is not None:
            at = tuple(places[p] for p in version.place_ids if p in places)
            incident = NewIncident(version, at)
        found.append(
            EntryRow(
                position=row["position"],
                recorded_at=row["recorded_at"],
                type=row["type"],
                aggregate_id=row["aggregate_id"],
                aggregate_version=row["aggregate_version"],
                recorded_by=row["recorded_by"],
                reason=row["reason"],
                source=_json(row["source"]),
                disputed_by=row["disputed_by"],
                amended_from=_json(row["amended_from"]),
                amended_to=_json(row["amended_to"]),
                incident=incident,
                place=places.get(row["aggregate_id"]),
            )
        )
    return found


SELECT_HISTORY: Final = """
SELECT e.*, v.sources -> 0 AS first_source
  FROM rm.log_entries AS e
  LEFT JOIN rm.incident_versions AS v
         ON v.updated_position = e.position AND e.type = 'Incident.Recorded'
 WHERE e.aggregate_id = $1
 ORDER BY e.position
"""


@dataclass(frozen=True)
class HistoryEntry:
    """One event of an incident's provenance, as ``Incident.history`` shows it."""

    type: str  # "Recorded", "Disputed", …
    position: int
    recorded_at: datetime
    recorded_by: str | None
    source: dict[str, Any] | None  # the correction's, or the recording's first
    reason: str | None
    disputed_by: UUID | None
    amended_to: dict[str, Any] | None  # what an amendment changed: its new values
    time_changed: bool
    places_changed: bool


async def incident_history(conn: Any, incident_id: UUID) -> list[HistoryEntry]:
    """Every event of one incident, oldest first, from the read models (no log replay)."""
    found = []
    for row in await conn.fetch(SELECT_HISTORY, incident_id):
        before, after = _json(row["amended_from"]), _json(row["amended_to"])
        time_changed = places_changed = False
        if before is not None and after is not None:
            time = ("occurred_at", "occurred_until", "precision")
            time_changed = any(before[k] != after[k] for k in time)
            places_changed = before["place_ids"] != after["place_ids"]
        source = _json(row["source"]) or _json(row["first_source"])
        found.append(
            HistoryEntry(
                type=row["type"].removeprefix(INCIDENT_TYPES),
                position=row["position"],
                recorded_at=row["recorded_at"],
                recorded_by=row["recorded_by"],
                source=source,
                reason=row["reason"],
                disputed_by=row["disputed_by"],
                amended_to=after,
                time_changed=time_changed,
                places_changed=places_changed,
            )
        )
    return found


def _json(value: str | None) -> dict[str, Any] | None:
    return None if value is None else dict(json.loads(value))


def entry_matcher(
    *,
    types: Iterable[str] | None = None,
    kinds: Iterable[IncidentKind | str] | None = None,
    statuses: Iterable[ClaimStatus | str] | None = None,
    actor: UUID | None = None,
    place: UUID | None = None,
    bbox: BBox | None = None,
    near: Near | None = None,
    governorate: str | None = None,
) -> Callable[[EntryRow], bool]:
    """The entry filters as a predicate: all given must hold (see the module's docstring)."""
    type_set = None if types is None else set(types)
    # The log holds every kind: assessments are not left out as the incident feed leaves them.
    on_incident = incident_matcher(
        kinds=list(IncidentKind) if kinds is None else kinds, statuses=statuses, actor=actor,
        place=place, bbox=bbox, near=near, governorate=governorate,
    )  # fmt: skip
    at_place = place_matcher(bbox=bbox, near=near, governorate=governorate)
    incident_only = kinds is not None or statuses is not None

    def matches(entry: EntryRow) -> bool:
        if type_set is not None and entry.type not in type_set:
            return False
        if entry.incident is not None:
            return on_incident(entry.incident)
        if incident_only:
            return False
        if entry.type.startswith(PLACE_TYPES):
            return (
                actor is None
                and (place is None or entry.aggregate_id == place)
                and (at_place is None or (entry.place is not None and at_place(entry.place)))
            )
        return (
            entry.type.startswith(ACTOR_TYPES)
            and (actor is None or entry.aggregate_id == actor)
            and place is None
            and at_place is None
        )

    return matches
