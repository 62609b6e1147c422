"""Idempotency keys and batches: a retry never duplicates, a failed batch writes nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import uuid4

import pytest

from domain import commands as c
from domain.details import Capture, Clash
from domain.errors import (
    ConcurrencyConflict,
    IdempotencyKeyReused,
    InvalidInput,
    UnknownPlace,
)
from domain.identity import KEY_MAX, incident_id
from domain.vocabulary import ClaimStatus

if TYPE_CHECKING:
    from uuid import UUID

    from tests.unit.domain.conftest import World


def test_recording_with_the_same_key_twice_returns_the_first_incident(world: World) -> None:
    first = world.record(key="hama-capture")
    head = world.app.head_position()

    again = world.record(key="hama-capture")

    assert again.id == first.id == incident_id("hama-capture")
    assert again.replayed is True
    assert again.position is None
    assert again.version == 1
    assert world.app.head_position() == head
    assert len(world.app.history(first.id)) == 1


def test_a_retry_by_another_analyst_is_still_a_replay(world: World) -> None:
    first = world.record(key="k", recorded_by="alice")

    again = world.record(key="k", recorded_by="bob")

    assert (again.id, again.replayed) == (first.id, True)
    assert world.app.get_incident(first.id).meta.recorded_by == "alice"


def test_a_retry_after_a_correction_still_returns_the_incident(world: World) -> None:
    first = world.record(key="k")
    world.app.execute(c.Corroborate(first.id, world.source("AFP")))
    head = world.app.head_position()

    again = world.record(key="k")

    assert (again.id, again.replayed) == (first.id, True)
    assert world.app.head_position() == head


def test_the_same_key_with_a_different_request_is_refused(world: World) -> None:
    world.record(key="k")

    with world.refused(IdempotencyKeyReused, "IDEMPOTENCY_KEY_REUSED"):
        world.record(Capture(by=(world.saa,)), key="k")


def test_the_same_key_with_a_different_time_is_refused(world: World) -> None:
    world.record(key="k", valid_time=world.when(days_ago=5))

    with world.refused(IdempotencyKeyReused, "IDEMPOTENCY_KEY_REUSED"):
        world.record(key="k", valid_time=world.when(days_ago=4))


@pytest.mark.parametrize("key", ["", "   ", "x" * (KEY_MAX + 1)])
def test_a_malformed_key_is_refused(world: World, key: str) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT") as info:
        world.record(key=key)
    assert info.value.field == "idempotencyKey"


# -- corrections ----------------------------------------------------------------------------


@pytest.fixture
def incident(world: World) -> UUID:
    return world.record().id


def test_a_correction_retried_with_its_key_is_applied_once(world: World, incident: UUID) -> None:
    command = c.Corroborate(incident, world.source("AFP"), key="afp-corroboration")
    first = world.app.execute(command)
    head = world.app.head_position()

    again = world.app.execute(command)

    assert (again.id, again.version, again.replayed) == (incident, first.version, True)
    assert again.position is None
    assert world.app.head_position() == head
    assert len(world.app.get_incident(incident).corroborations) == 1


def test_a_correction_retry_with_a_stale_expected_version_is_still_a_replay(
    world: World, incident: UUID
) -> None:
    world.app.execute(c.Dispute(incident, world.source("SANA"), key="d", expected_version=1))
    world.app.execute(c.Confirm(incident, world.source("AP")))

    again = world.app.execute(
        c.Dispute(incident, world.source("SANA"), key="d", expected_version=1)
    )

    assert (again.version, again.replayed) == (2, True)
    assert world.app.get_incident(incident).status is ClaimStatus.CONFIRMED


def test_a_correction_key_reused_for_another_correction_is_refused(
    world: World, incident: UUID
) -> None:
    world.app.execute(c.Corroborate(incident, world.source("AFP"), key="k"))

    with world.refused(IdempotencyKeyReused, "IDEMPOTENCY_KEY_REUSED"):
        world.app.execute(c.Corroborate(incident, world.source("AP"), key="k"))
    with world.refused(IdempotencyKeyReused, "IDEMPOTENCY_KEY_REUSED"):
        world.app.execute(c.Retract(incident, "wrong", key="k"))


def test_a_retraction_retried_with_its_key_is_a_replay_not_a_refusal(
    world: World, incident: UUID
) -> None:
    command = c.Retract(incident, "wrong", key="retract-1")
    first = world.app.execute(command)

    again = world.app.execute(command)

    assert (again.version, again.replayed) == (first.version, True)


def test_correction_keys_survive_reloading_from_the_store(world: World, incident: UUID) -> None:
    command = c.Amend(incident, "airport", places=(world.hama_airport,), key="amend-1")
    world.app.execute(command)

    reloaded = world.app.get_incident(incident)

    assert reloaded.correction_keys["amend-1"][1] == 2


# -- batches --------------------------------------------------------------------------------


def test_a_batch_is_recorded_in_one_go(world: World) -> None:
    head = world.app.head_position()

    receipts = world.app.execute_batch([world.record_command(), world.record_command()])

    assert [r.position for r in receipts] == [head + 1, head + 2]


def test_a_batch_with_one_bad_command_records_nothing(world: World) -> None:
    good = world.record_command(key="good")
    bad = world.record_command(places=(uuid4(),))

    with world.refused(UnknownPlace, "UNKNOWN_PLACE"):
        world.app.execute_batch([good, bad])
    # and the good one was not half-recorded: its key is still free for another request
    receipt = world.app.execute(world.record_command(Clash(parties=(world.hts, world.saa)),
                                                     key="good"))  # fmt: skip
    assert receipt.replayed is False


def test_a_batch_with_a_bad_correction_records_nothing(world: World, incident: UUID) -> None:
    with world.refused(ConcurrencyConflict, "CONFLICT"):
        world.app.execute_batch(
            [
                c.Corroborate(incident, world.source("AFP")),
                c.Dispute(incident, world.source("SANA"), expected_version=1),
            ]
        )
    assert world.app.get_incident(incident).corroborations == ()


def test_later_commands_in_a_batch_see_earlier_ones(world: World) -> None:
    record = world.record_command(key="batch-incident")
    new_id = incident_id("batch-incident")

    receipts = world.app.execute_batch(
        [
            record,
            c.Corroborate(new_id, world.source("AFP"), expected_version=1),
            c.Dispute(new_id, world.source("SANA"), expected_version=2),
        ]
    )

    assert [r.version for r in receipts] == [1, 2, 3]
    assert receipts[2].position == world.app.head_position()
    assert world.app.get_incident(new_id).status is ClaimStatus.DISPUTED


def test_a_keyed_recording_twice_in_one_batch_is_recorded_once(world: World) -> None:
    head = world.app.head_position()
    record = world.record_command(key="twice")

    first, second = world.app.execute_batch([record, record])

    assert first.id == second.id
    assert (first.replayed, second.replayed) == (False, True)
    assert world.app.head_position() == head + 1


def test_a_retry_of_a_request_stored_by_an_earlier_release_still_replays(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requests recorded before fingerprints were marked ``2:`` carry the first version's
    digest; their retries must match it, and a different request under the key must not."""
    with monkeypatch.context() as earlier:
        earlier.setattr(c, "fingerprint", c.fingerprint_v1)
        first = world.record(key="old-release")
        world.app.execute(c.Corroborate(first.id, world.source("AFP"), key="old-corroboration"))
    stored = world.app.get_incident(first.id)
    assert not (stored.meta.fingerprint or "").startswith(c.V2)
    head = world.app.head_position()

    assert world.record(key="old-release").replayed is True
    again = world.app.execute(c.Corroborate(first.id, world.source("AFP"), key="old-corroboration"))
    assert again.replayed is True
    assert world.app.head_position() == head
    with world.refused(IdempotencyKeyReused, "IDEMPOTENCY_KEY_REUSED"):
        world.record(key="old-release", summary="another request")
    with world.refused(IdempotencyKeyReused, "IDEMPOTENCY_KEY_REUSED"):
        world.app.execute(c.Corroborate(first.id, world.source("BBC"), key="old-corroboration"))
