"""The read queries (readmodel.queries) on a real PostgreSQL.

Each test records through the real application (the write side), projects with the real
projector, and asks the read models: control as of a valid time T and as known at a record
time K, the map and its filters, changes, actor tallies and the incident feed.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from domain import commands as c
from domain.application import Frontline
from domain.control import ControlStatus
from domain.details import AircraftLoss, Capture, Clash, Details, Withdrawal
from domain.errors import InvalidCoordinates, InvalidInput, InvalidTime
from domain.identity import actor_id, place_id
from domain.values import Coordinates, Source, ValidTime
from domain.vocabulary import (
    ActorKind,
    AircraftOutcome,
    ClaimStatus,
    IncidentKind,
    PlaceKind,
    TimePrecision,
)
from readmodel import queries as q
from readmodel.connections import Pool
from readmodel.projector import catch_up

SOURCE = Source(outlet="Test Wire")
HTS, SAA, SDF = actor_id("hts"), actor_id("saa"), actor_id("sdf")
HAMA, ERZE, HOMS, ALEPPO, AIRPORT = (
    place_id(s) for s in ("hama", "erze", "homs", "aleppo", "hama-airport")
)


def dec(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2024, 12, day, hour, minute, tzinfo=UTC)


class World:
    """A Frontline with a few Syrian places and actors, and shorthand to record into it."""

    def __init__(self, app: Frontline, pool: Pool) -> None:
        self.app = app
        self.pool = pool

    def populate(self) -> None:
        places = [
            ("hama", "Hama", PlaceKind.CITY, 35.1318, 36.7578, "Hama", ("Hamah",)),
            ("erze", "Erze", PlaceKind.VILLAGE, 35.165, 36.64, "Hama", ("Arzeh",)),
            ("hama-airport", "Hama Military Airport", PlaceKind.AIRBASE, 35.1182, 36.7112,
             "Hama", ()),
            ("homs", "Homs", PlaceKind.CITY, 34.7324, 36.7137, "Homs", ()),
            ("aleppo", "Aleppo", PlaceKind.CITY, 36.2021, 37.1343, "Aleppo", ("Halab",)),
        ]  # fmt: skip
        for slug, name, kind, lat, lon, gov, aliases in places:
            self.app.execute(
                c.RegisterPlace(slug, name, kind, Coordinates(lat, lon), "Syria", gov, aliases)
            )
        self.app.execute(c.RegisterActor("hts", "Hayat Tahrir al-Sham", ActorKind.ARMED_GROUP,
                                         aliases=("HTS",)))  # fmt: skip
        self.app.execute(c.RegisterActor("saa", "Syrian Arab Army", ActorKind.STATE_FORCE))
        self.app.execute(c.RegisterActor("sdf", "Syrian Democratic Forces", ActorKind.ARMED_GROUP))

    def record(
        self,
        details: Details,
        places: tuple[UUID, ...],
        at: datetime,
        precision: TimePrecision = TimePrecision.EXACT,
        end: datetime | None = None,
    ) -> UUID:
        return self.app.execute(
            c.RecordIncident(details, ValidTime(at, precision, end), places, (SOURCE,))
        ).id

    def capture(
        self,
        places: tuple[UUID, ...],
        by: tuple[UUID, ...],
        at: datetime,
        taken_from: UUID | None = None,
        precision: TimePrecision = TimePrecision.EXACT,
    ) -> UUID:
        return self.record(Capture(by=by, taken_from=taken_from), places, at, precision)

    def withdraw(
        self, places: tuple[UUID, ...], actor: UUID, at: datetime, handed_to: UUID | None = None
    ) -> UUID:
        return self.record(Withdrawal(actor=actor, handed_to=handed_to), places, at)

    def aircraft(
        self,
        outcome: AircraftOutcome,
        operator: UUID,
        claimed_by: UUID,
        at: datetime,
        count: int = 1,
    ) -> UUID:
        details = AircraftLoss("helicopter", outcome, operator, claimed_by, AIRPORT, count)
        return self.record(details, (HAMA,), at)

    async def project(self) -> None:
        async with self.pool.acquire() as conn:
            await catch_up(conn)

    async def mark(self) -> datetime:
        """A record time strictly between what was written so far and what comes next
        (the database's clock, which stamps recorded_at)."""
        await asyncio.sleep(0.005)
        stamp: datetime = await self.pool.fetchval("SELECT clock_timestamp()")
        await asyncio.sleep(0.005)
        return stamp


@pytest.fixture
async def world(app: Frontline, db_pool: Pool) -> World:
    w = World(app, db_pool)
    w.populate()
    return w


async def holders(pool: Pool, place: UUID, t: datetime, k: datetime | None = None) -> Any:
    state = await q.control_at(pool, place, t, k)
    return None if state is None else (state.status, set(state.controllers))


# -- record time ----------------------------------------------------------------------------


async def test_known_position_is_the_last_event_recorded_by_then(world: World) -> None:
    before_anything_else = await world.mark()
    head = world.app.head_position()
    world.capture((HAMA,), (HTS,), dec(5))
    after = await world.mark()

    assert await q.known_position(world.pool, None) is None
    assert await q.known_position(world.pool, before_anything_else) == head
    assert await q.known_position(world.pool, after) == head + 1
    assert await q.known_position(world.pool, datetime(2000, 1, 1, tzinfo=UTC)) == 0


async def test_naive_times_are_refused(world: World) -> None:
    with pytest.raises(InvalidTime):
        await q.control_at(world.pool, HAMA, datetime(2024, 12, 5))  # noqa: DTZ001


# -- control semantics (domain/control.py) --------------------------------------------------


async def test_capture_holds_place_from_its_time_and_infers_previous_holder(world: World) -> None:
    capture = world.capture((HAMA,), (HTS,), dec(5, 14), taken_from=SAA)
    await world.project()

    before = await q.control_at(world.pool, HAMA, dec(5, 13))
    after = await q.control_at(world.pool, HAMA, dec(5, 14))

    assert before is not None
    assert after is not None
    assert (before.status, before.controllers, before.inferred) == ("held", (SAA,), True)
    assert (after.status, after.controllers, after.inferred) == ("held", (HTS,), False)
    assert after.evidence == (capture,)
    assert after.valid_from == dec(5, 14)
    assert not after.uncertain
    assert not after.disputed


async def test_place_with_nothing_to_infer_from_is_unknown_before_first_incident(
    world: World,
) -> None:
    world.capture((ALEPPO,), (HTS,), dec(1))
    await world.project()

    assert await q.control_at(world.pool, ALEPPO, dec(1) - timedelta(seconds=1)) is None
    assert await holders(world.pool, ALEPPO, dec(1)) == ("held", {HTS})
    assert await q.control_at(world.pool, HOMS, dec(1)) is None


async def test_late_report_rewrites_control_as_of_earlier_date_but_earlier_belief_stays(
    world: World,
) -> None:
    now = datetime.now(UTC)
    world.capture((HAMA,), (SAA,), now - timedelta(days=10))
    before_late_report = await world.mark()
    # Recorded today, occurred three days ago.
    world.capture((HAMA,), (HTS,), now - timedelta(days=3), taken_from=SAA)
    await world.project()
    two_days_ago = now - timedelta(days=2)

    assert await holders(world.pool, HAMA, two_days_ago) == ("held", {HTS})
    assert await holders(world.pool, HAMA, two_days_ago, before_late_report) == ("held", {SAA})
    assert await holders(world.pool, HAMA, now - timedelta(days=4)) == ("held", {SAA})


async def test_recapture_within_hours_gives_three_intervals(world: World) -> None:
    world.capture((ERZE,), (HTS,), dec(4, 6), taken_from=SAA)
    world.capture((ERZE,), (SAA,), dec(4, 11), taken_from=HTS)
    await world.project()

    history = await q.control_history(world.pool, ERZE)

    assert [(s.valid_from, s.valid_to, s.controllers) for s in history] == [
        (None, dec(4, 6), (SAA,)),
        (dec(4, 6), dec(4, 11), (HTS,)),
        (dec(4, 11), None, (SAA,)),
    ]
    assert await holders(world.pool, ERZE, dec(4, 9)) == ("held", {HTS})


async def test_withdrawal_with_no_capturer_leaves_place_contested(world: World) -> None:
    withdrawal_id = world.withdraw((HOMS,), SAA, dec(7, 20))
    await world.project()

    state = await q.control_at(world.pool, HOMS, dec(8))

    assert state is not None
    assert (state.status, state.controllers) == (ControlStatus.CONTESTED, ())
    assert state.evidence == (withdrawal_id,)
    assert await holders(world.pool, HOMS, dec(7)) == ("held", {SAA})  # inferred before


async def test_withdrawal_hands_place_to_the_named_actor_or_to_remaining_holders(
    world: World,
) -> None:
    world.withdraw((HAMA,), SAA, dec(5), handed_to=HTS)
    world.capture((ERZE,), (HTS, SDF), dec(3))
    world.withdraw((ERZE,), SDF, dec(4))
    await world.project()

    assert await holders(world.pool, HAMA, dec(6)) == ("held", {HTS})
    assert await holders(world.pool, ERZE, dec(5)) == ("held", {HTS})


async def test_withdrawal_by_an_actor_not_holding_the_place_changes_nothing(world: World) -> None:
    world.capture((ERZE,), (HTS,), dec(3))
    world.withdraw((ERZE,), SAA, dec(4))
    await world.project()

    assert len(await q.control_history(world.pool, ERZE)) == 1
    assert await holders(world.pool, ERZE, dec(5)) == ("held", {HTS})


async def test_retracted_capture_stops_counting_from_the_retraction_record_time(
    world: World,
) -> None:
    world.capture((HAMA,), (SAA,), dec(1))
    capture = world.capture((HAMA,), (HTS,), dec(5), taken_from=SAA)
    before_retraction = await world.mark()
    world.app.execute(c.Retract(capture, "the video was from 2016"))
    await world.project()

    assert await holders(world.pool, HAMA, dec(6)) == ("held", {SAA})
    assert await holders(world.pool, HAMA, dec(6), before_retraction) == ("held", {HTS})
    feed = await q.incident_feed(world.pool, kinds=[IncidentKind.CAPTURE])
    assert {row.id: row.status for row in feed}[capture] is ClaimStatus.RETRACTED


async def test_disputed_capture_counts_but_is_flagged_until_confirmed(world: World) -> None:
    capture = world.capture((HAMA,), (HTS,), dec(5), taken_from=SAA)
    world.app.execute(c.Dispute(capture, SOURCE, disputed_by=SAA, reason="army denies"))
    disputed_mark = await world.mark()
    world.app.execute(c.Confirm(capture, SOURCE))
    await world.project()

    then = await q.control_at(world.pool, HAMA, dec(6), disputed_mark)
    now = await q.control_at(world.pool, HAMA, dec(6))

    assert then is not None
    assert now is not None
    assert (then.controllers, then.disputed) == ((HTS,), True)
    assert (now.controllers, now.disputed) == ((HTS,), False)


async def test_amendment_moves_the_effect_in_time(world: World) -> None:
    capture = world.capture((HAMA,), (HTS,), dec(5), taken_from=SAA)
    before_amendment = await world.mark()
    world.app.execute(c.Amend(capture, "it was the day before", valid_time=ValidTime(dec(4))))
    await world.project()

    assert await holders(world.pool, HAMA, dec(4, 12)) == ("held", {HTS})
    assert await holders(world.pool, HAMA, dec(4, 12), before_amendment) == ("held", {SAA})


async def test_amendment_moves_the_effect_to_another_place(world: World) -> None:
    capture = world.capture((HAMA,), (HTS,), dec(5), taken_from=SAA)
    before_amendment = await world.mark()
    world.app.execute(c.Amend(capture, "it was the village", places=(ERZE,)))
    await world.project()

    assert await q.control_at(world.pool, HAMA, dec(6)) is None
    assert await holders(world.pool, ERZE, dec(6)) == ("held", {HTS})
    assert await holders(world.pool, HAMA, dec(6), before_amendment) == ("held", {HTS})
    assert await q.control_at(world.pool, ERZE, dec(6), before_amendment) is None


async def test_equal_valid_times_apply_in_record_order_so_the_later_report_wins(
    world: World,
) -> None:
    world.capture((HAMA,), (HTS,), dec(5, 12))
    world.capture((HAMA,), (SDF,), dec(5, 12))
    await world.project()

    assert await holders(world.pool, HAMA, dec(5, 12)) == ("held", {SDF})
    assert len(await q.control_history(world.pool, HAMA)) == 1


async def test_day_precision_is_uncertain_within_the_day_and_certain_after(world: World) -> None:
    world.capture((HAMA,), (HTS,), dec(5), taken_from=SAA, precision=TimePrecision.DAY)
    await world.project()

    noon = await q.control_at(world.pool, HAMA, dec(5, 12))
    next_day = await q.control_at(world.pool, HAMA, dec(6))
    history = await q.control_history(world.pool, HAMA)

    assert noon is not None
    assert next_day is not None
    assert (noon.controllers, noon.uncertain, noon.certain_from) == ((HTS,), True, dec(6))
    assert (next_day.controllers, next_day.uncertain) == ((HTS,), False)
    assert noon.precision is TimePrecision.DAY
    assert [s.uncertain for s in history] == [False, True]


async def test_consecutive_same_holder_states_merge_with_all_their_evidence(world: World) -> None:
    first = world.capture((HAMA,), (HTS,), dec(4))
    second = world.capture((HAMA,), (HTS,), dec(5))
    await world.project()

    (state,) = await q.control_history(world.pool, HAMA)

    assert state.evidence == (first, second)


async def test_history_as_known_at_an_earlier_record_time(world: World) -> None:
    world.capture((HAMA,), (HTS,), dec(5), taken_from=SAA)
    mark = await world.mark()
    world.capture((HAMA,), (SAA,), dec(7), taken_from=HTS)
    await world.project()

    then = await q.control_history(world.pool, HAMA, mark)
    now = await q.control_history(world.pool, HAMA)

    assert [s.controllers for s in then] == [(SAA,), (HTS,)]
    assert [s.controllers for s in now] == [(SAA,), (HTS,), (SAA,)]
    assert then[-1].known_to is not None
    assert now[-1].known_to is None


# -- the map ----------------------------------------------------------------------------------


async def map_states(pool: Pool, t: datetime, **filters: Any) -> dict[UUID, Any]:
    return {
        pc.place.id: None if pc.state is None else set(pc.state.controllers)
        for pc in await q.control_map(pool, t, **filters)
    }


async def test_map_shows_every_place_with_unknown_ones_as_none(world: World) -> None:
    world.capture((HAMA, ERZE), (HTS,), dec(5), taken_from=SAA)
    await world.project()

    assert await map_states(world.pool, dec(6)) == {
        HAMA: {HTS}, ERZE: {HTS}, AIRPORT: None, HOMS: None, ALEPPO: None,
    }  # fmt: skip
    assert await map_states(world.pool, dec(4)) == {
        HAMA: {SAA}, ERZE: {SAA}, AIRPORT: None, HOMS: None, ALEPPO: None,
    }  # fmt: skip


async def test_map_as_known_at_leaves_out_places_registered_later(world: World) -> None:
    mark = await world.mark()
    world.app.execute(c.RegisterPlace("idlib", "Idlib", PlaceKind.CITY,
                                      Coordinates(35.93, 36.63), "Syria", "Idlib"))  # fmt: skip
    await world.project()

    assert place_id("idlib") in await map_states(world.pool, dec(6))
    assert place_id("idlib") not in await map_states(world.pool, dec(6), known_at=mark)


async def test_map_filters_by_bbox_radius_governorate_kind_and_controller(world: World) -> None:
    world.capture((HAMA,), (HTS,), dec(5), taken_from=SAA)
    world.capture((ALEPPO,), (HTS,), dec(1))
    world.capture((HOMS,), (SAA,), dec(1))
    await world.project()
    t = dec(6)

    assert set(await map_states(world.pool, t, bbox=(35.0, 36.5, 35.5, 37.0))) == {
        HAMA, ERZE, AIRPORT,
    }  # fmt: skip
    assert set(await map_states(world.pool, t, near=(35.1318, 36.7578, 5))) == {HAMA, AIRPORT}
    assert set(await map_states(world.pool, t, near=(35.1318, 36.7578, 50))) == {
        HAMA,
        ERZE,
        AIRPORT,
        HOMS,
    }  # fmt: skip  (Homs is ~44 km south of Hama, Aleppo ~120 km north)
    assert set(await map_states(world.pool, t, governorate="Homs")) == {HOMS}
    assert set(await map_states(world.pool, t, kinds=[PlaceKind.CITY])) == {HAMA, HOMS, ALEPPO}
    assert await map_states(world.pool, t, controller=HTS) == {HAMA: {HTS}, ALEPPO: {HTS}}
    assert await map_states(world.pool, t, controller=SAA, governorate="Hama") == {}


async def test_map_rejects_bad_areas(world: World) -> None:
    with pytest.raises(InvalidCoordinates):
        await q.control_map(world.pool, dec(6), bbox=(36.0, 36.0, 35.0, 37.0))
    with pytest.raises(InvalidInput):
        await q.control_map(world.pool, dec(6), near=(35.0, 36.0, 0))


async def test_bbox_across_the_antimeridian(world: World) -> None:
    await world.project()
    assert await map_states(world.pool, dec(6), bbox=(-90, 170, 90, -170)) == {}
    assert len(await map_states(world.pool, dec(6), bbox=(-90, 30, 90, -170))) == 5


async def test_map_probes_the_gist_index_on_span(world: World) -> None:
    """`box @> point` can't use a GiST box_ops index; the probe must be `box @> box`."""
    world.capture((HAMA,), (HTS,), dec(5), taken_from=SAA)
    await world.project()
    captured: list[tuple[str, tuple[Any, ...]]] = []

    class Spy:
        async def fetch(self, sql: str, *args: Any) -> list[Any]:
            captured.append((sql, args))
            return []

    await q.control_map(Spy(), dec(6), dec(7))
    async with world.pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(
            r[0] for r in await conn.fetch("EXPLAIN " + captured[0][0], *captured[0][1])
        )

    assert "control_span_idx" in plan


# -- changes and actors -------------------------------------------------------------------------


async def test_changes_between_two_dates_with_the_evidence_of_the_new_state(world: World) -> None:
    capture = world.capture((HAMA,), (HTS,), dec(5), taken_from=SAA)
    world.capture((ERZE,), (HTS,), dec(3), taken_from=SAA)
    world.capture((ERZE,), (SAA,), dec(4), taken_from=HTS)  # lost and retaken: no net change
    world.capture((ALEPPO,), (HTS,), dec(1))
    await world.project()

    changes = await q.changes_between(world.pool, dec(2), dec(6))

    assert [ch.place.id for ch in changes] == [HAMA]
    (hama,) = changes
    assert hama.before is not None
    assert hama.before.controllers == (SAA,)
    assert hama.after is not None
    assert hama.after.controllers == (HTS,)
    assert hama.evidence == (capture,)
    from_unknown = await q.changes_between(world.pool, dec(1) - timedelta(hours=1), dec(2))
    assert [(ch.place.id, ch.before) for ch in from_unknown] == [(ALEPPO, None)]
    assert await q.changes_between(world.pool, dec(2), dec(6), governorate="Aleppo") == []


async def test_places_held_and_gains_and_losses_of_an_actor(world: World) -> None:
    world.capture((HAMA,), (HTS,), dec(5), taken_from=SAA)
    world.capture((ALEPPO,), (HTS,), dec(1))
    world.capture((HOMS,), (HTS,), dec(2), taken_from=SAA)
    world.capture((HOMS,), (SAA,), dec(3), taken_from=HTS)
    await world.project()

    held = await q.places_held(world.pool, HTS, dec(6))
    saa = await q.gains_and_losses(world.pool, SAA, dec(4), dec(6))
    hts = await q.gains_and_losses(world.pool, HTS, dec(1) - timedelta(hours=1), dec(6))

    assert [pc.place.id for pc in held] == [ALEPPO, HAMA]
    assert ([ch.place.id for ch in saa.gained], [ch.place.id for ch in saa.lost]) == ([], [HAMA])
    assert {ch.place.id for ch in hts.gained} == {ALEPPO, HAMA}
    assert hts.lost == ()


async def test_aircraft_tally_counts_lost_and_downed_by_outcome(world: World) -> None:
    world.aircraft(AircraftOutcome.DESTROYED, SAA, HTS, dec(5, 10))
    world.aircraft(AircraftOutcome.EMERGENCY_LANDING, SAA, HTS, dec(5, 10))
    world.aircraft(AircraftOutcome.DESTROYED, SAA, HTS, dec(6, 10), count=2)
    retracted = world.aircraft(AircraftOutcome.DESTROYED, SAA, SDF, dec(5, 11))
    world.app.execute(c.Retract(retracted, "double count"))
    await world.project()

    saa = await q.aircraft_tally(world.pool, SAA)
    hts = await q.aircraft_tally(world.pool, HTS, until=dec(6))
    sdf = await q.aircraft_tally(world.pool, SDF)

    assert saa.lost == {"destroyed": 3, "damaged": 0, "emergency_landing": 1}
    assert saa.downed_total == 0
    assert saa.lost_total == 4
    assert hts.downed == {"destroyed": 1, "damaged": 0, "emergency_landing": 1}
    assert hts.lost_total == 0
    assert sdf.downed_total == 0
    assert (await q.aircraft_tally(world.pool, SAA, since=dec(6))).lost_total == 2


# -- the incident feed ----------------------------------------------------------------------------


async def test_feed_filters_by_kind_actor_place_area_window_and_status(world: World) -> None:
    capture = world.capture((HAMA,), (HTS,), dec(5), taken_from=SAA)
    clash = world.record(Clash(parties=(HTS, SAA)), (ERZE,), dec(3), TimePrecision.RANGE, dec(6))
    aleppo = world.capture((ALEPPO,), (SDF,), dec(1))
    heli = world.aircraft(AircraftOutcome.DESTROYED, SAA, HTS, dec(5, 10))
    world.app.execute(c.Dispute(aleppo, SOURCE))
    await world.project()

    async def ids(**filters: Any) -> set[UUID]:
        return {row.id for row in await q.incident_feed(world.pool, **filters)}

    assert await ids() == {capture, clash, aleppo, heli}
    assert await ids(kinds=["capture"]) == {capture, aleppo}
    assert await ids(actor=SDF) == {aleppo}
    assert await ids(place=ERZE) == {clash}
    assert await ids(near=(35.1318, 36.7578, 30)) == {capture, clash, heli}
    assert await ids(bbox=(36, 37, 36.5, 37.5)) == {aleppo}
    assert await ids(governorate="Hama", kinds=[IncidentKind.CLASH]) == {clash}
    assert await ids(valid_from=dec(5, 12), valid_to=dec(7)) == {clash}
    assert await ids(valid_from=dec(5), valid_to=dec(5, 10)) == {capture, clash}
    assert await ids(statuses=[ClaimStatus.DISPUTED]) == {aleppo}
    of_hts = await q.incidents_of_actor(world.pool, HTS, kinds=[IncidentKind.AIRCRAFT_LOSS])
    assert [row.id for row in of_hts] == [heli]
    (row,) = await q.incident_feed(world.pool, kinds=["aircraft_loss"])
    assert row.details["outcome"] == "destroyed"
    assert row.details["operator"] == str(SAA)
    assert row.sources[0]["outlet"] == "Test Wire"


async def test_feed_pages_with_keyset_cursors_in_recent_and_log_order(world: World) -> None:
    # Recorded out of valid-time order; two share a valid time.
    made = [world.capture((HAMA,), (HTS,), dec(d)) for d in (3, 1, 4, 1, 2)]
    await world.project()

    async def pages(order: str) -> list[list[UUID]]:
        found, after = [], None
        while page := await q.incident_feed(world.pool, order=order, after=after, limit=2):
            found.append([row.id for row in page])
            after = q.feed_cursor(page[-1], order)
        return found

    recent = await pages("recent")
    log = await pages("log")

    assert recent == [[made[2], made[0]], [made[4], made[3]], [made[1]]]
    assert log == [made[:2], made[2:4], made[4:]]


async def test_feed_rejects_bad_cursors_and_limits(world: World) -> None:
    world.capture((HAMA,), (HTS,), dec(3))
    await world.project()
    (row,) = await q.incident_feed(world.pool)

    with pytest.raises(q.InvalidCursor):
        await q.incident_feed(world.pool, order="log", after=q.feed_cursor(row, "recent"))
    with pytest.raises(q.InvalidCursor):
        await q.incident_feed(world.pool, after="not a cursor")
    with pytest.raises(InvalidInput):
        await q.incident_feed(world.pool, limit=0)


# -- look-ups ----------------------------------------------------------------------------------


async def test_get_and_find_places_actors_and_incidents(world: World) -> None:
    capture = world.capture((HAMA,), (HTS,), dec(5))
    await world.project()

    hama = await q.get_place(world.pool, HAMA)
    assert hama is not None
    assert (hama.slug, hama.aliases, hama.kind) == ("hama", ("Hamah",), "city")
    assert await q.get_place_by_slug(world.pool, "erze") == await q.get_place(world.pool, ERZE)
    assert await q.get_place(world.pool, HTS) is None
    hts = await q.get_actor(world.pool, HTS)
    assert hts is not None
    assert hts.name == "Hayat Tahrir al-Sham"
    assert await q.get_actor_by_slug(world.pool, "saa") == await q.get_actor(world.pool, SAA)
    incident = await q.get_incident(world.pool, capture)
    assert incident is not None
    assert incident.kind is IncidentKind.CAPTURE
    assert incident.place_ids == (HAMA,)
    assert incident.actor_ids == (HTS,)

    assert [p.slug for p in await q.find_places(world.pool, "HAMA")] == ["hama", "hama-airport"]
    assert [p.slug for p in await q.find_places(world.pool, "halab")] == ["aleppo"]
    assert [p.slug for p in await q.find_places(world.pool, "rze")] == ["erze"]
    assert await q.find_places(world.pool, "100%") == []
    assert [a.slug for a in await q.find_actors(world.pool, "hts")] == ["hts"]
    assert [a.slug for a in await q.find_actors(world.pool, "syrian")] == ["saa", "sdf"]
    assert len(await q.list_places(world.pool)) == 5
    assert [p.slug for p in await q.list_places(world.pool, governorate="Aleppo")] == ["aleppo"]
    assert len(await q.list_actors(world.pool)) == 3
