"""Recording each kind of incident, and reading it back from the event store unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from enum import Enum
from typing import TYPE_CHECKING, Any

import pytest

from domain.codec import make_transcoder
from domain.details import (
    Advance,
    AircraftLoss,
    AirStrike,
    AnticipatedOperation,
    Capture,
    Clash,
    Details,
    Statement,
    Withdrawal,
)
from domain.values import ValidTime
from domain.vocabulary import (
    AircraftOutcome,
    Channel,
    ClaimStatus,
    IncidentKind,
    SpeakerRole,
    TimePrecision,
)

if TYPE_CHECKING:
    from tests.unit.domain.conftest import World


def _details_by_kind(w: World) -> dict[str, tuple[Details, IncidentKind, tuple[Any, ...]]]:
    """Each kind's details and the places the incident is recorded at."""
    return {
        "capture": (Capture(by=(w.hts,), taken_from=w.saa), IncidentKind.CAPTURE, (w.hama,)),
        "capture by several": (
            Capture(by=(w.hts, w.moc)), IncidentKind.CAPTURE, (w.hama, w.hama_airport),
        ),
        "withdrawal": (Withdrawal(actor=w.saa), IncidentKind.WITHDRAWAL, (w.hama,)),
        "redeployment": (
            Withdrawal(actor=w.saa, redeployment=True, to_place=w.homs,
                       to_description="positions outside the city"),
            IncidentKind.WITHDRAWAL,
            (w.hama,),
        ),
        "withdrawal handed to": (
            Withdrawal(actor=w.saa, handed_to=w.hts), IncidentKind.WITHDRAWAL, (w.hama,),
        ),
        "aircraft destroyed": (
            AircraftLoss(aircraft="Mi-8 helicopter", outcome=AircraftOutcome.DESTROYED,
                         operator=w.saa, claimed_by=w.hts, origin=w.hama_airport),
            IncidentKind.AIRCRAFT_LOSS,
            (w.hama_airport,),
        ),
        "aircraft damaged": (
            AircraftLoss(aircraft="Su-24", outcome=AircraftOutcome.DAMAGED, count=2),
            IncidentKind.AIRCRAFT_LOSS,
            (w.hama,),
        ),
        "aircraft emergency landing": (
            AircraftLoss(aircraft="L-39", outcome=AircraftOutcome.EMERGENCY_LANDING),
            IncidentKind.AIRCRAFT_LOSS,
            (w.hama_airport,),
        ),
        "clash": (Clash(parties=(w.hts, w.saa)), IncidentKind.CLASH, (w.hama,)),
        "advance toward a place": (
            Advance(actor=w.hts, objective=w.homs, direction="south along the M5"),
            IncidentKind.ADVANCE,
            (w.hama,),
        ),
        "advance in a direction": (
            Advance(actor=w.hts, direction="east"), IncidentKind.ADVANCE, (w.salamiyah,),
        ),
        "air strike": (
            AirStrike(by=w.russia, target="convoy on the M5", in_support_of=w.saa),
            IncidentKind.AIR_STRIKE,
            (w.hama,),
        ),
        "statement": (
            Statement(speaker="Army General Command", quote="Units redeployed outside the city.",
                      channel=Channel.TELEGRAM, speaker_actor=w.saa),
            IncidentKind.STATEMENT,
            (),
        ),
        "anticipated operation": (
            AnticipatedOperation(description="An offensive on Homs might start.", actor=w.hts,
                                 objective=w.homs,
                                 expected_from=datetime(2024, 12, 12, tzinfo=UTC)),
            IncidentKind.ANTICIPATED_OPERATION,
            (),
        ),
    }  # fmt: skip


KINDS = [
    "capture",
    "capture by several",
    "withdrawal",
    "redeployment",
    "withdrawal handed to",
    "aircraft destroyed",
    "aircraft damaged",
    "aircraft emergency landing",
    "clash",
    "advance toward a place",
    "advance in a direction",
    "air strike",
    "statement",
    "anticipated operation",
]


def _assert_no_lists(value: Any, where: str) -> None:
    """JSON turns tuples into lists; reloaded values must have been coerced back."""
    assert not isinstance(value, list), f"{where} came back as a list"
    if isinstance(value, tuple):
        for i, item in enumerate(value):
            _assert_no_lists(item, f"{where}[{i}]")
    elif hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            _assert_no_lists(getattr(value, name), f"{where}.{name}")


@pytest.mark.parametrize("name", KINDS)
def test_every_incident_kind_records_and_reads_back_unchanged(world: World, name: str) -> None:
    details, kind, places = _details_by_kind(world)[name]
    sources = (
        world.source(url="https://example.org/hama", quote="Rebels entered the city.",
                     role=SpeakerRole.INDEPENDENT),
        world.source("HTS Telegram", channel=Channel.TELEGRAM, role=SpeakerRole.PARTY,
                     speaker="Military Operations Command", speaker_actor_id=world.moc),
    )  # fmt: skip
    valid_time = world.when(precision=TimePrecision.DAY)

    receipt = world.record(
        details, places=places, sources=sources, valid_time=valid_time, summary="  As reported. "
    )

    incident = world.app.get_incident(receipt.id)
    assert incident.kind is kind
    assert incident.details == details
    assert type(incident.details) is type(details)
    assert incident.valid_time == valid_time
    assert incident.place_ids == places
    assert incident.sources == sources
    assert incident.summary == "As reported."
    assert incident.status is ClaimStatus.REPORTED
    assert incident.version == receipt.version == 1
    _assert_no_lists(incident.details, "details")
    _assert_no_lists(incident.sources, "sources")
    assert isinstance(incident.place_ids, tuple)
    assert isinstance(incident.actor_ids, tuple)
    assert isinstance(incident.valid_time.precision, TimePrecision)
    for source in incident.sources:
        assert isinstance(source.channel, Channel)
        assert isinstance(source.role, SpeakerRole)


@pytest.mark.parametrize("name", KINDS)
def test_every_incident_kind_involves_the_actors_its_details_name(world: World, name: str) -> None:
    details, _, places = _details_by_kind(world)[name]

    receipt = world.record(details, places=places, actors=(world.russia,))

    incident = world.app.get_incident(receipt.id)
    assert set(incident.actor_ids) == {*details.actor_ids(), world.russia}
    assert len(incident.actor_ids) == len(set(incident.actor_ids))


def test_reloaded_detail_enums_are_enums(world: World) -> None:
    destroyed: Any = "destroyed"
    loss = world.record(
        AircraftLoss(aircraft="Mi-8", outcome=destroyed), places=(world.hama_airport,)
    )
    statement = world.record(Statement(speaker="Spokesman", quote="We hold the city.",
                                       channel="x"), places=())  # type: ignore[arg-type]  # fmt: skip

    outcome = world.app.get_incident(loss.id).details
    said = world.app.get_incident(statement.id).details
    assert isinstance(outcome, AircraftLoss)
    assert outcome.outcome is AircraftOutcome.DESTROYED
    assert isinstance(said, Statement)
    assert said.channel is Channel.X


def test_reloaded_statement_channel_defaults_to_other(world: World) -> None:
    receipt = world.record(Statement(speaker="Spokesman", quote="No comment."), places=())

    details = world.app.get_incident(receipt.id).details
    assert isinstance(details, Statement)
    assert details.channel is Channel.OTHER


def test_valid_time_offset_survives_the_round_trip(world: World) -> None:
    damascus = timezone(timedelta(hours=3))
    valid_time = ValidTime(
        datetime(2024, 12, 5, 18, 30, tzinfo=damascus), TimePrecision.RANGE,
        datetime(2024, 12, 5, 22, 0, tzinfo=damascus),
    )  # fmt: skip

    receipt = world.record(valid_time=valid_time)

    stored = world.app.get_incident(receipt.id).valid_time
    assert stored == valid_time
    assert stored.start.utcoffset() == timedelta(hours=3)
    assert stored.end is not None
    assert stored.end.utcoffset() == timedelta(hours=3)
    assert stored.precision is TimePrecision.RANGE


def test_a_receipt_carries_the_log_position_of_what_it_recorded(world: World) -> None:
    before = world.app.head_position()

    receipt = world.record()

    assert receipt.position == before + 1 == world.app.head_position()
    assert receipt.replayed is False


def test_recording_without_a_key_creates_a_new_incident_each_time(world: World) -> None:
    first = world.record()
    second = world.record()

    assert first.id != second.id


def test_the_recorded_event_is_named_recorded(world: World) -> None:
    receipt = world.record()

    [recorded] = world.app.history(receipt.id)
    assert type(recorded).__name__ == "Recorded"
    assert recorded.originator_version == 1


def test_recorded_by_and_key_are_kept_with_the_incident(world: World) -> None:
    receipt = world.record(key="reuters-2024-12-05-hama", recorded_by="analyst@example.org")

    meta = world.app.get_incident(receipt.id).meta
    assert meta.key == "reuters-2024-12-05-hama"
    assert meta.recorded_by == "analyst@example.org"
    assert meta.fingerprint


def test_readers_without_the_application_decode_events_with_make_transcoder(
    world: World,
) -> None:
    details = Capture(by=(world.hts,), taken_from=world.saa)
    receipt = world.record(details, valid_time=world.when(precision="day"))  # type: ignore[arg-type]

    [stored] = world.app.recorder.select_events(receipt.id)
    state = make_transcoder().decode(stored.state)

    assert state["details"] == details
    assert state["valid_time"] == world.when(precision=TimePrecision.DAY)
    assert state["place_ids"] == [world.hama]
    assert isinstance(state["sources"][0].channel, Enum)


def test_a_statement_needs_no_place(world: World) -> None:
    receipt = world.record(Statement(speaker="Spokesman", quote="We hold Hama."), places=())

    assert world.app.get_incident(receipt.id).place_ids == ()


def test_a_statement_may_quote_exactly_the_longest_text_allowed(world: World) -> None:
    quote = "x" * 5000

    receipt = world.record(Statement(speaker="S", quote=quote), places=())

    details = world.app.get_incident(receipt.id).details
    assert isinstance(details, Statement)
    assert details.quote == quote
