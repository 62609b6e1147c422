"""Per-actor answers: places held, gains and losses, aircraft tallies, incidents.

An actor counts as holding a place when it is among the place's controllers (sole or joint
holder); membership of a coalition is not expanded.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final
from uuid import UUID

from domain.vocabulary import AircraftOutcome, ClaimStatus, IncidentKind
from readmodel.queries.control import changes_between, control_map
from readmodel.queries.incidents import FeedOrder, incident_feed
from readmodel.queries.rows import AircraftTally, GainsAndLosses, IncidentRow, PlaceControl
from readmodel.queries.sql import Known, Query, aware

# `count` defaults to 1 for details stored before it existed. The GIN index on actor_ids
# narrows to the actor's incidents; the jsonb fields then say which role it played.
SELECT_AIRCRAFT_TALLY: Final = """
SELECT i.details ->> 'outcome' AS outcome,
       sum(CASE WHEN i.details ->> 'operator' = {actor_text}
                THEN coalesce((i.details ->> 'count')::int, 1) ELSE 0 END) AS lost,
       sum(CASE WHEN i.details ->> 'claimed_by' = {actor_text}
                THEN coalesce((i.details ->> 'count')::int, 1) ELSE 0 END) AS downed
  FROM rm.incidents AS i
 WHERE {conditions}
 GROUP BY 1
"""
AIRCRAFT_OF_ACTOR: Final = (
    "i.kind = 'aircraft_loss' AND i.status <> 'retracted' AND i.actor_ids @> ARRAY[{0}::uuid]"
)
SINCE: Final = "i.valid_from >= {0}::timestamptz"
UNTIL: Final = "i.valid_from < {0}::timestamptz"


async def places_held(
    conn: Any, actor_id: UUID, as_of: datetime, known_at: Known = None
) -> list[PlaceControl]:
    """The places ``actor_id`` held (alone or jointly) at ``as_of``, as known at ``known_at``."""
    return await control_map(conn, as_of, known_at, controller=actor_id)


async def gains_and_losses(
    conn: Any, actor_id: UUID, t1: datetime, t2: datetime, known_at: Known = None
) -> GainsAndLosses:
    """Places ``actor_id`` held at ``t2`` but not at ``t1`` (gained), and the reverse (lost),
    as known at ``known_at``. A place it held throughout, even with a changed partner, is
    neither."""
    changes = await changes_between(conn, t1, t2, known_at, controller=actor_id)
    gained, lost = [], []
    for change in changes:
        before = change.before is not None and actor_id in change.before.controllers
        after = change.after is not None and actor_id in change.after.controllers
        if after and not before:
            gained.append(change)
        elif before and not after:
            lost.append(change)
    return GainsAndLosses(actor_id, tuple(gained), tuple(lost))


async def aircraft_tally(
    conn: Any,
    actor_id: UUID,
    since: datetime | None = None,
    until: datetime | None = None,
) -> AircraftTally:
    """Aircraft ``actor_id`` lost (as operator) and downed (as claimant), summed by outcome.

    Retracted incidents don't count; disputed ones do (the feed flags them). ``since`` /
    ``until`` bound the incidents' earliest possible time, ``[since, until)``.
    """
    q = Query()
    actor_text = q.param(str(actor_id)) + "::text"
    q.where(AIRCRAFT_OF_ACTOR, actor_id)
    if since is not None:
        q.where(SINCE, aware(since, "since"))
    if until is not None:
        q.where(UNTIL, aware(until, "until"))
    sql = SELECT_AIRCRAFT_TALLY.format(actor_text=actor_text, conditions=q.clause)
    lost = dict.fromkeys(AircraftOutcome, 0)
    downed = dict.fromkeys(AircraftOutcome, 0)
    for row in await conn.fetch(sql, *q.args):
        outcome = AircraftOutcome(row["outcome"])
        lost[outcome] += row["lost"]
        downed[outcome] += row["downed"]
    return AircraftTally(actor_id, lost, downed)


async def incidents_of_actor(
    conn: Any,
    actor_id: UUID,
    *,
    kinds: Iterable[IncidentKind | str] | None = None,
    place: UUID | None = None,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
    statuses: Iterable[ClaimStatus | str] | None = None,
    order: FeedOrder | str = FeedOrder.RECENT,
    after: str | None = None,
    limit: int = 50,
) -> list[IncidentRow]:
    """``incident_feed`` restricted to incidents naming ``actor_id`` in any role."""
    return await incident_feed(
        conn, kinds=kinds, actor=actor_id, place=place, valid_from=valid_from,
        valid_to=valid_to, statuses=statuses, order=order, after=after, limit=limit,
    )  # fmt: skip
