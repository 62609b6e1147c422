"""Rewriting a place's bitemporal control timeline after its facts change.

The domain computes the whole timeline from the place's facts (``domain.control.timeline``);
here we diff it against what is currently believed, close the intervals that no longer hold
(``known_to`` = this position) and add the new ones (``known_from`` = this position). Earlier
beliefs are never touched, which is what makes ``knownAt`` answers reproducible.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.control import ControlStatus, Fact, Interval, timeline
from domain.vocabulary import IncidentKind, TimePrecision


def span(valid_from: str, valid_to: str, known_from: str, known_to: str) -> str:
    """SQL for the rectangle (valid time × log position) a row covers, for the GiST index.

    Open bounds become far-away finite numbers because GiST boxes want finite coordinates.
    """
    return (
        f"box(point(coalesce(extract(epoch FROM {valid_from})::float8, -1e11), "
        f"{known_from}::float8), "
        f"point(coalesce(extract(epoch FROM {valid_to})::float8, 1e11), "
        f"coalesce({known_to}::float8, 1e18)))"
    )


INSERT_CHANGE = """
INSERT INTO {s}.control_changes (position, place_id, since, before_status, before_controllers,
    after_status, after_controllers, evidence)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
"""
SELECT_FACTS_OF_INCIDENT = "SELECT * FROM {s}.place_facts WHERE incident_id = $1"
SELECT_FACTS_OF_PLACE = "SELECT * FROM {s}.place_facts WHERE place_id = $1"
DELETE_FACTS_OF_INCIDENT = "DELETE FROM {s}.place_facts WHERE incident_id = $1"
INSERT_FACT = """
INSERT INTO {s}.place_facts (place_id, incident_id, kind, effective_at, certain_from, precision,
    recorded_position, controllers, withdrawn, previous, disputed)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
"""
SELECT_BELIEVED = "SELECT * FROM {s}.control WHERE place_id = $1 AND known_to IS NULL"
CLOSE_INTERVALS = (
    "UPDATE {s}.control SET known_to = $2, "
    f"span = {span('valid_from', 'valid_to', 'known_from', '$2::bigint')} "
    "WHERE id = ANY($1::bigint[])"
)
INSERT_INTERVAL = (
    "INSERT INTO {s}.control (place_id, valid_from, valid_to, known_from, status, controllers, "
    "evidence, disputed, inferred, precision, certain_from, span) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
    f"{span('$2::timestamptz', '$3::timestamptz', '$4::bigint', 'NULL::bigint')})"
)


async def rewrite_timelines(
    conn: Any, schema: str, incident_id: UUID, facts: dict[UUID, Fact], position: int
) -> None:
    """Replace one incident's facts and rewrite the timeline of every place that changed."""
    rows = await conn.fetch(SELECT_FACTS_OF_INCIDENT.format(s=schema), incident_id)
    old = {row["place_id"]: fact_from_row(row) for row in rows}
    if old == facts:
        return
    await conn.execute(DELETE_FACTS_OF_INCIDENT.format(s=schema), incident_id)
    await conn.executemany(
        INSERT_FACT.format(s=schema), [fact_to_args(place, f) for place, f in facts.items()]
    )
    for place in sorted(old.keys() | facts.keys()):
        if old.get(place) != facts.get(place):
            await rewrite_place(conn, schema, place, position)


async def rewrite_place(conn: Any, schema: str, place_id: UUID, position: int) -> None:
    rows = await conn.fetch(SELECT_FACTS_OF_PLACE.format(s=schema), place_id)
    wanted = timeline(fact_from_row(row) for row in rows)
    believed = {
        interval_from_row(row): row["id"]
        for row in await conn.fetch(SELECT_BELIEVED.format(s=schema), place_id)
    }
    keep = set(wanted)
    stale = [row_id for interval, row_id in believed.items() if interval not in keep]
    if stale:
        await conn.execute(CLOSE_INTERVALS.format(s=schema), stale, position)
    fresh = [interval for interval in wanted if interval not in believed]
    await conn.executemany(
        INSERT_INTERVAL.format(s=schema), [interval_to_args(place_id, i, position) for i in fresh]
    )
    before, after = _latest(list(believed)), _latest(wanted)
    if _holding(before) != _holding(after):
        await conn.execute(
            INSERT_CHANGE.format(s=schema),
            position, place_id, after and after.valid_from,
            before and before.status.value, list(before.controllers if before else ()),
            after and after.status.value, list(after.controllers if after else ()),
            list(after.evidence if after else ()),
        )  # fmt: skip


def _latest(intervals: list[Interval]) -> Interval | None:
    """The interval that holds until further notice, i.e. the state *now*."""
    return next((i for i in intervals if i.valid_to is None), None)


def _holding(interval: Interval | None) -> tuple[str, tuple[UUID, ...]] | None:
    return None if interval is None else (interval.status.value, interval.controllers)


def fact_to_args(place_id: UUID, f: Fact) -> tuple[Any, ...]:
    return (
        place_id, f.incident_id, f.kind.value, f.effective_at, f.certain_from, f.precision.value,
        f.recorded_position, list(f.controllers), f.withdrawn, f.previous, f.disputed,
    )  # fmt: skip


def fact_from_row(row: Any) -> Fact:
    return Fact(
        incident_id=row["incident_id"],
        kind=IncidentKind(row["kind"]),
        effective_at=row["effective_at"],
        certain_from=row["certain_from"],
        precision=TimePrecision(row["precision"]),
        recorded_position=row["recorded_position"],
        controllers=tuple(row["controllers"]),
        withdrawn=row["withdrawn"],
        previous=row["previous"],
        disputed=row["disputed"],
    )


def interval_to_args(place_id: UUID, i: Interval, position: int) -> tuple[Any, ...]:
    return (
        place_id, i.valid_from, i.valid_to, position, i.status.value, list(i.controllers),
        list(i.evidence), i.disputed, i.inferred,
        None if i.precision is None else i.precision.value, i.certain_from,
    )  # fmt: skip


def interval_from_row(row: Any) -> Interval:
    return Interval(
        valid_from=row["valid_from"],
        valid_to=row["valid_to"],
        status=ControlStatus(row["status"]),
        controllers=tuple(row["controllers"]),
        evidence=tuple(row["evidence"]),
        disputed=row["disputed"],
        inferred=row["inferred"],
        precision=None if row["precision"] is None else TimePrecision(row["precision"]),
        certain_from=row["certain_from"],
    )
