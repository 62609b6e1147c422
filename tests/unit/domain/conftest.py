"""Fixtures for the domain's unit tests: an in-memory Frontline with a fixed clock.

Helpers live on a ``World`` object handed out by a fixture (rather than in an importable
module) so the tests need no packages under ``tests/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from domain import commands as c
from domain.application import Frontline, Receipt
from domain.details import Capture, Details
from domain.errors import DomainError
from domain.identity import actor_id, place_id
from domain.values import Coordinates, Source, ValidTime
from domain.vocabulary import ActorKind, PlaceKind

NOW = datetime(2024, 12, 10, 12, 0, tzinfo=UTC)


class World:
    """A Frontline holding a few places and actors from the December 2024 reports."""

    def __init__(self, app: Frontline, now: datetime) -> None:
        self.app = app
        self.now = now
        self.hama = place_id("hama")
        self.hama_airport = place_id("hama-military-airport")
        self.homs = place_id("homs")
        self.salamiyah = place_id("salamiyah")
        self.hts = actor_id("hts")
        self.saa = actor_id("saa")
        self.russia = actor_id("russian-air-force")
        self.moc = actor_id("military-operations-command")

    def populate(self) -> None:
        self.app.execute_batch(
            [
                c.RegisterPlace("hama", "Hama", PlaceKind.CITY, Coordinates(35.13, 36.75), "Syria",
                                governorate="Hama", aliases=("Hamah",)),
                c.RegisterPlace("hama-military-airport", "Hama Military Airport",
                                PlaceKind.AIRBASE, Coordinates(35.12, 36.71), "Syria",
                                parent=self.hama),
                c.RegisterPlace("homs", "Homs", PlaceKind.CITY, Coordinates(34.73, 36.71), "Syria"),
                c.RegisterPlace("salamiyah", "Salamiyah", PlaceKind.TOWN,
                                Coordinates(35.01, 37.05), "Syria"),
                c.RegisterActor("military-operations-command", "Military Operations Command",
                                ActorKind.COALITION),
                c.RegisterActor("hts", "Hayat Tahrir al-Sham", ActorKind.ARMED_GROUP,
                                side="opposition", aliases=("HTS",), coalitions=(self.moc,)),
                c.RegisterActor("saa", "Syrian Arab Army", ActorKind.STATE_FORCE,
                                side="government"),
                c.RegisterActor("russian-air-force", "Russian Aerospace Forces",
                                ActorKind.FOREIGN_MILITARY, side="government"),
            ]
        )  # fmt: skip

    # -- builders -------------------------------------------------------------------------

    def source(self, outlet: str = "Reuters", **kwargs: Any) -> Source:
        kwargs.setdefault("published_at", self.now - timedelta(days=4))
        return Source(outlet, **kwargs)

    def when(self, days_ago: float = 5, **kwargs: Any) -> ValidTime:
        return ValidTime(self.now - timedelta(days=days_ago), **kwargs)

    def record_command(
        self,
        details: Details | None = None,
        *,
        places: tuple[UUID, ...] | None = None,
        sources: tuple[Source, ...] | None = None,
        valid_time: ValidTime | None = None,
        **kwargs: Any,
    ) -> c.RecordIncident:
        return c.RecordIncident(
            details=details if details is not None else Capture(by=(self.hts,)),
            valid_time=valid_time if valid_time is not None else self.when(),
            places=places if places is not None else (self.hama,),
            sources=sources if sources is not None else (self.source(),),
            **kwargs,
        )

    def record(self, details: Details | None = None, **kwargs: Any) -> Receipt:
        return self.app.execute(self.record_command(details, **kwargs))

    # -- assertions -----------------------------------------------------------------------

    @contextmanager
    def refused(self, error: type[DomainError], code: str) -> Iterator[pytest.ExceptionInfo[Any]]:
        """The block must raise ``error`` with ``code`` and append nothing to the log."""
        before = self.app.head_position()
        with pytest.raises(error) as info:
            yield info
        assert info.value.code == code
        assert self.app.head_position() == before


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def app(now: datetime) -> Frontline:
    return Frontline(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: now)


@pytest.fixture
def world(app: Frontline, now: datetime) -> World:
    world = World(app, now)
    world.populate()
    return world
