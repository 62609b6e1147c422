"""The write side remembers proven places and actors, and never trusts an uncommitted one."""

from __future__ import annotations

from typing import Any

import pytest

from domain import commands as c
from domain.details import Capture
from domain.errors import UnknownActor, UnknownPlace
from domain.identity import place_id
from domain.values import Coordinates, ValidTime


def test_a_place_created_by_a_failed_batch_stays_unknown_to_later_batches(world: Any) -> None:
    new_place = c.RegisterPlace("ghost-town", "Ghost Town", "town", Coordinates(35, 36), "Syria")
    capture = c.RecordIncident(
        details=Capture(by=(world.hts,)),
        valid_time=ValidTime(world.now),
        places=(place_id("ghost-town"),),
        sources=(world.source(),),
    )
    with pytest.raises(UnknownActor):
        world.app.execute_batch(
            [new_place, capture, c.RegisterActor("x", "X", "other", coalitions=(world.hama,))]
        )
    with pytest.raises(UnknownPlace):
        world.app.execute(capture)


def test_a_keyed_retry_after_the_cache_is_warm_is_still_recognised(world: Any) -> None:
    command = c.RecordIncident(
        details=Capture(by=(world.hts,)),
        valid_time=ValidTime(world.now),
        places=(world.hama,),
        sources=(world.source(),),
        key="warm-cache",
    )
    first = world.app.execute(command)
    again = world.app.execute(command)
    assert (again.id, again.replayed) == (first.id, True)
