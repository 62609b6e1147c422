"""Control of territory, derived from territorial incidents and assessments. Pure: no I/O,
no clocks.

The rules, in plain words (the README repeats them for users):

1. Only captures, withdrawals and assessments decide who holds a place. Retracted records
   do not count. Disputed ones count, and the state they cause is flagged ``disputed``.
2. Each record takes effect at the *earliest* instant its valid time allows (an exact time;
   midnight starting a day-precision date, in the report's own offset; the start of a range).
   Until its ``certain_from`` (the *latest* instant it allows: the end of that day or range)
   a state it caused is flagged ``uncertain`` for instants before then.
3. Records are applied in valid-time order. At equal valid times a *confirmed* record (an
   incident or assessment confirmed by a correction and not disputed since, or an
   assessment of tier CONFIRMED not disputed) outranks the others; otherwise they are applied
   in record order (the position at which each was first recorded), so the later report wins.
4. A capture makes the place HELD by the capturers.
   A withdrawal by a holder hands the place to ``handed_to`` when named; otherwise to the
   other holders, if any; otherwise the place is CONTESTED with nobody holding it
   (abandoned). A withdrawal by one of the parties contesting a place leaves it to the others
   (held by the one left, still contested between several). A withdrawal by someone who
   neither holds nor contests the place changes nothing.
5. Before the first record, the place is inferred to have been held by whoever that record
   says held it (the capture's ``taken_from``, or the withdrawing actor); such a state is
   flagged ``inferred``. An assessment says nothing of before its time, so when it comes
   first there is no inference. With nothing to infer from, the place is simply unknown.
6. Records at the same instant are applied together, in the order of rule 3: only the state
   the instant ends in counts, so an overruled report leaves no trace.
7. Consecutive states with the same status and set of holders merge into one interval whose
   evidence lists every record behind it; it is disputed (or inferred, or ``assessed``) only
   if all of them are.
8. An assessment is an observation, not an event: it sets the place's state at its time —
   HELD by its holders, CONTESTED between them, or UNKNOWN — whatever came before, and a
   state resting only on assessments is flagged ``assessed``. When an assessment makes an
   unknown place known (or a known one unknown) nobody took anything: it is not a hand-over
   (``hands_over``), and it is never a capture.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from itertools import groupby, pairwise
from uuid import UUID

from domain.details import Assessment, Capture, Withdrawal
from domain.incidents import Incident
from domain.vocabulary import AssessmentTier, ClaimStatus, IncidentKind, TimePrecision


class ControlStatus(StrEnum):
    HELD = "held"
    CONTESTED = "contested"  # between the listed parties; with none, abandoned
    UNKNOWN = "unknown"  # only an assessment says so: otherwise a place has no state


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
    # An assessment's stated status (its holders are in ``controllers``); None for incidents.
    assessed: ControlStatus | None = None
    confirmed: bool = False  # outranks unconfirmed records at the same instant (rule 3)

    @property
    def order(self) -> tuple[datetime, bool, int]:
        return self.effective_at, self.confirmed, self.recorded_position


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
    assessed: bool = False  # rests only on assessments (rule 8)

    @property
    def abandoned(self) -> bool:
        """Contested with nobody holding or contesting it: left by its last holder."""
        return self.status is ControlStatus.CONTESTED and not self.controllers

    def same_state(self, other: Interval) -> bool:
        """Same status and the same set of holders (the order they were listed in is noise)."""
        return (self.status, frozenset(self.controllers)) == (
            other.status,
            frozenset(other.controllers),
        )


def facts_of(incident: Incident, recorded_position: int) -> dict[UUID, Fact]:
    """The control facts a record contributes, one per place; none if it doesn't count."""
    details = incident.details
    if incident.retracted or not isinstance(details, Capture | Withdrawal | Assessment):
        return {}
    assessed: ControlStatus | None = None
    confirmed = incident.status is ClaimStatus.CONFIRMED
    if isinstance(details, Capture):
        controllers, withdrawn, previous = details.by, None, details.taken_from
    elif isinstance(details, Withdrawal):
        handed = () if details.handed_to is None else (details.handed_to,)
        controllers, withdrawn, previous = handed, details.actor, details.actor
    else:
        controllers, withdrawn, previous = details.holders, None, None
        assessed = ControlStatus(details.status.value)
        confirmed = confirmed or (
            details.tier is AssessmentTier.CONFIRMED and not incident.disputed
        )
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
            assessed=assessed,
            confirmed=confirmed,
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
    if fact.assessed is not None:
        status, controllers = fact.assessed, fact.controllers
    elif fact.kind is IncidentKind.CAPTURE:
        status, controllers = ControlStatus.HELD, fact.controllers
    else:
        holders = () if current is None else current.controllers
        if fact.withdrawn not in holders:
            return None
        remaining = tuple(a for a in holders if a != fact.withdrawn)
        controllers = fact.controllers or remaining
        still_contested = (
            not fact.controllers
            and current is not None
            and current.status is ControlStatus.CONTESTED
            and len(remaining) > 1
        )
        held = controllers and not still_contested
        status = ControlStatus.HELD if held else ControlStatus.CONTESTED
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
        assessed=fact.assessed is not None,
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
        assessed=current.assessed and later.assessed,
    )


def _close(states: list[Interval]) -> list[Interval]:
    closed = [
        replace(state, valid_to=following.valid_from) for state, following in pairwise(states)
    ]
    return [*closed, states[-1]] if states else closed


def holding(interval: Interval | None) -> tuple[ControlStatus, frozenset[UUID]] | None:
    """Who holds (or contests) a place in a state; None when nobody can tell."""
    if interval is None or interval.status is ControlStatus.UNKNOWN:
        return None
    return interval.status, frozenset(interval.controllers)


def hands_over(before: Interval | None, after: Interval | None) -> bool:
    """Whether going from state ``before`` to ``after`` hands the place over: who holds it
    changes, and it is not an assessment making an unknown place known or a known one
    unknown (rule 8: nobody took anything, an observer told what they could)."""
    was, now = holding(before), holding(after)
    if was == now:
        return False
    learned = was is None or now is None
    return not (learned and after is not None and after.assessed)
