"""Building blocks shared by the queries: parameters, record time, the control probe, and
the place filters (bounding box, radius, governorate, kind).

Queries are assembled from the constant fragments below, so a filter that is not asked for
is absent from the SQL rather than disabled by a ``$n IS NULL OR ...`` that would keep the
planner away from the indexes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final

from domain.errors import InvalidCoordinates, InvalidInput, InvalidTime
from domain.vocabulary import PlaceKind
from readmodel.constants import EARTH_RADIUS_KM, MAX_POSITION, NEVER

BBox = tuple[float, float, float, float]  # (min_lat, min_lon, max_lat, max_lon)
Near = tuple[float, float, float]  # (lat, lon, radius_km)


def parse_position(text: str) -> int:
    """A log position written in a cursor: a decimal integer from 0 to MAX_POSITION."""
    position = int(text)
    if not 0 <= position <= MAX_POSITION:
        msg = f"position {text[:30]} is out of range"
        raise ValueError(msg)
    return position


# The log position known at a record time K: the last event recorded at or before K (0 when
# none). recorded_at never decreases with position, so this is one backward scan of the
# recorded_at index. A NULL K means "everything known", i.e. the rows still believed.
KNOWN_POSITION: Final = f"""
CASE WHEN {{0}}::timestamptz IS NULL THEN {MAX_POSITION} ELSE coalesce((
    SELECT e.notification_id FROM public.frontline_events AS e
     WHERE e.recorded_at <= {{0}}::timestamptz
     ORDER BY e.recorded_at DESC, e.notification_id DESC
     LIMIT 1), 0) END"""

WITH_KNOWN: Final = "k AS (SELECT " + KNOWN_POSITION + " AS pk)"
# The same, for a log position given as it is ("as known right after write N").
WITH_KNOWN_POSITION: Final = "k AS (SELECT {0}::bigint AS pk)"

#: Record time as a query takes it: a moment (what had been recorded by then), a log
#: position (what the log held up to it), or None (everything known now).
Known = datetime | int | None

# The control row of a place at valid time {t} as known at position {pk}. The GiST index on
# `span` answers the degenerate-box containment (GiST box_ops does not index `box @> point`,
# only `box @> box`); the exact half-open conditions then settle the shared edges.
# Open bounds are stored as far-away numbers in `span` (readmodel.constants), hence
# least(..., NEVER): "everything known" probes the still-believed rows' top edge.
CONTROL_AT: Final = f"""
{{c}}.span @> box(point(extract(epoch FROM {{t}})::float8, least({{pk}}::float8, {NEVER!r})),
                 point(extract(epoch FROM {{t}})::float8, least({{pk}}::float8, {NEVER!r})))
AND {{c}}.known_from <= {{pk}} AND ({{c}}.known_to IS NULL OR {{c}}.known_to > {{pk}})
AND ({{c}}.valid_from IS NULL OR {{c}}.valid_from <= {{t}})
AND ({{c}}.valid_to IS NULL OR {{t}} < {{c}}.valid_to)"""

# A place known at position {pk}: registered by then.
PLACE_KNOWN: Final = "{p}.position <= {pk}"
PLACE_LAT_BETWEEN: Final = "{p}.latitude BETWEEN {0}::float8 AND {1}::float8"
PLACE_LON_BETWEEN: Final = "{p}.longitude BETWEEN {0}::float8 AND {1}::float8"
PLACE_LON_OUTSIDE: Final = "({p}.longitude >= {0}::float8 OR {p}.longitude <= {1}::float8)"
PLACE_WITHIN_KM: Final = f"""
2 * {EARTH_RADIUS_KM!r} * asin(least(1, sqrt(
    power(sin(radians({{p}}.latitude - {{0}}::float8) / 2), 2)
    + cos(radians({{0}}::float8)) * cos(radians({{p}}.latitude))
      * power(sin(radians({{p}}.longitude - {{1}}::float8) / 2), 2)))) <= {{2}}::float8"""
PLACE_IN_GOVERNORATE: Final = "{p}.governorate = {0}::text"
PLACE_OF_KINDS: Final = "{p}.kind = ANY({0}::text[])"


class Query:
    """Numbered asyncpg parameters and AND-ed conditions for one statement."""

    def __init__(self) -> None:
        self.args: list[Any] = []
        self.conditions: list[str] = []
        self.with_known = ""

    def param(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def sql(self, fragment: str, *values: Any, **names: str) -> str:
        """``fragment`` with ``{0}``, ``{1}``... bound to ``values`` as parameters and
        ``{name}`` replaced verbatim (aliases and expressions built here, never user input)."""
        return fragment.format(*(self.param(v) for v in values), **names)

    def where(self, fragment: str, *values: Any, **names: str) -> None:
        """AND ``fragment`` (see ``sql``) into this statement's main WHERE clause."""
        self.conditions.append(self.sql(fragment, *values, **names))

    def known_position(self, known_at: Known) -> str:
        """An SQL expression for the log position known at ``known_at`` (see KNOWN_POSITION;
        a position stands for itself), as a scalar subquery of the ``k`` CTE that
        ``WITH_KNOWN`` defines."""
        if isinstance(known_at, int):
            self.with_known = self.sql(WITH_KNOWN_POSITION, known_at)
        else:
            self.with_known = self.sql(WITH_KNOWN, optional_aware(known_at, "knownAt"))
        return "(SELECT pk FROM k)"

    @property
    def clause(self) -> str:
        return " AND ".join(f"({c})" for c in self.conditions) or "true"


def aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidTime(f"{field} must be a datetime with a UTC offset", field=field)
    return value


def optional_aware(value: datetime | None, field: str) -> datetime | None:
    return None if value is None else aware(value, field)


def place_filters(
    q: Query,
    *,
    bbox: BBox | None = None,
    near: Near | None = None,
    governorate: str | None = None,
    kinds: Iterable[PlaceKind | str] | None = None,
    p: str = "p",
) -> list[str]:
    """The conditions for the place filters asked for, on places aliased ``p``.

    ``bbox`` = (min_lat, min_lon, max_lat, max_lon), inclusive; min_lon > max_lon crosses the
    antimeridian. ``near`` = (lat, lon, radius_km): great-circle (haversine) distance, after a
    bounding-box prefilter that the (latitude, longitude) index can serve.
    """
    found: list[str] = []
    if bbox is not None:
        min_lat, min_lon, max_lat, max_lon = _checked_bbox(bbox)
        found.append(q.sql(PLACE_LAT_BETWEEN, min_lat, max_lat, p=p))
        if min_lon <= max_lon:
            found.append(q.sql(PLACE_LON_BETWEEN, min_lon, max_lon, p=p))
        else:
            found.append(q.sql(PLACE_LON_OUTSIDE, min_lon, max_lon, p=p))
    if near is not None:
        lat, lon, radius = _checked_near(near)
        dlat = math.degrees(radius / EARTH_RADIUS_KM)
        found.append(q.sql(PLACE_LAT_BETWEEN, max(-90.0, lat - dlat), min(90.0, lat + dlat), p=p))
        cos_lat = math.cos(math.radians(min(89.9, abs(lat) + dlat)))
        dlon = dlat / cos_lat if cos_lat > 0 else 180.0
        if lon - dlon >= -180 and lon + dlon <= 180 and abs(lat) + dlat < 89.9:
            found.append(q.sql(PLACE_LON_BETWEEN, lon - dlon, lon + dlon, p=p))
        found.append(q.sql(PLACE_WITHIN_KM, lat, lon, radius, p=p))
    if governorate is not None:
        found.append(q.sql(PLACE_IN_GOVERNORATE, governorate, p=p))
    if kinds is not None:
        found.append(q.sql(PLACE_OF_KINDS, [PlaceKind(k).value for k in kinds], p=p))
    return found


def _checked_bbox(bbox: BBox) -> BBox:
    min_lat, min_lon, max_lat, max_lon = (float(v) for v in bbox)
    _check_lat(min_lat, "bbox.minLatitude")
    _check_lat(max_lat, "bbox.maxLatitude")
    _check_lon(min_lon, "bbox.minLongitude")
    _check_lon(max_lon, "bbox.maxLongitude")
    if min_lat > max_lat:
        raise InvalidCoordinates("bbox: minimum latitude above maximum", field="bbox")
    return min_lat, min_lon, max_lat, max_lon


def _checked_near(near: Near) -> Near:
    lat, lon, radius = (float(v) for v in near)
    _check_lat(lat, "near.latitude")
    _check_lon(lon, "near.longitude")
    if not math.isfinite(radius) or radius <= 0:
        raise InvalidInput("near: the radius must be a positive number of km", field="near")
    return lat, lon, radius


def _check_lat(value: float, field: str) -> None:
    if not math.isfinite(value) or not -90 <= value <= 90:
        raise InvalidCoordinates(f"{field} {value} is outside ±90", field=field)


def _check_lon(value: float, field: str) -> None:
    if not math.isfinite(value) or not -180 <= value <= 180:
        raise InvalidCoordinates(f"{field} {value} is outside ±180", field=field)
