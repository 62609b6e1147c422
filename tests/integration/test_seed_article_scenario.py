"""The seed article (the bundled Dec 2024 sample), recorded and projected, asked the questions
an analyst would ask of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.application import Frontline
from domain.control import ControlStatus
from domain.identity import actor_id, place_id
from domain.vocabulary import IncidentKind
from frontline.database import eventsourcing_env
from frontline.sample import load_sample
from readmodel import queries as q
from readmodel.connections import Pool
from readmodel.projector import catch_up

SYRIA = timezone(timedelta(hours=3))
HTS, MOC = actor_id("hts"), actor_id("military-operations-command")
ARMY, REBELS = actor_id("syrian-arab-army"), actor_id("anti-regime-factions")
HAMA, ALEPPO, HOMS = place_id("hama"), place_id("aleppo"), place_id("homs")
VILLAGES = {place_id(s) for s in ("erze", "al-wahshiyya", "kafrtun", "yadgun")}


def dec(day: int, hour: int = 12) -> datetime:
    return datetime(2024, 12, day, hour, tzinfo=SYRIA)


@pytest.fixture
async def pool(database_dsn: str, db_pool: Pool) -> Pool:
    app = Frontline(env=eventsourcing_env(database_dsn))
    try:
        assert load_sample(app) > 0
    finally:
        app.close()
    async with db_pool.acquire() as conn:
        await catch_up(conn)
    return db_pool


async def test_hama_is_held_by_hts_led_forces_as_of_6_december(pool: Pool) -> None:
    state = await q.control_at(pool, HAMA, dec(6))

    assert state is not None
    assert state.status is ControlStatus.HELD
    assert HTS in state.controllers
    assert set(state.controllers) <= {HTS, MOC}
    assert not (state.inferred)
    assert not (state.uncertain)
    assert not (state.disputed)
    assert HAMA in {pc.place.id for pc in await q.places_held(pool, HTS, dec(6))}


async def test_hama_was_held_by_the_army_as_of_1_december_by_inference(pool: Pool) -> None:
    state = await q.control_at(pool, HAMA, dec(1))

    assert state is not None
    assert (state.status, state.controllers, state.inferred) == (ControlStatus.HELD, (ARMY,), True)


async def test_hama_on_the_day_it_fell_is_uncertain(pool: Pool) -> None:
    state = await q.control_at(pool, HAMA, dec(5))

    assert state is not None
    assert HTS in state.controllers
    assert state.uncertain


async def test_the_four_villages_west_of_hama_changed_hands(pool: Pool) -> None:
    changes = await q.changes_between(pool, dec(1), dec(6), kinds=["village"])

    assert {ch.place.id for ch in changes} == VILLAGES
    for change in changes:
        assert change.before is not None
        assert change.before.controllers == (ARMY,)
        assert change.after is not None
        assert change.after.controllers == (REBELS,)
        assert len(change.evidence) == 1
    losses = await q.gains_and_losses(pool, ARMY, dec(1), dec(6))
    assert VILLAGES | {HAMA} <= {ch.place.id for ch in losses.lost}


async def test_aleppo_changed_hands_on_1_december(pool: Pool) -> None:
    (interval,) = await q.control_history(pool, ALEPPO)
    on_the_day = await q.control_at(pool, ALEPPO, dec(1))
    changes = await q.changes_between(pool, dec(1, 0) - timedelta(hours=1), dec(2))

    assert interval.valid_from == datetime(2024, 12, 1, tzinfo=SYRIA)
    assert interval.controllers == (REBELS,)
    assert await q.control_at(pool, ALEPPO, datetime(2024, 11, 30, 12, tzinfo=UTC)) is None
    assert on_the_day is not None
    assert on_the_day.uncertain
    assert ALEPPO in {ch.place.id for ch in changes}


async def test_anticipated_homs_offensive_does_not_change_control_of_homs(pool: Pool) -> None:
    feed = await q.incident_feed(pool, place=HOMS)

    assert [row.kind for row in feed] == [IncidentKind.ANTICIPATED_OPERATION]
    assert await q.control_history(pool, HOMS) == []
    assert await q.control_at(pool, HOMS, dec(7)) is None
    map_homs = await q.control_map(pool, dec(7), governorate="Homs")
    assert [(pc.place.id, pc.state) for pc in map_homs] == [(HOMS, None)]


async def test_helicopter_tallies(pool: Pool) -> None:
    army = await q.aircraft_tally(pool, ARMY)
    rebels = await q.aircraft_tally(pool, REBELS)

    assert army.lost == {"destroyed": 1, "damaged": 0, "emergency_landing": 1}
    assert army.downed_total == 0
    assert rebels.downed == {"destroyed": 1, "damaged": 0, "emergency_landing": 1}
    assert rebels.lost_total == 0


async def test_nothing_was_known_before_the_sample_was_recorded(pool: Pool) -> None:
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)

    assert await q.control_at(pool, HAMA, dec(6), long_ago) is None
    assert await q.control_map(pool, dec(6), long_ago) == []
