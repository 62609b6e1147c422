"""Two writers on one aggregate: the loser re-runs against fresh state, or fails cleanly.

The in-memory store is single-process, so "another writer" is simulated by running a
command between a batch's validation and its save.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from domain import commands as c
from domain.application import CONFLICT_RETRIES
from domain.errors import ConcurrencyConflict
from domain.vocabulary import ClaimStatus

if TYPE_CHECKING:
    from uuid import UUID

    from tests.unit.domain.conftest import World


def _interfere(
    world: World, monkeypatch: pytest.MonkeyPatch, action: Callable[[], Any], times: int = 1
) -> None:
    """Run ``action`` (another writer) just before each of the next ``times`` saves."""
    original = world.app.record
    left = {"n": times, "busy": False}

    def record(*aggregates: Any, **kwargs: Any) -> Any:
        if left["n"] > 0 and not left["busy"]:  # the other writer's own save goes through
            left["n"] -= 1
            left["busy"] = True
            try:
                action()
            finally:
                left["busy"] = False
        return original(*aggregates, **kwargs)

    monkeypatch.setattr(world.app, "record", record)


@pytest.fixture
def incident(world: World) -> UUID:
    return world.record().id


def test_a_correction_that_loses_a_race_is_applied_after_the_winner(
    world: World, incident: UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    _interfere(
        world, monkeypatch, lambda: world.app.execute(c.Corroborate(incident, world.source("AFP")))
    )

    receipt = world.app.execute(c.Dispute(incident, world.source("SANA")))

    assert receipt.version == 3
    assert [type(e).__name__ for e in world.app.history(incident)] == [
        "Recorded", "Corroborated", "Disputed",
    ]  # fmt: skip
    assert world.app.get_incident(incident).status is ClaimStatus.DISPUTED


def test_a_correction_stating_its_version_fails_cleanly_when_it_loses_a_race(
    world: World, incident: UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    _interfere(
        world, monkeypatch, lambda: world.app.execute(c.Corroborate(incident, world.source("AFP")))
    )
    head_after_winner = world.app.head_position() + 1

    with pytest.raises(ConcurrencyConflict) as info:
        world.app.execute(c.Dispute(incident, world.source("SANA"), expected_version=1))

    assert info.value.code == "CONFLICT"
    assert world.app.head_position() == head_after_winner
    assert world.app.get_incident(incident).status is ClaimStatus.CORROBORATED


def test_two_keyed_recordings_racing_converge_on_one_incident(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    command = world.record_command(key="race")
    winner: list[Any] = []
    _interfere(world, monkeypatch, lambda: winner.append(world.app.execute(command)))

    loser = world.app.execute(command)

    assert loser.id == winner[0].id
    assert loser.replayed is True
    assert len(world.app.history(loser.id)) == 1


def test_a_writer_that_keeps_losing_gets_a_conflict_and_writes_nothing(
    world: World, incident: UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    _interfere(
        world, monkeypatch,
        lambda: world.app.execute(c.Corroborate(incident, world.source("AFP"))),
        times=CONFLICT_RETRIES,
    )  # fmt: skip

    with pytest.raises(ConcurrencyConflict) as info:
        world.app.execute(c.Dispute(incident, world.source("SANA")))

    assert info.value.code == "CONFLICT"
    assert [type(e).__name__ for e in world.app.history(incident)] == [
        "Recorded", *["Corroborated"] * CONFLICT_RETRIES,
    ]  # fmt: skip
