"""Control assessments (issue 13): recorded like incidents, they state a place's state at
their time; the rules of domain/control.py (3, 4, 5 and 8) on the issue's own examples."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pytest

from domain import commands as c
from domain.control import ControlStatus, Interval, facts_of, hands_over, timeline
from domain.details import Assessment, Capture, Withdrawal
from domain.errors import InvalidInput
from domain.vocabulary import AssessedStatus, AssessmentTier, IncidentKind

if TYPE_CHECKING:
    from tests.unit.domain.conftest import World

HELD, CONTESTED, UNKNOWN = AssessedStatus.HELD, AssessedStatus.CONTESTED, AssessedStatus.UNKNOWN


def held_by(w: World, *holders: UUID, tier: AssessmentTier = AssessmentTier.ASSESSED) -> Assessment:
    return Assessment(status=HELD, holders=holders, tier=tier)


def history_of(w: World, place: UUID) -> list[Interval]:
    """The place's timeline from every record in the log, as the projector derives it: each
    incident as it now stands, ordered by the position it was first recorded at."""
    facts = []
    for note in w.app.recorder.select_notifications(start=1, limit=1000):
        if note.originator_version == 1 and note.topic.endswith("Incident.Recorded"):
            incident: Any = w.app.get(note.originator_id)
            facts.extend(f for p, f in facts_of(incident, note.id).items() if p == place)
    return timeline(facts)


def state(intervals: list[Interval]) -> list[tuple[str, set[UUID], bool]]:
    return [(i.status.value, set(i.controllers), i.assessed) for i in intervals]


# -- the record ---------------------------------------------------------------------------------


def test_an_assessment_is_recorded_and_read_back_like_an_incident(world: World) -> None:
    receipt = world.record(held_by(world, world.saa), summary="Army-held before the offensive")
    incident: Any = world.app.get(receipt.id)
    assert incident.kind is IncidentKind.ASSESSMENT
    assert incident.details == Assessment(HELD, (world.saa,), AssessmentTier.ASSESSED)
    assert incident.actor_ids == (world.saa,)


@pytest.mark.parametrize(
    ("status", "holders", "field"),
    [
        (HELD, 0, "holders"),
        (CONTESTED, 1, "holders"),
        (UNKNOWN, 1, "holders"),
        ("captured", 1, "status"),
    ],
)
def test_an_assessment_that_cannot_be_is_refused(
    world: World, status: Any, holders: int, field: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        Assessment(status=status, holders=(world.saa, world.hts)[:holders])
    assert error.value.field == field


def test_an_unknown_tier_is_refused(world: World) -> None:
    with pytest.raises(InvalidInput, match="unknown tier"):
        Assessment(status=HELD, holders=(world.saa,), tier="rumoured")  # type: ignore[arg-type]


def test_holders_that_are_not_registered_are_refused_and_nothing_is_written(world: World) -> None:
    from domain.errors import UnknownActor  # noqa: PLC0415
    from domain.identity import actor_id  # noqa: PLC0415

    with world.refused(UnknownActor, "UNKNOWN_ACTOR"):
        world.record(held_by(world, actor_id("nobody")))


# -- the rules ----------------------------------------------------------------------------------


def test_a_capture_after_the_assessment_changes_the_holder(world: World) -> None:
    world.record(held_by(world, world.saa), valid_time=world.when(days_ago=10))
    world.record(Capture(by=(world.hts,), taken_from=world.saa), valid_time=world.when(5))
    assert state(history_of(world, world.hama)) == [
        ("held", {world.saa}, True),
        ("held", {world.hts}, False),
    ]


def test_an_assessment_after_a_capture_overrides_it_from_its_own_time_on(world: World) -> None:
    world.record(Capture(by=(world.hts,)), valid_time=world.when(days_ago=5))
    world.record(held_by(world, world.saa), valid_time=world.when(days_ago=3))
    intervals = history_of(world, world.hama)
    assert state(intervals) == [("held", {world.hts}, False), ("held", {world.saa}, True)]
    assert intervals[1].valid_from == world.now - timedelta(days=3)


def test_an_assessment_before_the_first_capture_replaces_the_inference(world: World) -> None:
    world.record(Capture(by=(world.hts,), taken_from=world.saa), valid_time=world.when(5))
    inferred = history_of(world, world.hama)
    assert [(i.inferred, i.valid_from is None) for i in inferred] == [(True, True), (False, False)]

    world.record(held_by(world, world.saa), valid_time=world.when(days_ago=10))
    intervals = history_of(world, world.hama)
    assert state(intervals) == [("held", {world.saa}, True), ("held", {world.hts}, False)]
    assert not any(i.inferred for i in intervals)
    assert intervals[0].valid_from == world.now - timedelta(days=10)  # unknown before it


def test_a_place_contested_between_parties_is_told_apart_from_an_abandoned_one(
    world: World,
) -> None:
    world.record(Assessment(CONTESTED, (world.saa, world.hts)), valid_time=world.when(6))
    world.record(Withdrawal(actor=world.saa), valid_time=world.when(5), places=(world.homs,))
    world.record(Capture(by=(world.saa,)), valid_time=world.when(7), places=(world.homs,))
    [contested] = history_of(world, world.hama)
    [_, abandoned] = history_of(world, world.homs)
    assert (contested.status, set(contested.controllers)) == (
        ControlStatus.CONTESTED,
        {world.saa, world.hts},
    )
    assert not contested.abandoned
    assert (abandoned.status, abandoned.controllers, abandoned.abandoned) == (
        ControlStatus.CONTESTED,
        (),
        True,
    )


def test_a_party_withdrawing_from_a_contested_place_leaves_it_to_the_other(world: World) -> None:
    world.record(Assessment(CONTESTED, (world.saa, world.hts)), valid_time=world.when(6))
    world.record(Withdrawal(actor=world.saa), valid_time=world.when(5))
    assert state(history_of(world, world.hama)) == [
        ("contested", {world.saa, world.hts}, True),
        ("held", {world.hts}, False),
    ]


def test_an_unknown_assessment_blanks_the_place_out(world: World) -> None:
    world.record(Capture(by=(world.hts,)), valid_time=world.when(days_ago=5))
    world.record(Assessment(UNKNOWN), valid_time=world.when(days_ago=3))
    intervals = history_of(world, world.hama)
    assert state(intervals) == [("held", {world.hts}, False), ("unknown", set(), True)]
    assert not hands_over(intervals[0], intervals[1])


def test_a_confirmed_capture_outranks_a_later_assessment_at_the_same_instant(
    world: World,
) -> None:
    same = world.when(days_ago=5, precision="day")
    capture = world.record(Capture(by=(world.hts,)), valid_time=same)
    world.record(held_by(world, world.saa), valid_time=same)
    assert state(history_of(world, world.hama)) == [("held", {world.saa}, True)]  # later wins

    world.app.execute(c.Confirm(capture.id, world.source("Geolocated video")))
    assert state(history_of(world, world.hama)) == [("held", {world.hts}, False)]


def test_a_confirmed_tier_assessment_outranks_a_later_capture_at_the_same_instant(
    world: World,
) -> None:
    same = world.when(days_ago=5, precision="day")
    world.record(held_by(world, world.saa, tier=AssessmentTier.CONFIRMED), valid_time=same)
    world.record(Capture(by=(world.hts,)), valid_time=same)
    assert state(history_of(world, world.hama)) == [("held", {world.saa}, True)]


def test_a_retracted_assessment_counts_no_more(world: World) -> None:
    assessment = world.record(held_by(world, world.saa), valid_time=world.when(days_ago=10))
    world.record(Capture(by=(world.hts,)), valid_time=world.when(days_ago=5))
    world.app.execute(c.Retract(assessment.id, "the map was of another district"))
    assert state(history_of(world, world.hama)) == [("held", {world.hts}, False)]


def test_assessments_that_fill_in_a_place_are_not_hand_overs_but_a_changed_holder_is(
    world: World,
) -> None:
    world.record(held_by(world, world.saa), valid_time=world.when(days_ago=10))
    world.record(held_by(world, world.hts), valid_time=world.when(days_ago=5))
    first, second = history_of(world, world.hama)
    assert not hands_over(None, first)  # the baseline: nobody took anything
    assert hands_over(first, second)  # the observer says the holder changed
