"""The control rules (domain/control.py, README "How control is derived") as properties over
random histories, with no database: the projector's O(1) ``extend`` always equals a full
``timeline``, and every rule the README states holds of every timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from uuid import UUID, uuid5

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.control import ControlStatus, Fact, Interval, extend, hands_over, holding, timeline
from domain.vocabulary import IncidentKind, TimePrecision

T0 = datetime(2024, 11, 27, tzinfo=UTC)
NS = UUID("00000000-0000-0000-0000-00000000c0de")
ACTORS = [uuid5(NS, name) for name in ("saa", "hts", "sna", "sdf")]


@st.composite
def facts(draw: st.DrawFn, count: int = 12) -> list[Fact]:
    """Captures, withdrawals and assessments at random hours over two weeks, some at the
    same instant, some day-precise, some disputed or confirmed; recorded in a random order
    (late reports)."""
    n = draw(st.integers(1, count))
    positions = draw(st.permutations(range(1, n + 1)))
    found = []
    for i in range(n):
        hours = draw(st.integers(0, 14 * 24 // 6)) * 6  # coarse: same instants happen
        at = T0 + timedelta(hours=hours)
        day = draw(st.booleans())
        if day:
            at = at.replace(hour=0)
        kind = draw(st.sampled_from([IncidentKind.CAPTURE] * 2 + [IncidentKind.WITHDRAWAL] * 2
                                    + [IncidentKind.ASSESSMENT]))  # fmt: skip
        actor = draw(st.sampled_from(ACTORS))
        other = draw(st.sampled_from([a for a in ACTORS if a != actor]))
        assessed = None
        if kind is IncidentKind.CAPTURE:
            controllers, withdrawn, previous = (actor,), None, draw(st.none() | st.just(other))
        elif kind is IncidentKind.WITHDRAWAL:
            handed = draw(st.none() | st.just(other))
            controllers = () if handed is None else (handed,)
            withdrawn, previous = actor, actor
        else:
            assessed = draw(st.sampled_from(list(ControlStatus)))
            controllers = {
                ControlStatus.HELD: (actor,),
                ControlStatus.CONTESTED: draw(st.sampled_from([(actor, other), ()])),
                ControlStatus.UNKNOWN: (),
            }[assessed]
            withdrawn, previous = None, None
        found.append(
            Fact(
                incident_id=uuid5(NS, f"incident-{i}"),
                kind=kind,
                effective_at=at,
                certain_from=at + (timedelta(days=1) if day else timedelta(0)),
                precision=TimePrecision.DAY if day else TimePrecision.EXACT,
                recorded_position=positions[i],
                controllers=controllers,
                withdrawn=withdrawn,
                previous=previous,
                disputed=draw(st.booleans()),
                assessed=assessed,
                confirmed=draw(st.integers(0, 3)) == 0,
            )
        )
    return found


def in_record_order(found: list[Fact]) -> list[Fact]:
    return sorted(found, key=lambda f: f.order)


@settings(max_examples=300)
@given(found=facts())
def test_extending_by_each_later_fact_equals_the_whole_timeline(found: list[Fact]) -> None:
    """The projector's fast path (readmodel/control.py, ``revise``): a fact later in valid
    time than every other is applied by ``extend``; the timeline it gives must be the one
    ``timeline`` computes from scratch. (A fact at an instant already seen is not later:
    the projector recomputes then.)"""
    intervals: list[Interval] = []
    applied: list[Fact] = []
    for fact in in_record_order(found):
        later = bool(applied) and fact.effective_at > max(f.effective_at for f in applied)
        applied.append(fact)
        if later:
            keep, tail = extend(intervals, fact)
            assert intervals[:keep] + tail == timeline(applied)
        intervals = timeline(applied)


@settings(max_examples=300)
@given(found=facts())
def test_a_timeline_is_consecutive_non_overlapping_and_open_ended(found: list[Fact]) -> None:
    intervals = timeline(found)
    assert intervals
    assert intervals[-1].valid_to is None  # until further notice
    for earlier, later in pairwise(intervals):
        assert earlier.valid_to == later.valid_from
        assert earlier.valid_from is None or earlier.valid_from < later.valid_from


@settings(max_examples=300)
@given(found=facts())
def test_the_timeline_does_not_depend_on_the_order_facts_are_given(found: list[Fact]) -> None:
    assert timeline(found) == timeline(list(reversed(found)))


@settings(max_examples=300)
@given(found=facts())
def test_consecutive_intervals_differ_in_state(found: list[Fact]) -> None:
    """Rule 7: reports of the same holders merge into one interval."""
    intervals = timeline(found)
    for earlier, later in pairwise(intervals):
        assert not earlier.same_state(later) or earlier.inferred != later.inferred


@settings(max_examples=300)
@given(found=facts())
def test_every_interval_rests_on_evidence_of_its_own_time(found: list[Fact]) -> None:
    by_id = {f.incident_id: f for f in found}
    for interval in timeline(found):
        assert interval.evidence
        for incident in interval.evidence:
            # An inferred interval rests on the first report (what it infers from), and one
            # that merged the inferred state with later reports is open to the past.
            if not interval.inferred and interval.valid_from is not None:
                assert by_id[incident].effective_at >= interval.valid_from


@settings(max_examples=300)
@given(found=facts())
def test_only_the_interval_before_the_first_report_is_inferred(found: list[Fact]) -> None:
    """Rule 5: a place is inferred to have been held by whoever its first incident says
    held it, and only before that incident."""
    intervals = timeline(found)
    first = min(found, key=lambda f: f.order)
    for interval in intervals:
        if interval.inferred:
            assert interval.valid_from is None
            assert interval.valid_to == first.effective_at
    assert all(not i.inferred for i in intervals[1:])


@settings(max_examples=300)
@given(found=facts())
def test_a_capture_makes_the_capturers_hold_the_place(found: list[Fact]) -> None:
    """Rule 4: from a capture's instant on (unless a later fact at that instant overrules
    it), the place is held by the capturers."""
    intervals = timeline(found)
    last = max(found, key=lambda f: f.order)
    final = intervals[-1]
    if last.kind is IncidentKind.CAPTURE:
        assert final.status is ControlStatus.HELD
        assert set(last.controllers) <= set(final.controllers)


@settings(max_examples=300)
@given(found=facts())
def test_a_disputed_interval_rests_only_on_disputed_reports(found: list[Fact]) -> None:
    """Rule 7's last clause: an interval is disputed only if all its evidence is."""
    by_id = {f.incident_id: f for f in found}
    for interval in timeline(found):
        if interval.disputed and not interval.inferred:
            assert all(by_id[i].disputed for i in interval.evidence)


@settings(max_examples=300)
@given(found=facts())
def test_a_day_precise_start_is_uncertain_until_the_day_ends(found: list[Fact]) -> None:
    """Rule 2: a state a day-precision report causes is certain only from the day's end."""
    for interval in timeline(found):
        if interval.precision is TimePrecision.DAY and not interval.inferred:
            assert interval.certain_from is not None
            assert interval.valid_from is not None
            assert interval.certain_from == interval.valid_from + timedelta(days=1)


@settings(max_examples=300)
@given(found=facts())
def test_an_assessment_sets_the_state_it_states(found: list[Fact]) -> None:
    """Rule 8: from an assessment's instant on (unless a record outranking it at that
    instant overrules it), the place is in the state it states, with its holders."""
    last = max(found, key=lambda f: f.order)
    final = timeline(found)[-1]
    if last.assessed is not None:
        assert final.status is last.assessed
        assert set(final.controllers) == set(last.controllers)


@settings(max_examples=300)
@given(found=facts())
def test_an_assessed_interval_rests_only_on_assessments(found: list[Fact]) -> None:
    """Rule 7 for ``assessed``; and only assessments say a place is UNKNOWN."""
    by_id = {f.incident_id: f for f in found}
    for interval in timeline(found):
        rests_on = [by_id[i] for i in interval.evidence]
        if not interval.inferred:
            assert interval.assessed == all(f.assessed is not None for f in rests_on)
        if interval.status is ControlStatus.UNKNOWN:
            assert interval.assessed
            assert not interval.controllers


@settings(max_examples=300)
@given(found=facts())
def test_a_record_that_outranks_the_others_decides_its_instant(found: list[Fact]) -> None:
    """Rule 3: at one instant, confirmed records are applied after unconfirmed ones, so a
    confirmed capture or assessment there decides the state, whenever it was recorded."""
    final_instant = max(f.effective_at for f in found)
    last = [f for f in found if f.effective_at == final_instant]
    decisive = [f for f in last if f.kind is not IncidentKind.WITHDRAWAL]
    if any(f.confirmed for f in decisive):
        winner = max((f for f in decisive if f.confirmed), key=lambda f: f.recorded_position)
        later = [f for f in last if f.confirmed and f.recorded_position > winner.recorded_position]
        if not later:  # no confirmed withdrawal recorded after it changes things further
            final = timeline(found)[-1]
            assert winner.incident_id in final.evidence


@settings(max_examples=300)
@given(found=facts())
def test_only_an_assessment_fills_in_or_blanks_out_a_place_without_a_hand_over(
    found: list[Fact],
) -> None:
    """Rule 8: between consecutive states, a change of who holds the place is a hand-over,
    except when an assessment makes an unknown place known, or a known one unknown."""
    intervals = timeline(found)
    for before, after in pairwise([None, *intervals]):
        changed = holding(before) != holding(after)
        learned = holding(before) is None or holding(after) is None
        assert hands_over(before, after) == (changed and not (learned and after.assessed))
