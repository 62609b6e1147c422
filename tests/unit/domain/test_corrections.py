"""Corrections: new events that change what an incident's claim is worth, never edits."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING
from uuid import uuid4

import pytest

from domain import commands as c
from domain.details import Statement
from domain.errors import (
    ConcurrencyConflict,
    InvalidCorrection,
    InvalidInput,
    InvalidTime,
    MissingSource,
    UnknownActor,
    UnknownIncident,
    UnknownPlace,
)
from domain.incidents import MAX_INCIDENT_EVENTS, MAX_INCIDENT_SOURCES
from domain.values import ValidTime
from domain.vocabulary import ClaimStatus, SpeakerRole, TimePrecision

if TYPE_CHECKING:
    from uuid import UUID

    from tests.unit.domain.conftest import World


@pytest.fixture
def incident(world: World) -> UUID:
    return world.record(valid_time=world.when(days_ago=5)).id


def _status(world: World, incident: UUID) -> ClaimStatus:
    return world.app.get_incident(incident).status


def _history(world: World, incident: UUID) -> list[str]:
    return [type(e).__name__ for e in world.app.history(incident)]


# -- corroborate ----------------------------------------------------------------------------


def test_corroboration_makes_a_report_corroborated(world: World, incident: UUID) -> None:
    afp = world.source("AFP")

    receipt = world.app.execute(c.Corroborate(incident, afp))

    reloaded = world.app.get_incident(incident)
    assert reloaded.status is ClaimStatus.CORROBORATED
    assert reloaded.corroborations == (afp,)
    assert receipt.version == 2
    assert receipt.position == world.app.head_position()


def test_a_fresh_report_is_only_reported(world: World, incident: UUID) -> None:
    assert _status(world, incident) is ClaimStatus.REPORTED


def test_corroboration_needs_a_source(world: World, incident: UUID) -> None:
    with world.refused(MissingSource, "MISSING_SOURCE"):
        world.app.execute(c.Corroborate(incident, None))  # type: ignore[arg-type]


def test_corroborating_an_unknown_incident_is_refused(world: World) -> None:
    with world.refused(UnknownIncident, "UNKNOWN_INCIDENT"):
        world.app.execute(c.Corroborate(uuid4(), world.source()))


def test_corroborating_a_place_id_is_an_unknown_incident(world: World) -> None:
    with world.refused(UnknownIncident, "UNKNOWN_INCIDENT"):
        world.app.execute(c.Corroborate(world.hama, world.source()))


def test_a_correction_source_published_in_the_future_is_refused(
    world: World, incident: UUID
) -> None:
    late = world.source(published_at=world.now + timedelta(hours=1))

    with world.refused(InvalidTime, "INVALID_TIME"):
        world.app.execute(c.Corroborate(incident, late))


def test_a_correction_source_naming_an_unknown_speaker_is_refused(
    world: World, incident: UUID
) -> None:
    with world.refused(UnknownActor, "UNKNOWN_ACTOR"):
        world.app.execute(c.Corroborate(incident, world.source(speaker_actor_id=uuid4())))


# -- dispute and confirm --------------------------------------------------------------------


def test_a_dispute_makes_the_claim_disputed(world: World, incident: UUID) -> None:
    ministry = world.source(
        "Ministry of Defence", role=SpeakerRole.PARTY, speaker_actor_id=world.saa
    )

    world.app.execute(c.Dispute(incident, ministry, disputed_by=world.saa, reason="  Fake news "))

    reloaded = world.app.get_incident(incident)
    assert reloaded.status is ClaimStatus.DISPUTED
    [dispute] = reloaded.disputes
    assert dispute.source == ministry
    assert dispute.disputed_by == world.saa
    assert dispute.reason == "Fake news"


def test_a_dispute_beats_corroboration(world: World, incident: UUID) -> None:
    world.app.execute(c.Corroborate(incident, world.source("AFP")))
    world.app.execute(c.Dispute(incident, world.source("SANA")))

    assert _status(world, incident) is ClaimStatus.DISPUTED


def test_confirmation_clears_a_dispute(world: World, incident: UUID) -> None:
    world.app.execute(c.Dispute(incident, world.source("SANA")))

    world.app.execute(c.Confirm(incident, world.source("AFP")))

    reloaded = world.app.get_incident(incident)
    assert reloaded.status is ClaimStatus.CONFIRMED
    assert reloaded.disputed is False
    assert len(reloaded.disputes) == 1  # the dispute is still on the record


def test_a_dispute_after_confirmation_disputes_again(world: World, incident: UUID) -> None:
    world.app.execute(c.Dispute(incident, world.source("SANA")))
    world.app.execute(c.Confirm(incident, world.source("AFP")))

    world.app.execute(c.Dispute(incident, world.source("Ministry of Defence")))

    assert _status(world, incident) is ClaimStatus.DISPUTED
    assert _history(world, incident) == ["Recorded", "Disputed", "Confirmed", "Disputed"]


def test_confirmation_beats_corroboration(world: World, incident: UUID) -> None:
    world.app.execute(c.Corroborate(incident, world.source("AFP")))
    world.app.execute(c.Confirm(incident, world.source("AP")))

    assert _status(world, incident) is ClaimStatus.CONFIRMED


def test_a_dispute_by_an_unknown_actor_is_refused(world: World, incident: UUID) -> None:
    with world.refused(UnknownActor, "UNKNOWN_ACTOR"):
        world.app.execute(c.Dispute(incident, world.source(), disputed_by=uuid4()))


def test_a_dispute_with_an_oversized_reason_is_refused(world: World, incident: UUID) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT"):
        world.app.execute(c.Dispute(incident, world.source(), reason="x" * 5001))


# -- amend ----------------------------------------------------------------------------------


def test_amending_the_time_changes_the_valid_time(world: World, incident: UUID) -> None:
    corrected = ValidTime(world.now - timedelta(days=6), TimePrecision.DAY)

    receipt = world.app.execute(
        c.Amend(incident, "the report was a day late", valid_time=corrected)
    )

    reloaded = world.app.get_incident(incident)
    assert reloaded.valid_time == corrected
    assert reloaded.place_ids == (world.hama,)
    assert receipt.version == 2


def test_amending_the_places_changes_the_places(world: World, incident: UUID) -> None:
    before = world.app.get_incident(incident).valid_time

    world.app.execute(c.Amend(incident, "it was the airport", places=(world.hama_airport,)))

    reloaded = world.app.get_incident(incident)
    assert reloaded.place_ids == (world.hama_airport,)
    assert isinstance(reloaded.place_ids, tuple)
    assert reloaded.valid_time == before


def test_amending_time_and_places_together_changes_both(world: World, incident: UUID) -> None:
    corrected = world.when(days_ago=7)

    world.app.execute(
        c.Amend(incident, "both wrong", valid_time=corrected, places=(world.hama, world.homs))
    )

    reloaded = world.app.get_incident(incident)
    assert reloaded.valid_time == corrected
    assert reloaded.place_ids == (world.hama, world.homs)


def test_an_amendment_that_changes_nothing_is_refused(world: World, incident: UUID) -> None:
    same_time = world.app.get_incident(incident).valid_time

    with world.refused(InvalidCorrection, "INVALID_CORRECTION"):
        world.app.execute(
            c.Amend(incident, "no change", valid_time=same_time, places=(world.hama,))
        )


def test_an_amendment_with_neither_time_nor_places_is_refused(world: World, incident: UUID) -> None:
    with world.refused(InvalidCorrection, "INVALID_CORRECTION"):
        world.app.execute(c.Amend(incident, "nothing to say"))


def test_amending_to_an_unknown_place_is_refused(world: World, incident: UUID) -> None:
    with world.refused(UnknownPlace, "UNKNOWN_PLACE"):
        world.app.execute(c.Amend(incident, "moved", places=(uuid4(),)))


def test_amending_a_capture_to_no_place_is_refused(world: World, incident: UUID) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT"):
        world.app.execute(c.Amend(incident, "nowhere", places=()))


def test_amending_a_statement_to_no_place_is_allowed(world: World) -> None:
    statement = world.record(Statement(speaker="S", quote="Q"), places=(world.hama,)).id

    world.app.execute(c.Amend(statement, "said in Damascus, not about Hama", places=()))

    assert world.app.get_incident(statement).place_ids == ()


def test_amending_the_time_into_the_future_is_refused(world: World, incident: UUID) -> None:
    with world.refused(InvalidTime, "INVALID_TIME"):
        world.app.execute(c.Amend(incident, "later", valid_time=world.when(days_ago=-1)))


def test_an_amendment_needs_a_reason(world: World, incident: UUID) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT"):
        world.app.execute(c.Amend(incident, "   ", places=(world.homs,)))


def test_an_amendment_keeps_the_original_in_the_history(world: World, incident: UUID) -> None:
    original = world.app.get_incident(incident).valid_time
    corrected = world.when(days_ago=6)

    world.app.execute(c.Amend(incident, "late report", valid_time=corrected))

    recorded, amended = world.app.history(incident)
    assert recorded.valid_time == original  # type: ignore[attr-defined]
    assert amended.valid_time == corrected  # type: ignore[attr-defined]
    assert amended.reason == "late report"  # type: ignore[attr-defined]


# -- retract --------------------------------------------------------------------------------


def test_retraction_makes_the_claim_retracted(world: World, incident: UUID) -> None:
    world.app.execute(c.Confirm(incident, world.source("AFP")))

    world.app.execute(c.Retract(incident, "the video was from 2016"))

    reloaded = world.app.get_incident(incident)
    assert reloaded.status is ClaimStatus.RETRACTED
    assert reloaded.retraction_reason == "the video was from 2016"


def test_a_retraction_needs_a_reason(world: World, incident: UUID) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT"):
        world.app.execute(c.Retract(incident, ""))


@pytest.mark.parametrize(
    "correction",
    [
        "corroborate",
        "dispute",
        "confirm",
        "amend",
        "retract",
    ],
)
def test_no_correction_is_accepted_after_a_retraction(
    world: World, incident: UUID, correction: str
) -> None:
    world.app.execute(c.Retract(incident, "wrong"))
    command = {
        "corroborate": c.Corroborate(incident, world.source("AFP")),
        "dispute": c.Dispute(incident, world.source("SANA")),
        "confirm": c.Confirm(incident, world.source("AP")),
        "amend": c.Amend(incident, "moved", places=(world.homs,)),
        "retract": c.Retract(incident, "still wrong"),
    }[correction]

    with world.refused(InvalidCorrection, "INVALID_CORRECTION"):
        world.app.execute(command)
    assert _status(world, incident) is ClaimStatus.RETRACTED


# -- history and concurrency ----------------------------------------------------------------


def test_the_full_history_is_readable_in_order(world: World, incident: UUID) -> None:
    world.app.execute(c.Corroborate(incident, world.source("AFP")))
    world.app.execute(c.Dispute(incident, world.source("SANA")))
    world.app.execute(c.Confirm(incident, world.source("AP")))
    world.app.execute(c.Amend(incident, "airport", places=(world.hama_airport,)))
    world.app.execute(c.Retract(incident, "wrong"))

    events = world.app.history(incident)

    assert [type(e).__name__ for e in events] == [
        "Recorded",
        "Corroborated",
        "Disputed",
        "Confirmed",
        "Amended",
        "Retracted",
    ]
    assert [e.originator_version for e in events] == [1, 2, 3, 4, 5, 6]
    assert all(e.originator_id == incident for e in events)


def test_a_correction_at_the_expected_version_is_accepted(world: World, incident: UUID) -> None:
    receipt = world.app.execute(c.Corroborate(incident, world.source("AFP"), expected_version=1))

    assert receipt.version == 2


def test_a_correction_at_a_stale_version_is_a_conflict(world: World, incident: UUID) -> None:
    world.app.execute(c.Corroborate(incident, world.source("AFP")))

    with world.refused(ConcurrencyConflict, "CONFLICT") as info:
        world.app.execute(c.Dispute(incident, world.source("SANA"), expected_version=1))
    assert info.value.field == "expectedVersion"
    assert _status(world, incident) is ClaimStatus.CORROBORATED


def test_a_correction_ahead_of_the_current_version_is_a_conflict(
    world: World, incident: UUID
) -> None:
    with world.refused(ConcurrencyConflict, "CONFLICT"):
        world.app.execute(c.Retract(incident, "wrong", expected_version=5))


def test_reading_a_place_as_an_incident_is_an_unknown_incident(world: World) -> None:
    with pytest.raises(UnknownIncident):
        world.app.get_incident(world.hama)
    with pytest.raises(UnknownIncident):
        world.app.get_incident(uuid4())


# -- how much one incident holds ------------------------------------------------------------


def test_an_incident_cites_at_most_fifty_sources(world: World) -> None:
    incident = world.record(valid_time=world.when(days_ago=5)).id
    for n in range(MAX_INCIDENT_SOURCES - 1):  # the recording cites one
        world.app.execute(c.Corroborate(incident, world.source(f"Wire {n}")))
    with world.refused(InvalidCorrection, "INVALID_CORRECTION"):
        world.app.execute(c.Confirm(incident, world.source("One too many")))
    # Other corrections still go through.
    world.app.execute(c.Dispute(incident, world.source("Army"), world.saa, "denied"))


def test_an_incident_takes_at_most_a_hundred_corrections(world: World) -> None:
    incident = world.record(valid_time=world.when(days_ago=5)).id
    for n in range(MAX_INCIDENT_EVENTS - 1):
        world.app.execute(c.Dispute(incident, world.source(f"Party {n}"), world.saa, "no"))
    assert world.app.get_incident(incident).version == MAX_INCIDENT_EVENTS
    with world.refused(InvalidCorrection, "INVALID_CORRECTION"):
        world.app.execute(c.Dispute(incident, world.source("Again"), world.saa, "no"))
