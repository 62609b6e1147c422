"""The incident feed, with keyset pagination, and single incidents.

``rm.incidents`` holds each incident as currently believed (its latest status, time and
places), so the feed answers "now"; it is not bitemporal.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Final
from uuid import UUID

from domain.errors import InvalidInput
from domain.vocabulary import AssessmentTier, ClaimStatus, IncidentKind
from readmodel.queries.rows import IncidentRow, incident_from_row
from readmodel.queries.sql import BBox, Near, Query, aware, parse_position, place_filters

MAX_LIMIT: Final = 500
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)


class FeedOrder(StrEnum):
    RECENT = "recent"  # latest valid time first; ties: latest recorded first
    LOG = "log"  # record order, oldest first (to follow the log)


SELECT_INCIDENT: Final = "SELECT i.* FROM rm.incidents AS i WHERE i.id = $1"
SELECT_FEED: Final = """
SELECT i.* FROM rm.incidents AS i
 WHERE {conditions}
 ORDER BY {order}
 LIMIT {limit}
"""
ORDER_BY: Final = {
    FeedOrder.RECENT: "i.valid_from DESC, i.recorded_position DESC",
    FeedOrder.LOG: "i.recorded_position ASC",
}
OF_KINDS: Final = "i.kind = ANY({0}::text[])"
AT_LEAST_FATALITIES: Final = "i.fatalities >= {0}::integer"
OF_TIERS: Final = "i.kind = 'assessment' AND i.details->>'tier' = ANY({0}::text[])"
WITH_STATUSES: Final = "i.status = ANY({0}::text[])"
INVOLVING_ACTOR: Final = "i.actor_ids @> ARRAY[{0}::uuid]"
AT_PLACE: Final = "i.place_ids @> ARRAY[{0}::uuid]"
AT_PLACES_WHERE: Final = "i.place_ids && ARRAY(SELECT p.id FROM rm.places AS p WHERE {where})"
# An incident may have happened any time in [valid_from, valid_to]; keep it when that span
# meets the window [from, to). Exact incidents have valid_to = valid_from.
ENDS_AFTER: Final = "i.valid_to > {0}::timestamptz OR i.valid_from >= {0}::timestamptz"
STARTS_BEFORE: Final = "i.valid_from < {0}::timestamptz"
AFTER_RECENT: Final = "(i.valid_from, i.recorded_position) < ({0}::timestamptz, {1}::bigint)"
AFTER_LOG: Final = "i.recorded_position > {0}::bigint"


#: What a feed shows when no kind is asked for: events, not assessments. An assessment is an
#: observation of a state, and a baseline map of a thousand places must not flood a feed of
#: what happened (nor its subscribers); ask for them by kind or by tier.
EVENT_KINDS: Final = tuple(k for k in IncidentKind if k is not IncidentKind.ASSESSMENT)


def shown_kinds(
    kinds: Iterable[IncidentKind | str] | None, tiers: Iterable[AssessmentTier | str] | None
) -> list[IncidentKind]:
    """The kinds a feed with these filters shows (see EVENT_KINDS): those asked for; with
    only ``tiers``, assessments; with neither, every kind of event."""
    if kinds is not None:
        return [IncidentKind(k) for k in kinds]
    return [IncidentKind.ASSESSMENT] if tiers is not None else list(EVENT_KINDS)


class InvalidCursor(InvalidInput):
    code = "INVALID_CURSOR"


def feed_cursor(row: IncidentRow, order: FeedOrder | str = FeedOrder.RECENT) -> str:
    """The opaque cursor that resumes a feed in ``order`` right after ``row``."""
    if FeedOrder(order) is FeedOrder.LOG:
        text = f"log:{row.recorded_position}"
    else:
        micros = (row.valid_from - _EPOCH) // _MICROSECOND
        text = f"recent:{micros}:{row.recorded_position}"
    return base64.urlsafe_b64encode(text.encode()).decode()


def _decode_cursor(cursor: str, order: FeedOrder) -> tuple[datetime | None, int]:
    try:
        parts = base64.urlsafe_b64decode(cursor.encode()).decode().split(":")
        if parts[0] != order.value:
            raise ValueError(parts[0])
        if order is FeedOrder.LOG and len(parts) == 2:
            return None, parse_position(parts[1])
        if order is FeedOrder.RECENT and len(parts) == 3:
            return _EPOCH + int(parts[1]) * _MICROSECOND, parse_position(parts[2])
    except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError):
        pass
    raise InvalidCursor(f"not a cursor of a {order.value!r} feed", field="after")


async def get_incident(conn: Any, incident_id: UUID) -> IncidentRow | None:
    """One incident as currently believed, or None."""
    row = await conn.fetchrow(SELECT_INCIDENT, incident_id)
    return None if row is None else incident_from_row(row)


async def incident_feed(
    conn: Any,
    *,
    kinds: Iterable[IncidentKind | str] | None = None,
    actor: UUID | None = None,
    place: UUID | None = None,
    bbox: BBox | None = None,
    near: Near | None = None,
    governorate: str | None = None,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
    statuses: Iterable[ClaimStatus | str] | None = None,
    tiers: Iterable[AssessmentTier | str] | None = None,
    min_fatalities: int | None = None,
    order: FeedOrder | str = FeedOrder.RECENT,
    after: str | None = None,
    limit: int = 50,
) -> list[IncidentRow]:
    """Incidents matching every filter given, one page at a time.

    ``kinds`` defaults to every kind but assessments (``shown_kinds``); ``tiers`` keeps only
    assessments of those tiers; ``min_fatalities`` incidents reporting at least that many
    deaths.
    ``actor``: the actor is named anywhere in the incident; ``place``: among its places;
    ``bbox``/``near``/``governorate``: at least one of its places lies there. The window
    [``valid_from``, ``valid_to``) keeps incidents whose possible time meets it. Retracted
    incidents are included (flagged by ``status``) unless ``statuses`` leaves them out.
    Pass ``feed_cursor(last_row, order)`` as ``after`` for the next page.
    """
    order = FeedOrder(order)
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    q = Query()
    q.where(OF_KINDS, [k.value for k in shown_kinds(kinds, tiers)])
    if tiers is not None:
        q.where(OF_TIERS, [AssessmentTier(t).value for t in tiers])
    if min_fatalities is not None:
        q.where(AT_LEAST_FATALITIES, min_fatalities)
    if statuses is not None:
        q.where(WITH_STATUSES, [ClaimStatus(s).value for s in statuses])
    if actor is not None:
        q.where(INVOLVING_ACTOR, actor)
    if place is not None:
        q.where(AT_PLACE, place)
    geo = place_filters(q, bbox=bbox, near=near, governorate=governorate)
    if geo:
        q.where(AT_PLACES_WHERE, where=" AND ".join(f"({c})" for c in geo))
    if valid_from is not None:
        q.where(ENDS_AFTER, aware(valid_from, "validFrom"))
    if valid_to is not None:
        q.where(STARTS_BEFORE, aware(valid_to, "validTo"))
    if after is not None:
        at, position = _decode_cursor(after, order)
        if at is None:
            q.where(AFTER_LOG, position)
        else:
            q.where(AFTER_RECENT, at, position)
    sql = SELECT_FEED.format(conditions=q.clause, order=ORDER_BY[order], limit=q.param(limit))
    return [incident_from_row(row) for row in await conn.fetch(sql, *q.args)]


# Both ends of the (valid_from DESC, ...) index: two index probes, however long the log.
# Retracted incidents are left out: one mistyped date, retracted, must not stretch a slider.
SELECT_OCCURRENCE_SPAN: Final = (
    "SELECT min(valid_from), max(valid_from) FROM rm.incidents WHERE status <> 'retracted'"
)


async def occurrence_span(conn: Any) -> tuple[datetime | None, datetime | None]:
    """When the earliest and the latest recorded incident began (None, None: no incident)."""
    row = await conn.fetchrow(SELECT_OCCURRENCE_SPAN)
    return row[0], row[1]
