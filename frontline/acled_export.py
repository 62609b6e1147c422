"""`frontline export --format acled-csv`: incidents written back in ACLED's layout.

ACLED's columns first, in ACLED's order, then Frontline's own (``EXTRA``), so R and pandas
scripts written for ACLED's exports read the file unchanged and can still reach what ACLED
has no column for. What Frontline believes now (or as known at K) is what is written: an
incident ACLED revised is written as its latest revision; a retracted one (ACLED deleted it,
or someone retracted it) is left out, as ACLED leaves out what it deleted.

An incident that came from ACLED gives back the columns ACLED gave it (its provenance keeps
them) wherever Frontline's own values still agree with them — its place's name, its actors —
so a round trip keeps ACLED's grouping of actors and its place names; whatever was amended in
Frontline since is written from Frontline's values. An incident recorded in Frontline gets
the nearest ACLED type (``event_types``); kinds ACLED has no type for (withdrawals with no
one taking over, aircraft losses, advances, statements, anticipated operations, contested
assessments) are written as "Strategic developments / Other", named by
``frontline_kind``: re-imported, they become other events, so use the log export (NDJSON) for
a copy of Frontline itself.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any, Final
from uuid import UUID

from domain.vocabulary import ActorKind, ClaimStatus, IncidentKind, TimePrecision
from frontline.acled import COLUMNS, DATASET, REMOTE, attributes, kind_of, parse_date
from readmodel.queries.rows import (
    ActorRow,
    IncidentRow,
    PlaceRow,
    actor_from_row,
    incident_from_row,
    place_from_row,
)

EXTRA: Final = (
    "frontline_id", "frontline_kind", "frontline_status", "frontline_valid_from",
    "frontline_valid_to", "frontline_precision", "frontline_place", "frontline_recorded_at",
    "frontline_position", "frontline_version",
)  # fmt: skip
HEADER: Final = (*COLUMNS, *EXTRA)
#: Frontline's actor kinds as ACLED's actor types (the 2024 labels).
INTER_OF: Final = {
    ActorKind.STATE_FORCE: "State forces",
    ActorKind.ARMED_GROUP: "Rebel group",
    ActorKind.COALITION: "Rebel group",
    ActorKind.FOREIGN_MILITARY: "External/Other forces",
}
REMOTE_SUBS: Final = (
    "Air/drone strike", "Shelling/artillery/missile attack", "Remote explosive/landmine/IED",
    "Grenade", "Suicide bomb",
)  # fmt: skip
STRATEGIC: Final = "Strategic developments"
BATCH: Final = 1000

# Each incident with the record time of its latest version: the `timestamp` of an incident
# that is not ACLED's, so that an amended one re-imports as a revision.
SELECT_CURRENT: Final = """
SELECT i.*, e.recorded_at AS updated_at
  FROM rm.incidents AS i
  JOIN public.frontline_events AS e ON e.notification_id = i.updated_position
 WHERE i.status <> 'retracted' AND ($1::timestamptz IS NULL OR i.valid_from < $1)
 ORDER BY i.recorded_position"""
# Each incident as it stood at log position $2 (its latest version by then).
SELECT_KNOWN: Final = """
SELECT i.*, e.recorded_at AS updated_at FROM (
    SELECT DISTINCT ON (v.id) v.* FROM rm.incident_versions AS v
     WHERE v.updated_position <= $2 ORDER BY v.id, v.updated_position DESC
) AS i
  JOIN public.frontline_events AS e ON e.notification_id = i.updated_position
 WHERE i.status <> 'retracted' AND ($1::timestamptz IS NULL OR i.valid_from < $1)
 ORDER BY i.recorded_position"""
SELECT_PLACES: Final = "SELECT * FROM rm.places"
SELECT_ACTORS: Final = "SELECT * FROM rm.actors"


@dataclass(frozen=True)
class Catalog:
    places: Mapping[UUID, PlaceRow]
    actors: Mapping[UUID, ActorRow]


#: Kinds whose ACLED type does not depend on their details.
FIXED_TYPES: Final = {
    IncidentKind.CLASH: ("Battles", "Armed clash"),
    IncidentKind.AIR_STRIKE: (REMOTE, "Air/drone strike"),
}


def event_types(incident: IncidentRow, catalog: Catalog) -> tuple[str, str]:
    """The ACLED (event_type, sub_event_type) nearest to the incident's kind."""
    details, kind = incident.details, incident.kind
    fixed = FIXED_TYPES.get(kind)
    if fixed is not None:
        return fixed
    if kind is IncidentKind.CAPTURE:
        first = _uuid((details.get("by") or [None])[0])
        capturer = catalog.actors.get(first) if first else None
        regains = capturer is not None and capturer.kind is ActorKind.STATE_FORCE
        return "Battles", ("Government regains territory" if regains
                           else "Non-state actor overtakes territory")  # fmt: skip
    if kind is IncidentKind.STRIKE:
        means = details.get("means")
        return REMOTE, means if means in REMOTE_SUBS else "Shelling/artillery/missile attack"
    if kind is IncidentKind.OTHER:
        event_type, _, sub_event = str(details.get("category", "")).partition(" / ")
        return event_type or STRATEGIC, sub_event
    if kind is IncidentKind.WITHDRAWAL and details.get("handed_to"):
        return STRATEGIC, "Non-violent transfer of territory"
    held = kind is IncidentKind.ASSESSMENT and details.get("status") == "held"
    return STRATEGIC, "Headquarters or base established" if held else "Other"


def actor_columns(incident: IncidentRow) -> tuple[list[UUID], list[UUID]]:
    """The actors of ACLED's actor1/assoc_actor_1 and actor2/assoc_actor_2 columns (the main
    one first), from the incident's details; actors the details don't name go to the second
    group, as co-actors."""
    d, kind = incident.details, incident.kind
    first: list[Any]
    second: list[Any]
    if kind is IncidentKind.CAPTURE:
        first, second = list(d.get("by") or []), [d.get("taken_from")]
    elif kind is IncidentKind.WITHDRAWAL:
        first, second = [d.get("handed_to")], [d.get("actor")]
    elif kind in (IncidentKind.CLASH, IncidentKind.OTHER):
        parties = list(d.get("parties") or [])
        first, second = parties[:1], parties[1:]
    elif kind in (IncidentKind.AIR_STRIKE, IncidentKind.STRIKE):
        first, second = [d.get("by")], [d.get("target_actor")]
    elif kind is IncidentKind.ASSESSMENT:
        first, second = list(d.get("holders") or []), []
    elif kind is IncidentKind.AIRCRAFT_LOSS:
        first, second = [d.get("claimed_by")], [d.get("operator")]
    elif kind is IncidentKind.STATEMENT:
        first, second = [d.get("speaker_actor")], []
    else:  # advance, anticipated operation
        first, second = [d.get("actor")], []
    named = [u for u in (_uuid(a) for a in first) if u is not None]
    other = [u for u in (_uuid(a) for a in second) if u is not None and u not in named]
    rest = [a for a in incident.actor_ids if a not in named and a not in other]
    if not named and (other or rest):  # ACLED's actor1 is never blank
        named, other = (other or rest)[:1], (other or rest)[1:] + (rest if other else [])
        return named, list(dict.fromkeys(other))
    return named, list(dict.fromkeys([*other, *rest]))


def acled_row(
    incident: IncidentRow, catalog: Catalog, updated_at: datetime | None = None
) -> list[str]:
    """One incident in ACLED's layout, then Frontline's columns (``HEADER``)."""
    kept = attributes(incident.provenance)
    place = catalog.places.get(incident.place_ids[0]) if incident.place_ids else None
    event_type, sub_event = event_types(incident, catalog)
    if kept.get("event_type"):  # ACLED's own type, while the incident is still of its kind
        theirs = kept["event_type"], kept.get("sub_event_type", "")
        if incident.kind in (kind_of(*theirs), IncidentKind.OTHER):
            event_type, sub_event = theirs
    first, second = actor_columns(incident)
    actors = _actors(first, second, kept, catalog)
    day, precision = _date(incident, kept)
    location = _location(place, kept)
    values = {
        **{c: kept.get(c, "") for c in COLUMNS},
        "event_id_cnty": _record_id(incident),
        "event_date": day.isoformat(),
        "year": str(day.year),
        "time_precision": precision,
        "disorder_type": kept.get("disorder_type") or _disorder(event_type),
        "event_type": event_type,
        "sub_event_type": sub_event,
        **actors,
        "country": place.country if place else kept.get("country", ""),
        "admin1": (place.governorate or "") if place else kept.get("admin1", ""),
        "location": location,
        "latitude": _coordinate(place.latitude) if place else "",
        "longitude": _coordinate(place.longitude) if place else "",
        "source": "; ".join(str(s.get("outlet", "")) for s in incident.sources),
        "notes": incident.summary or "",
        "fatalities": "" if incident.fatalities is None else str(incident.fatalities),
        "timestamp": _timestamp(incident, updated_at or incident.recorded_at),
    }
    if place is not None and location != kept.get("location"):
        values["admin2"] = values["admin3"] = ""  # another place than ACLED's: its admin areas
    return [values[c] for c in COLUMNS] + [
        str(incident.id), incident.kind.value, incident.status.value,
        incident.valid_from.isoformat(), incident.valid_to.isoformat(),
        incident.precision.value, place.slug if place else "",
        incident.recorded_at.isoformat(), str(incident.recorded_position), str(incident.version),
    ]  # fmt: skip


def _uuid(value: Any) -> UUID | None:
    return None if value in (None, "") else UUID(str(value))


def _record_id(incident: IncidentRow) -> str:
    provenance = incident.provenance or {}
    if provenance.get("dataset") == DATASET and provenance.get("record_id"):
        return str(provenance["record_id"])
    return f"FL-{incident.id}"


def _timestamp(incident: IncidentRow, updated_at: datetime) -> str:
    """ACLED's revision stamp; for an incident that is not ACLED's, the record time of its
    latest version (a later export of an amended one carries a newer stamp)."""
    provenance = incident.provenance or {}
    if provenance.get("dataset") == DATASET and str(provenance.get("revision", "")).isdigit():
        return str(provenance["revision"])
    return str(int(updated_at.timestamp()))


def _disorder(event_type: str) -> str:
    return STRATEGIC if event_type == STRATEGIC else "Political violence"


def _coordinate(value: float) -> str:
    return f"{value:.5f}".rstrip("0").rstrip(".")


def _names(ids: list[UUID], catalog: Catalog) -> list[str]:
    return [catalog.actors[a].name for a in ids if a in catalog.actors]


def _actors(
    first: list[UUID], second: list[UUID], kept: Mapping[str, str], catalog: Catalog
) -> dict[str, str]:
    """ACLED's four actor columns and two types: as ACLED gave them while the incident still
    names the same actors, otherwise from Frontline's actors."""
    ours = {*_names(first, catalog), *_names(second, catalog)}
    theirs = {
        name.strip()
        for column in ("actor1", "assoc_actor_1", "actor2", "assoc_actor_2")
        for name in kept.get(column, "").split(";")
        if name.strip()
    }
    if kept and ours == theirs:
        return {c: kept.get(c, "") for c in (
            "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2",
            "interaction")}  # fmt: skip
    one, two = _names(first, catalog), _names(second, catalog)
    inter1 = _inter(first[:1], catalog)
    inter2 = _inter(second[:1], catalog)
    return {
        "actor1": one[0] if one else "",
        "assoc_actor_1": "; ".join(one[1:]),
        "inter1": inter1,
        "actor2": two[0] if two else "",
        "assoc_actor_2": "; ".join(two[1:]),
        "inter2": inter2,
        "interaction": "-".join(t for t in (inter1, inter2) if t),
    }


def _inter(ids: list[UUID], catalog: Catalog) -> str:
    actor = catalog.actors.get(ids[0]) if ids else None
    return INTER_OF.get(actor.kind, "") if actor else ""


def _date(incident: IncidentRow, kept: Mapping[str, str]) -> tuple[date, str]:
    """event_date and time_precision: 2 for a Monday-to-Monday week, 3 for a calendar month
    (the day ACLED gave when it still lies in the span), 1 otherwise: the day of a day (a
    local one, such as 21:00Z to 21:00Z at +03:00, is named by its middle), else the start's
    day in UTC; the exact span is in frontline_valid_from/to."""
    start, end = incident.valid_from.astimezone(UTC), incident.valid_to.astimezone(UTC)
    day = start.date()
    if incident.precision is TimePrecision.DAY:  # a local day (21:00Z to 21:00Z at +03:00)
        return (start + timedelta(hours=12)).date(), "1"
    if incident.precision is TimePrecision.RANGE and start == _midnight(day):
        within = _kept_date(kept, start, end) or day
        if day.weekday() == 0 and end == start + timedelta(days=7):
            return within, "2"
        following = (_midnight(day.replace(day=1)) + timedelta(days=32)).replace(day=1)
        if day.day == 1 and end == following:
            return within, "3"
    return day, "1"


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _kept_date(kept: Mapping[str, str], start: datetime, end: datetime) -> date | None:
    try:
        day = parse_date(kept.get("event_date", ""))
    except ValueError:
        return None
    return day if start <= _midnight(day) < end else None


def _location(place: PlaceRow | None, kept: Mapping[str, str]) -> str:
    """ACLED's name for the place while it is still this place (its name or an alias)."""
    if place is None:
        return kept.get("location", "")
    theirs = kept.get("location", "")
    names = {n.casefold() for n in (place.name, *place.aliases)}
    return theirs if theirs and theirs.casefold() in names else place.name


async def catalog(conn: Any) -> Catalog:
    places = {r["id"]: place_from_row(r) for r in await conn.fetch(SELECT_PLACES)}
    actors = {r["id"]: actor_from_row(r) for r in await conn.fetch(SELECT_ACTORS)}
    return Catalog(places, actors)


async def export_acled(
    conn: Any,
    out: IO[str],
    *,
    as_of: datetime | None = None,
    known_position: int | None = None,
    progress: Callable[[int], None] = lambda _: None,
) -> int:
    """Write the incidents (that may have happened before ``as_of``, as known at log position
    ``known_position``) to ``out``; returns how many. One snapshot: a REPEATABLE READ
    transaction, read through a cursor so memory stays flat however many there are."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    written = 0
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        found = await catalog(conn)
        if known_position is None:
            cursor = conn.cursor(SELECT_CURRENT, as_of)
        else:
            cursor = conn.cursor(SELECT_KNOWN, as_of, known_position)
        batch: list[list[str]] = []
        async for row in cursor:
            incident = incident_from_row(row)
            if incident.status is ClaimStatus.RETRACTED:  # pragma: no cover - filtered in SQL
                continue
            batch.append(acled_row(incident, found, row["updated_at"]))
            if len(batch) == BATCH:
                writer.writerows(batch)
                written += len(batch)
                progress(len(batch))
                batch = []
        writer.writerows(batch)
        written += len(batch)
        progress(len(batch))
    return written
