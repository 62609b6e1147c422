"""Bad input to a recording: a typed error with a stable code, and nothing appended."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import pytest

from domain import commands as c
from domain.application import CLOCK_SKEW
from domain.details import (
    Advance,
    AircraftLoss,
    AirStrike,
    AnticipatedOperation,
    Capture,
    Clash,
    Statement,
    Withdrawal,
)
from domain.errors import (
    InvalidInput,
    InvalidTime,
    MissingSource,
    UnknownActor,
    UnknownPlace,
)
from domain.values import Source, ValidTime
from domain.vocabulary import TimePrecision

if TYPE_CHECKING:
    from tests.unit.domain.conftest import World


# -- places and actors must exist -----------------------------------------------------------


def test_an_unknown_place_is_refused(world: World) -> None:
    with world.refused(UnknownPlace, "UNKNOWN_PLACE"):
        world.record(places=(world.hama, uuid4()))


def test_an_actor_id_is_not_a_place(world: World) -> None:
    with world.refused(UnknownPlace, "UNKNOWN_PLACE"):
        world.record(places=(world.hts,))


def test_an_unknown_place_inside_the_details_is_refused(world: World) -> None:
    with world.refused(UnknownPlace, "UNKNOWN_PLACE"):
        world.record(Withdrawal(actor=world.saa, redeployment=True, to_place=uuid4()))
    with world.refused(UnknownPlace, "UNKNOWN_PLACE"):
        world.record(Advance(actor=world.hts, objective=uuid4()))


def test_an_unknown_capturer_is_refused(world: World) -> None:
    with world.refused(UnknownActor, "UNKNOWN_ACTOR"):
        world.record(Capture(by=(world.hts, uuid4())))


def test_a_place_id_is_not_an_actor(world: World) -> None:
    with world.refused(UnknownActor, "UNKNOWN_ACTOR"):
        world.record(Capture(by=(world.hama,)))


@pytest.mark.parametrize(
    "details",
    [
        lambda w, x: Capture(by=(w.hts,), taken_from=x),
        lambda w, x: Withdrawal(actor=x),
        lambda w, x: Withdrawal(actor=w.saa, handed_to=x),
        lambda w, x: AircraftLoss(aircraft="Mi-8", outcome="destroyed", claimed_by=x),
        lambda w, x: Clash(parties=(w.hts, x)),
        lambda w, x: Advance(actor=x),
        lambda w, x: AirStrike(by=w.russia, in_support_of=x),
    ],
)
def test_every_actor_the_details_name_must_exist(world: World, details: Any) -> None:
    with world.refused(UnknownActor, "UNKNOWN_ACTOR"):
        world.record(details(world, uuid4()))


def test_an_unknown_involved_actor_is_refused(world: World) -> None:
    with world.refused(UnknownActor, "UNKNOWN_ACTOR"):
        world.record(actors=(uuid4(),))


def test_an_unknown_speaker_in_a_source_is_refused(world: World) -> None:
    with world.refused(UnknownActor, "UNKNOWN_ACTOR"):
        world.record(sources=(world.source(speaker_actor_id=uuid4()),))


def test_an_unknown_speaker_of_a_statement_is_refused(world: World) -> None:
    with world.refused(UnknownActor, "UNKNOWN_ACTOR"):
        world.record(Statement(speaker="S", quote="Q", speaker_actor=uuid4()), places=())


def test_a_place_that_is_not_an_id_is_invalid_input(world: World) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT") as info:
        world.record(places=("hama",))  # type: ignore[arg-type]
    assert info.value.field == "places"


def test_a_capturer_that_is_not_an_id_is_invalid_input(world: World) -> None:
    # Details coerce strings to UUIDs (they are rebuilt from JSON); a malformed one must
    # still be a typed error, as it is for ``places`` and ``actors``.
    with world.refused(InvalidInput, "INVALID_INPUT"):
        world.record(Capture(by=("hts",)))  # type: ignore[arg-type]


def test_a_speaker_that_is_not_an_id_is_invalid_input(world: World) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT"):
        world.record(sources=(world.source(speaker_actor_id="saa"),))


def test_too_many_places_are_refused(world: World) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT"):
        world.record(places=tuple(uuid4() for _ in range(51)))


# -- time -----------------------------------------------------------------------------------


def test_an_occurrence_just_within_the_clock_skew_is_accepted(world: World) -> None:
    receipt = world.record(valid_time=ValidTime(world.now + CLOCK_SKEW))

    assert world.app.get_incident(receipt.id).valid_time.start == world.now + CLOCK_SKEW


def test_an_occurrence_beyond_the_clock_skew_is_in_the_future(world: World) -> None:
    with world.refused(InvalidTime, "INVALID_TIME") as info:
        world.record(valid_time=ValidTime(world.now + CLOCK_SKEW + timedelta(seconds=1)))
    assert info.value.field == "occurredAt"


def test_an_occurrence_tomorrow_is_in_the_future_whatever_the_precision(world: World) -> None:
    tomorrow = world.now + timedelta(days=1)
    for precision in (TimePrecision.EXACT, TimePrecision.DAY, TimePrecision.APPROXIMATE):
        with world.refused(InvalidTime, "INVALID_TIME"):
            world.record(valid_time=ValidTime(tomorrow, precision))


def test_today_at_day_precision_is_not_in_the_future(world: World) -> None:
    later_today = world.now.replace(hour=23)

    receipt = world.record(valid_time=ValidTime(later_today, TimePrecision.DAY))

    assert receipt.replayed is False


def test_a_source_published_in_the_future_is_refused(world: World) -> None:
    with world.refused(InvalidTime, "INVALID_TIME") as info:
        world.record(sources=(world.source(published_at=world.now + timedelta(minutes=3)),))
    assert info.value.field == "source.publishedAt"


def test_a_naive_occurrence_time_is_refused(world: World) -> None:
    naive = datetime(2024, 12, 5, 12, 0)  # noqa: DTZ001 (the point of the test)
    with world.refused(InvalidTime, "INVALID_TIME"):
        world.record(valid_time=ValidTime(naive))


def test_a_naive_publication_time_is_refused(world: World) -> None:
    naive = datetime(2024, 12, 5, 12, 0)  # noqa: DTZ001
    with world.refused(InvalidTime, "INVALID_TIME"):
        world.record(sources=(Source("Reuters", published_at=naive),))


def test_a_naive_expected_start_of_an_operation_is_refused(world: World) -> None:
    naive = datetime(2024, 12, 12)  # noqa: DTZ001
    with world.refused(InvalidTime, "INVALID_TIME"):
        world.record(AnticipatedOperation(description="Offensive", expected_from=naive))


def test_a_missing_occurrence_time_is_refused(world: World) -> None:
    command = c.RecordIncident(Capture(by=(world.hts,)), None, (world.hama,), (world.source(),))  # type: ignore[arg-type]
    with world.refused(InvalidTime, "INVALID_TIME"):
        world.app.execute(command)


def test_a_range_without_an_end_is_refused(world: World) -> None:
    with world.refused(InvalidTime, "INVALID_TIME") as info:
        world.record(valid_time=world.when(precision=TimePrecision.RANGE))
    assert info.value.field == "occurredUntil"


def test_a_range_ending_before_it_starts_is_refused(world: World) -> None:
    start = world.now - timedelta(days=3)
    with world.refused(InvalidTime, "INVALID_TIME"):
        world.record(valid_time=ValidTime(start, TimePrecision.RANGE, start - timedelta(hours=1)))
    with world.refused(InvalidTime, "INVALID_TIME"):
        world.record(valid_time=ValidTime(start, TimePrecision.RANGE, start))


# -- sources --------------------------------------------------------------------------------


def test_a_recording_without_a_source_is_refused(world: World) -> None:
    with world.refused(MissingSource, "MISSING_SOURCE") as info:
        world.record(sources=())
    assert info.value.field == "sources"


def test_a_source_that_is_not_a_source_is_refused(world: World) -> None:
    with world.refused(MissingSource, "MISSING_SOURCE"):
        world.record(sources=("Reuters",))  # type: ignore[arg-type]


def test_more_than_twenty_sources_are_refused(world: World) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT"):
        world.record(sources=tuple(world.source(f"Outlet {i}") for i in range(21)))


@pytest.mark.parametrize(
    "url",
    ["ftp://example.org/a", "example.org/a", "https://", "javascript:alert(1)",
     "https://example.org/" + "a" * 2048],
)  # fmt: skip
def test_a_source_with_a_bad_url_is_refused(world: World, url: str) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT") as info:
        world.record(sources=(world.source(url=url),))
    assert info.value.field == "source.url"


@pytest.mark.parametrize("outlet", ["", "   ", "x" * 201])
def test_a_source_with_a_bad_outlet_is_refused(world: World, outlet: str) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT"):
        world.record(sources=(world.source(outlet),))


def test_a_source_quote_over_five_thousand_characters_is_refused(world: World) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT"):
        world.record(sources=(world.source(quote="x" * 5001),))


def test_a_source_with_an_unknown_channel_or_role_is_refused(world: World) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT"):
        world.record(sources=(world.source(channel="fax"),))
    with world.refused(InvalidInput, "INVALID_INPUT"):
        world.record(sources=(world.source(role="oracle"),))


# -- details --------------------------------------------------------------------------------


def test_a_capture_by_nobody_is_refused(world: World) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT") as info:
        world.record(Capture(by=()))
    assert info.value.field == "by"


def test_a_capture_from_the_capturer_itself_is_refused(world: World) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT"):
        world.record(Capture(by=(world.hts,), taken_from=world.hts))


def test_a_clash_with_one_party_is_refused(world: World) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT") as info:
        world.record(Clash(parties=(world.hts,)))
    assert info.value.field == "parties"


def test_a_clash_between_a_party_and_itself_is_refused(world: World) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT"):
        world.record(Clash(parties=(world.hts, world.hts)))


def test_a_withdrawal_in_the_actors_own_favour_is_refused(world: World) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT"):
        world.record(Withdrawal(actor=world.saa, handed_to=world.saa))


@pytest.mark.parametrize("count", [0, -1, 101, True, 1.5])
def test_an_aircraft_loss_with_a_bad_count_is_refused(world: World, count: Any) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT") as info:
        world.record(AircraftLoss(aircraft="Mi-8", outcome="destroyed", count=count))  # type: ignore[arg-type]
    assert info.value.field == "count"


def test_an_aircraft_loss_with_an_unknown_outcome_is_refused(world: World) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT"):
        world.record(AircraftLoss(aircraft="Mi-8", outcome="vanished"))  # type: ignore[arg-type]


@pytest.mark.parametrize("aircraft", ["", "  ", "x" * 201])
def test_an_aircraft_loss_with_a_bad_aircraft_name_is_refused(world: World, aircraft: str) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT"):
        world.record(AircraftLoss(aircraft=aircraft, outcome="destroyed"))  # type: ignore[arg-type]


@pytest.mark.parametrize("quote", ["", "   ", "x" * 5001])
def test_a_statement_with_a_missing_or_oversized_quote_is_refused(world: World, quote: str) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT") as info:
        world.record(Statement(speaker="Spokesman", quote=quote), places=())
    assert info.value.field == "quote"


def test_a_statement_with_an_empty_speaker_is_refused(world: World) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT"):
        world.record(Statement(speaker=" ", quote="Q"), places=())


def test_a_statement_on_an_unknown_channel_is_refused(world: World) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT"):
        world.record(Statement(speaker="S", quote="Q", channel="pigeon"), places=())  # type: ignore[arg-type]


def test_an_anticipated_operation_without_a_description_is_refused(world: World) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT"):
        world.record(AnticipatedOperation(description="  "), places=())


@pytest.mark.parametrize(
    "details",
    [
        lambda w: Withdrawal(actor=w.saa, to_description="x" * 5001),
        lambda w: Advance(actor=w.hts, direction="x" * 5001),
        lambda w: AirStrike(by=w.russia, target="x" * 5001),
    ],
)
def test_oversized_free_text_in_details_is_refused(world: World, details: Any) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT"):
        world.record(details(world))


def test_an_oversized_summary_is_refused(world: World) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT"):
        world.record(summary="x" * 5001)


def test_an_empty_recorded_by_is_refused(world: World) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT"):
        world.record(recorded_by="")


def test_missing_details_are_refused(world: World) -> None:
    command = c.RecordIncident(None, world.when(), (world.hama,), (world.source(),))  # type: ignore[arg-type]
    with world.refused(InvalidInput, "INVALID_INPUT"):
        world.app.execute(command)


@pytest.mark.parametrize(
    "details",
    [
        lambda w: Capture(by=(w.hts,)),
        lambda w: Withdrawal(actor=w.saa),
        lambda w: AircraftLoss(aircraft="Mi-8", outcome="destroyed"),
        lambda w: Clash(parties=(w.hts, w.saa)),
        lambda w: Advance(actor=w.hts),
        lambda w: AirStrike(by=w.russia),
    ],
)
def test_kinds_that_happen_somewhere_need_a_place(world: World, details: Any) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT") as info:
        world.record(details(world), places=())
    assert info.value.field == "places"
