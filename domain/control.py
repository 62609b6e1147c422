"""Control of territory, derived from territorial incidents. Pure: no I/O, no clocks.

The rules, in plain words (the README repeats them for users):

1. Only captures and withdrawals change who holds a place. Retracted incidents do not count.
   Disputed ones count, and the state they cause is flagged ``disputed``.
2. Each incident takes effect at the *earliest* instant its valid time allows (an exact time;
   midnight starting a day-precision date, in the report's own offset; the start of a range).
   Until its ``certain_from`` (the *latest* instant it allows: the end of that day or range)
   a state it caused is flagged ``uncertain`` for instants before then.
3. Incidents are applied in valid-time order; equal valid times are applied in record order
   (the position at which each incident was first recorded), so the later report wins.
4. A capture makes the place HELD by the capturers.
   A withdrawal by a holder hands the place to ``handed_to`` when named; otherwise to the
   other holders, if any; otherwise the place is CONTESTED (abandoned, nobody holds it).
   A withdrawal by someone who does not hold the place changes nothing.
5. Before the first incident, the place is inferred to have been held by whoever that
   incident says held it (the capture's ``taken_from``, or the withdrawing actor); such a
   state is flagged ``inferred``. With nothing to infer from, the place is simply unknown.
6. Incidents at the same instant are applied together, in record order: only the state the
   instant ends in counts, so an overruled report leaves no trace.
7. Consecutive states with the same status and set of holders merge into one interval whose
   evidence lists every incident behind it; it is disputed (or inferred) only if all are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from itertools import groupby, pairwise
from uuid import UUID

from domain.details import Capture, Withdrawal
from domain.incidents import Incident
from domain.vocabulary import IncidentKind, TimePrecision


class ControlStatus(StrEnum):
    HELD = "held"
    CONTESTED = "contested"


@dataclass(frozen=True)
class Fact:
    """One territorial incident's effect on one place, as currently believed."""

    incident_id: UUID
    kind: IncidentKind
    effective_at: datetime
    certain_from: datetime
    precision: TimePrecision
    recorded_position: int
    controllers: tuple[UUID, ...]  # capturers, or the actor a withdrawal hands over to
    withdrawn: UUID | None  # the withdrawing actor
    previous: UUID | None  # who held it before, as the incident says
    disputed: bool

    @property
    def order(self) -> tuple[datetime, int]:
        return self.effective_at, self.recorded_position


@dataclass(frozen=True)
class Interval:
    """A span of valid time ``[valid_from, valid_to)`` in one control state.

    ``None`` bounds are open: since forever, or until further notice.
    """

    valid_from: datetime | None
    valid_to: datetime | None
    status: ControlStatus
    controllers: tuple[UUID, ...]
    evidence: tuple[UUID, ...]
    disputed: bool
    inferred: bool
    precision: TimePrecision | None
    certain_from: datetime | None

    def same_state(self, other: Interval) -> bool:
        """Same status and the same set of holders (the order they were listed in is noise)."""
        return (self.status, frozenset(self.controllers)) == (
            other.status,
            frozenset(other.controllers),
        )


def facts_of(incident: Incident, recorded_position: int) -> dict[UUID, Fact]:
    """The control facts an incident contributes, one per place; none if it doesn't count."""
    details = incident.details
    if incident.retracted or not isinstance(details, Capture | Withdrawal):
        return {}
    if isinstance(details, Capture):
        controllers, withdrawn, previous = details.by, None, details.taken_from
    else:
        handed = () if details.handed_to is None else (details.handed_to,)
        controllers, withdrawn, previous = handed, details.actor, details.actor
    time = incident.valid_time
    return {
        place: Fact(
            incident_id=incident.id,
            kind=details.kind,
            effective_at=time.earliest,
            certain_from=time.latest,
            precision=time.precision,
            recorded_position=recorded_position,
            controllers=tuple(controllers),
            withdrawn=withdrawn,
            previous=previous,
            disputed=incident.disputed,
        )
        for place in incident.place_ids
    }


def timeline(facts: Iterable[Fact]) -> list[Interval]:
    """A place's control history as consecutive, non-overlapping intervals."""
    ordered = sorted(facts, key=lambda f: f.order)
    if not ordered:
        return []
    prior = _inferred_prior(ordered[0])
    states = [] if prior is None else [prior]
    for _, same_instant in groupby(ordered, key=lambda f: f.effective_at):
        _apply_instant(states, list(same_instant))
    return _close(states)


def extend(intervals: list[Interval], fact: Fact) -> tuple[int, list[Interval]]:
    """The timeline after adding a fact later than every fact behind ``intervals``.

    Returns ``(k, tail)``: the new timeline is ``intervals[:k] + tail``. Only the last two
    intervals can change (the last one is closed or merged into), so this costs O(1) where
    ``timeline`` costs O(n): the common case of reports arriving in valid-time order.
    """
    if not intervals:
        return 0, timeline([fact])
    keep = max(len(intervals) - 2, 0)
    states = [replace(i, valid_to=None) for i in intervals[keep:]]
    _apply_instant(states, [fact])
    return keep, _close(states)


def _apply_instant(states: list[Interval], facts: list[Fact]) -> None:
    """Apply the facts of one instant, in record order, to ``states`` (in place).

    Later-recorded facts of the same instant overrule earlier ones, so only the state the
    instant ends in is kept (added, or merged into an equal state before it); an overruled
    report leaves no trace in the timeline.
    """
    before = states[-1] if states else None
    current, last = before, None
    for fact in facts:
        nxt = _apply(current, fact)
        if nxt is not None:
            current = last = nxt
    if last is None:
        return
    if before is not None and before.same_state(last):
        states[-1] = _merge(before, last)
    else:
        states.append(last)


def _inferred_prior(first: Fact) -> Interval | None:
    if first.previous is None:
        return None
    return Interval(
        valid_from=None,
        valid_to=None,
        status=ControlStatus.HELD,
        controllers=(first.previous,),
        evidence=(first.incident_id,),
        disputed=first.disputed,
        inferred=True,
        precision=None,
        certain_from=None,
    )


def _apply(current: Interval | None, fact: Fact) -> Interval | None:
    """The state a fact starts, or ``None`` if it changes nothing."""
    if fact.kind is IncidentKind.CAPTURE:
        status, controllers = ControlStatus.HELD, fact.controllers
    else:
        holders = () if current is None else current.controllers
        if fact.withdrawn not in holders:
            return None
        remaining = tuple(a for a in holders if a != fact.withdrawn)
        controllers = fact.controllers or remaining
        status = ControlStatus.HELD if controllers else ControlStatus.CONTESTED
    return Interval(
        valid_from=fact.effective_at,
        valid_to=None,
        status=status,
        controllers=controllers,
        evidence=(fact.incident_id,),
        disputed=fact.disputed,
        inferred=False,
        precision=fact.precision,
        certain_from=fact.certain_from,
    )


def _merge(current: Interval, later: Interval) -> Interval:
    return Interval(
        valid_from=current.valid_from,
        valid_to=None,
        status=current.status,
        controllers=current.controllers,
        evidence=current.evidence + later.evidence,
        disputed=current.disputed and later.disputed,
        inferred=current.inferred and later.inferred,
        precision=current.precision,
        certain_from=current.certain_from,
    )


def _close(states: list[Interval]) -> list[Interval]:
    closed = [
        replace(state, valid_to=following.valid_from) for state, following in pairwise(states)
    ]
    return [*closed, states[-1]] if states else closed
