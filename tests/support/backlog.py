"""A backlog of captures, out of order on purpose, for the tests that kill projectors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain import commands as c
from domain.application import Frontline
from domain.details import Capture
from domain.identity import actor_id, place_id
from domain.values import Coordinates, Source, ValidTime
from frontline.database import eventsourcing_env

PLACES = [f"village-{n}" for n in range(20)]
INCIDENTS = 3000


def record_backlog(dsn: str) -> int:
    app = Frontline(env=eventsourcing_env(dsn))
    try:
        setup: list[c.Command] = [
            c.RegisterActor("hts", "HTS", "armed_group"),
            c.RegisterActor("saa", "Syrian Arab Army", "state_force"),
        ]
        setup += [
            c.RegisterPlace(slug, slug, "village", Coordinates(35.0, 36.0), "Syria")
            for slug in PLACES
        ]
        app.execute_batch(setup)
        start = datetime(2024, 11, 27, tzinfo=UTC)
        captures = []
        for n in range(INCIDENTS):
            by, taken_from = ("hts", "saa") if n % 2 else ("saa", "hts")
            captures.append(
                c.RecordIncident(
                    details=Capture(by=(actor_id(by),), taken_from=actor_id(taken_from)),
                    # Out of order on purpose: late reports make the projector rewrite history.
                    valid_time=ValidTime(start + timedelta(minutes=(n * 7919) % 10000)),
                    places=(place_id(PLACES[n % len(PLACES)]),),
                    sources=(Source(outlet="Wire"),),
                )
            )
        for chunk in range(0, INCIDENTS, 500):
            app.execute_batch(captures[chunk : chunk + 500])
        return app.head_position()
    finally:
        app.close()
