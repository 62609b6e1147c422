"""What subscriptions follow: new incidents and control hand-overs, in log order after a key.

A *key* orders rows across the log: ``(position, tiebreak)``. An incident is the only one
recorded at its position, so its tiebreak is ``END`` and its key says "all of position p".
One event can hand over several places, so a hand-over's tiebreak is its place id (as an
integer; PostgreSQL orders uuids the same way). ``(p, END)`` therefore means "everything up
to and including position p", which is what a plain position cursor resumes after.

The filters are pure predicates over these rows, so the in-memory ring and the database
fallback of a subscription filter in exactly one way; they mirror the feed's SQL filters
(``readmodel.queries.incidents`` and ``readmodel.queries.sql.place_filters``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from uuid import UUID

from domain.control import ControlStatus
from domain.vocabulary import AssessmentTier, ClaimStatus, IncidentKind, PlaceKind
from readmodel.constants import EARTH_RADIUS_KM
from readmodel.queries.batch import places_by_id
from readmodel.queries.incidents import shown_kinds
from readmodel.queries.rows import IncidentRow, PlaceRow, incident_from_row
from readmodel.queries.sql import (
    BBox,
    Near,
    _checked_bbox,
    _checked_near,
    aware,
)

Key = tuple[int, int]
END: Final = 2**128 - 1  # the largest tiebreak: "all of this position"

# Each incident as it stood when it was recorded (its first version): an item that a cursor
# names is the same wherever it is read from, and whenever (rm.incidents moves on with every
# correction; the subscription's ring would hold what it read when it read it).
SELECT_INCIDENTS: Final = """
SELECT v.* FROM rm.incident_versions AS v
 WHERE v.updated_position > $1 AND v.updated_position <= $2 AND v.version = 1
 ORDER BY v.updated_position {direction} LIMIT $3
"""
SELECT_CHANGES: Final = """
SELECT c.* FROM rm.control_changes AS c
 WHERE (c.position, c.place_id) > ($1::bigint, $2::uuid) AND c.position <= $3
 ORDER BY c.position {direction}, c.place_id {direction} LIMIT $4
"""


@dataclass(frozen=True)
class NewIncident:
    """An incident as it was recorded, with its places (for the area filters)."""

    row: IncidentRow
    places: tuple[PlaceRow, ...]

    @property
    def key(self) -> Key:
        return (self.row.recorded_position, END)


@dataclass(frozen=True)
class ControlChangeRow:
    """One hand-over: who held ``place`` *now* before and after the event at ``position``."""

    position: int
    place: PlaceRow
    since: datetime | None
    before_status: ControlStatus | None
    before_controllers: tuple[UUID, ...]
    after_status: ControlStatus | None
    after_controllers: tuple[UUID, ...]
    evidence: tuple[UUID, ...]

    @property
    def key(self) -> Key:
        return (self.position, self.place.id.int)


async def new_incidents(
    conn: Any, after: Key, upto: int, limit: int, *, newest: bool = False
) -> list[NewIncident]:
    """Incidents with ``after < key <= (upto, END)``, in log order: the first ``limit``, or
    the last ``limit`` when ``newest``."""
    position, tiebreak = after
    # An incident's key is (p, END): (p, t) with t < END still precedes the incident at p.
    floor = position if tiebreak == END else position - 1
    sql = SELECT_INCIDENTS.format(direction="DESC" if newest else "ASC")
    rows = [incident_from_row(r) for r in await conn.fetch(sql, floor, upto, limit)]
    if newest:
        rows.reverse()
    places = await places_by_id(conn, sorted({p for r in rows for p in r.place_ids}))
    return [NewIncident(r, tuple(places[p] for p in r.place_ids if p in places)) for r in rows]


async def control_changes(
    conn: Any, after: Key, upto: int, limit: int, *, newest: bool = False
) -> list[ControlChangeRow]:
    """Hand-overs with ``after < key <= (upto, END)``, in log order: the first ``limit``, or
    the last ``limit`` when ``newest``."""
    sql = SELECT_CHANGES.format(direction="DESC" if newest else "ASC")
    rows = await conn.fetch(sql, after[0], UUID(int=after[1]), upto, limit)
    if newest:
        rows.reverse()
    places = await places_by_id(conn, sorted({r["place_id"] for r in rows}))
    # A hand-over's place is registered earlier in the log, so it is always there.
    return [_change(r, places[r["place_id"]]) for r in rows if r["place_id"] in places]


def _change(row: Any, place: PlaceRow) -> ControlChangeRow:
    def status(value: str | None) -> ControlStatus | None:
        return None if value is None else ControlStatus(value)

    return ControlChangeRow(
        position=row["position"],
        place=place,
        since=row["since"],
        before_status=status(row["before_status"]),
        before_controllers=tuple(row["before_controllers"]),
        after_status=status(row["after_status"]),
        after_controllers=tuple(row["after_controllers"]),
        evidence=tuple(row["evidence"]),
    )


# ---------------------------------------------------------------- filters

PlacePredicate = Callable[[PlaceRow], bool]


def place_matcher(
    *,
    bbox: BBox | None = None,
    near: Near | None = None,
    governorate: str | None = None,
    kinds: Iterable[PlaceKind | str] | None = None,
) -> PlacePredicate | None:
    """A predicate for the place filters given (None: no place filter), with the semantics
    and validation of ``place_filters``: inclusive bbox (min_lon > max_lon crosses the
    antimeridian), great-circle distance for ``near``."""
    tests: list[PlacePredicate] = []
    if bbox is not None:
        min_lat, min_lon, max_lat, max_lon = _checked_bbox(bbox)
        tests.append(lambda p: min_lat <= p.latitude <= max_lat)
        if min_lon <= max_lon:
            tests.append(lambda p: min_lon <= p.longitude <= max_lon)
        else:
            tests.append(lambda p: p.longitude >= min_lon or p.longitude <= max_lon)
    if near is not None:
        lat, lon, radius = _checked_near(near)
        tests.append(lambda p: distance_km(lat, lon, p.latitude, p.longitude) <= radius)
    if governorate is not None:
        tests.append(lambda p: p.governorate == governorate)
    if kinds is not None:
        wanted = {PlaceKind(k) for k in kinds}
        tests.append(lambda p: p.kind in wanted)
    return None if not tests else lambda p: all(test(p) for test in tests)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance, the same formula as the SQL filter."""
    h = (
        math.sin(math.radians(lat2 - lat1) / 2) ** 2
        + math.cos(math.radians(lat1))
        * math.cos(math.radians(lat2))
        * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def incident_matcher(
    *,
    kinds: Iterable[IncidentKind | str] | None = None,
    statuses: Iterable[ClaimStatus | str] | None = None,
    tiers: Iterable[AssessmentTier | str] | None = None,
    min_fatalities: int | None = None,
    actor: UUID | None = None,
    place: UUID | None = None,
    bbox: BBox | None = None,
    near: Near | None = None,
    governorate: str | None = None,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
) -> Callable[[NewIncident], bool]:
    """The incident feed's filters (``incident_feed``) as a predicate: all given must hold;
    ``kinds`` defaults as the feed's do (``shown_kinds``)."""
    kind_set = set(shown_kinds(kinds, tiers))
    tier_set = None if tiers is None else {AssessmentTier(t).value for t in tiers}
    status_set = None if statuses is None else {ClaimStatus(s) for s in statuses}
    at_place = place_matcher(bbox=bbox, near=near, governorate=governorate)
    start = None if valid_from is None else aware(valid_from, "validFrom")
    end = None if valid_to is None else aware(valid_to, "validTo")

    def matches(item: NewIncident) -> bool:
        row = item.row
        return (
            row.kind in kind_set
            and (tier_set is None or row.details.get("tier") in tier_set)
            and (
                min_fatalities is None
                or (row.fatalities is not None and row.fatalities >= min_fatalities)
            )
            and (status_set is None or row.status in status_set)
            and (actor is None or actor in row.actor_ids)
            and (place is None or place in row.place_ids)
            and (at_place is None or any(at_place(p) for p in item.places))
            # The incident's possible span [valid_from, valid_to] meets [start, end).
            and (start is None or row.valid_to > start or row.valid_from >= start)
            and (end is None or row.valid_from < end)
        )

    return matches


def change_matcher(
    *,
    actor: UUID | None = None,
    bbox: BBox | None = None,
    near: Near | None = None,
    governorate: str | None = None,
    kinds: Iterable[PlaceKind | str] | None = None,
) -> Callable[[ControlChangeRow], bool]:
    """Hand-overs at places matching the place filters, and involving ``actor`` (holding the
    place before or after) when given."""
    at_place = place_matcher(bbox=bbox, near=near, governorate=governorate, kinds=kinds)

    def matches(change: ControlChangeRow) -> bool:
        involved = (*change.before_controllers, *change.after_controllers)
        return (actor is None or actor in involved) and (at_place is None or at_place(change.place))

    return matches
