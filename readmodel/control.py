"""Revising a place's bitemporal control timeline when its facts change.

The domain computes timelines (``domain.control``); here we diff the new timeline against
the rows currently believed, close the ones that no longer hold (``known_to`` = this
position) and add the new ones (``known_from`` = this position). Earlier beliefs are never
touched, which is what makes ``knownAt`` answers reproducible.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.control import ControlStatus, Fact, Interval, extend, hands_over, timeline
from domain.vocabulary import IncidentKind, TimePrecision
from readmodel.constants import FAR_FUTURE, FAR_PAST, NEVER
from readmodel.memory import PlaceTimeline, Row

if TYPE_CHECKING:
    from readmodel.writer import BatchWriter


def span(valid_from: str, valid_to: str, known_from: str, known_to: str) -> str:
    """SQL for the rectangle (valid time × log position) a row covers, for the GiST index.

    Open bounds become far-away finite numbers because GiST boxes want finite coordinates
    (``readmodel.constants``).
    """
    return (
        f"box(point(coalesce(extract(epoch FROM {valid_from})::float8, {FAR_PAST!r}), "
        f"{known_from}::float8), "
        f"point(coalesce(extract(epoch FROM {valid_to})::float8, {FAR_FUTURE!r}), "
        f"coalesce({known_to}::float8, {NEVER!r})))"
    )


def revise(
    timeline_of_place: PlaceTimeline,
    place_id: UUID,
    incident_id: UUID,
    fact: Fact | None,
    position: int,
    writer: BatchWriter,
) -> None:
    """Set (or remove, with ``fact=None``) one incident's fact about a place, at ``position``."""
    tl = timeline_of_place
    old_fact = tl.facts.pop(incident_id, None)
    if fact is not None:
        tl.facts[incident_id] = fact
    intervals = [row.interval for row in tl.rows]
    if (
        old_fact is None
        and fact is not None
        and (tl.latest is None or fact.effective_at > tl.latest)
    ):
        keep, tail = extend(intervals, fact)  # the common case: a report later than all others
        tl.latest = fact.effective_at
    else:
        wanted = timeline(tl.facts.values())
        keep = _common_prefix(intervals, wanted)
        tail = wanted[keep:]
        tl.refresh_latest()
    before = intervals[-1] if intervals else None
    old_rows = {row.interval: row for row in tl.rows[keep:]}
    fresh = set(tail)
    for interval, row in old_rows.items():
        if interval not in fresh:
            writer.close(row, position)
    new_rows = []
    for interval in tail:
        kept = old_rows.get(interval)
        if kept is None:
            kept = Row(interval, position)
            writer.insert(place_id, kept)
        new_rows.append(kept)
    tl.rows = tl.rows[:keep] + new_rows
    after = tl.rows[-1].interval if tl.rows else None
    if hands_over(before, after):
        writer.change(position, place_id, before, after)


def _common_prefix(old: list[Interval], new: list[Interval]) -> int:
    n = 0
    for a, b in zip(old, new, strict=False):
        if a != b:
            break
        n += 1
    return n


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
        assessed=None if row["assessed"] is None else ControlStatus(row["assessed"]),
        confirmed=row["confirmed"],
    )


def row_from_record(record: Any) -> Row:
    interval = Interval(
        valid_from=record["valid_from"],
        valid_to=record["valid_to"],
        status=ControlStatus(record["status"]),
        controllers=tuple(record["controllers"]),
        evidence=tuple(record["evidence"]),
        disputed=record["disputed"],
        inferred=record["inferred"],
        precision=None if record["precision"] is None else TimePrecision(record["precision"]),
        certain_from=record["certain_from"],
        assessed=record["assessed"],
    )
    return Row(interval, record["known_from"], record["known_to"], record["id"])
