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
6. Consecutive states with the same holder(s) and status merge into one interval whose
   evidence lists every incident behind it; it is disputed only if all of them are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from itertools import pairwise
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
        return (self.status, self.controllers) == (other.status, other.controllers)


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
    states: list[Interval] = []
    prior = _inferred_prior(ordered[0])
    if prior is not None:
        states.append(prior)
    for fact in ordered:
        current = states[-1] if states else None
        nxt = _apply(current, fact)
        if nxt is None:
            continue
        if current is not None and current.valid_from == nxt.valid_from:
            states.pop()  # same instant: the later-recorded incident wins
            current = states[-1] if states else None
        if current is not None and current.same_state(nxt):
            states[-1] = _merge(current, nxt)
        else:
            states.append(nxt)
    return _close(states)


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
