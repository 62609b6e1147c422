"""Frontline.validator: commands checked as recording would check them, nothing saved; a
long check keeps in memory only the incidents it is told to (an importer's --strict)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from domain import commands as c
from domain.errors import IdempotencyKeyReused
from domain.identity import incident_id

if TYPE_CHECKING:
    from tests.unit.domain.conftest import World


def test_a_check_saves_nothing_and_refuses_what_recording_would(world: World) -> None:
    recorded = world.record(key="held-before")
    head = world.app.head_position()
    validator = world.app.validator()

    validator.check([world.record_command(key="new-1"), world.record_command(key="new-2")])
    validator.check([c.Corroborate(recorded.id, world.source("AFP"))])  # reads the held one
    with pytest.raises(IdempotencyKeyReused):  # a key this very check used for another request
        validator.check([world.record_command(key="new-1", summary="another request")])

    assert world.app.head_position() == head


def test_a_check_holds_new_and_read_incidents_until_told_to_forget_them(world: World) -> None:
    recorded = world.record(key="held-before")
    validator = world.app.validator()
    validator.check([world.record_command(key=f"new-{n}") for n in range(3)])
    validator.check([c.Corroborate(recorded.id, world.source("AFP"))])
    assert validator.held() == 4

    kept = {incident_id("new-1"), recorded.id}
    validator.forget(kept.__contains__)

    assert validator.held() == 2
    # What it kept still counts: the same key for another request is refused.
    with pytest.raises(IdempotencyKeyReused):
        validator.check([world.record_command(key="new-1", summary="another request")])
