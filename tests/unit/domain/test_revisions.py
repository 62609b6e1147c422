"""What a dataset's rows need of an incident (issue 14): fatalities, provenance, the kinds
Strike and OtherEvent, and amendments that revise what an incident was, not only when and
where."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from domain import commands as c
from domain.control import facts_of
from domain.details import AirStrike, Capture, Clash, OtherEvent, Strike
from domain.errors import InvalidCorrection, InvalidInput, UnknownActor
from domain.values import PROVENANCE_ATTRIBUTES_MAX, Provenance, Source
from domain.vocabulary import IncidentKind

if TYPE_CHECKING:
    from tests.unit.domain.conftest import World

ACLED = Provenance("acled", "SYR123", "1733400000", (("event_type", "Battles"),))


def test_fatalities_and_provenance_are_kept_on_the_incident(world: World) -> None:
    receipt = world.record(Capture(by=(world.hts,)), fatalities=12, provenance=ACLED)
    incident: Any = world.app.get(receipt.id)
    assert (incident.fatalities, incident.provenance) == (12, ACLED)
    assert incident.provenance.attribute("event_type") == "Battles"


@pytest.mark.parametrize("fatalities", [-1, 1_000_001, 2.5, True, "3"])
def test_fatalities_are_a_whole_number_in_range(world: World, fatalities: Any) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT"):
        world.record(Capture(by=(world.hts,)), fatalities=fatalities)


def test_provenance_is_bounded() -> None:
    with pytest.raises(InvalidInput):
        Provenance("acled", "")
    with pytest.raises(InvalidInput):
        Provenance("acled", "SYR1", attributes=tuple(
            (f"c{i}", "v") for i in range(PROVENANCE_ATTRIBUTES_MAX + 1)
        ))  # fmt: skip
    with pytest.raises(InvalidInput):
        Provenance("acled", "SYR1", attributes=(("notes", "x" * 5_001),))


def test_strikes_and_other_events_are_recorded_and_name_their_actors(world: World) -> None:
    strike = world.record(Strike(by=world.saa, means="Shelling/artillery/missile attack",
                                 target_actor=world.hts))  # fmt: skip
    other = world.record(OtherEvent("Protests / Peaceful protest", parties=(world.hts,)))
    air = world.record(AirStrike(by=world.russia, target_actor=world.hts))
    assert world.app.get(strike.id).kind is IncidentKind.STRIKE  # type: ignore[attr-defined]
    assert world.app.get(strike.id).actor_ids == (world.saa, world.hts)  # type: ignore[attr-defined]
    assert world.app.get(other.id).kind is IncidentKind.OTHER  # type: ignore[attr-defined]
    assert world.app.get(air.id).actor_ids == (world.russia, world.hts)  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput):
        OtherEvent("  ")


def test_an_amendment_can_revise_what_an_incident_was(world: World) -> None:
    """An ACLED row revised from "overtakes territory" to "armed clash": the capture no
    longer counts for control, and everything else revised is kept."""
    receipt = world.record(Capture(by=(world.hts,), taken_from=world.saa), fatalities=3)
    before: Any = world.app.get(receipt.id)
    assert facts_of(before, 1)
    world.app.execute(
        c.Amend(
            receipt.id, "ACLED revision 1733500000",
            details=Clash(parties=(world.hts, world.saa)), fatalities=9,
            sources=(Source("SOHR", quote="clashes continue"),), summary="Clashes",
            provenance=Provenance("acled", "SYR123", "1733500000"),
        )
    )  # fmt: skip
    after: Any = world.app.get(receipt.id)
    assert after.kind is IncidentKind.CLASH
    assert (after.fatalities, after.summary, after.sources[0].outlet) == (9, "Clashes", "SOHR")
    assert after.provenance.revision == "1733500000"
    assert facts_of(after, 1) == {}
    # The Amended event says what changed, and only that.
    amended = world.app.history(receipt.id)[-1]
    assert amended.revision.fatalities == 9  # type: ignore[attr-defined]
    assert amended.revision.actor_ids is None  # type: ignore[attr-defined]  # the same two


def test_revised_details_recompute_who_took_part_keeping_the_others(world: World) -> None:
    receipt = world.record(Capture(by=(world.hts,)), actors=(world.moc,))
    world.app.execute(c.Amend(receipt.id, "revised", details=Capture(by=(world.saa,))))
    assert world.app.get(receipt.id).actor_ids == (world.saa, world.moc)  # type: ignore[attr-defined]


def test_an_amendment_that_changes_nothing_is_refused(world: World) -> None:
    receipt = world.record(Capture(by=(world.hts,)), fatalities=3)
    with world.refused(InvalidCorrection, "INVALID_CORRECTION"):
        world.app.execute(
            c.Amend(receipt.id, "same", fatalities=3, details=Capture(by=(world.hts,)))
        )


def test_a_revision_naming_an_unknown_actor_is_refused(world: World) -> None:
    from domain.identity import actor_id  # noqa: PLC0415

    receipt = world.record(Capture(by=(world.hts,)))
    with world.refused(UnknownActor, "UNKNOWN_ACTOR"):
        world.app.execute(c.Amend(receipt.id, "x", details=Capture(by=(actor_id("nobody"),))))


def test_a_revision_can_empty_the_summary_and_the_fatalities_a_row_no_longer_gives(
    world: World,
) -> None:
    receipt = world.record(Capture(by=(world.hts,)), fatalities=5, summary="5 dead")
    world.app.execute(c.Amend(receipt.id, "ACLED revision", clear=("fatalities", "summary")))
    after: Any = world.app.get(receipt.id)
    assert (after.fatalities, after.summary) == (None, None)
    amended = world.app.history(receipt.id)[-1]
    assert amended.revision.cleared == ("fatalities", "summary")  # type: ignore[attr-defined]
    # Emptying what is already empty changes nothing.
    with world.refused(InvalidCorrection, "INVALID_CORRECTION"):
        world.app.execute(c.Amend(receipt.id, "again", clear=("fatalities",)))
    with world.refused(InvalidCorrection, "INVALID_CORRECTION"):
        world.app.execute(c.Amend(receipt.id, "no", clear=("details",)))
    with world.refused(InvalidCorrection, "INVALID_CORRECTION"):
        world.app.execute(c.Amend(receipt.id, "both", fatalities=2, clear=("fatalities",)))
