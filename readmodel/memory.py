"""What the projector keeps in memory between batches, so that a batch costs a few bulk
statements instead of several round trips per event.

Everything here is a cache of what the read-model tables already say: it is dropped whenever
a batch fails (the transaction rolled back, so the tables are the truth again) and refilled
from the tables on demand.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

from domain.control import Fact, Interval
from domain.incidents import Incident

K = TypeVar("K")
V = TypeVar("V")


class Lru(Generic[K, V]):
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self.items.get(key)
        if value is not None:
            self.items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self.items[key] = value
        self.items.move_to_end(key)
        while len(self.items) > self.capacity:
            self.items.popitem(last=False)

    def __contains__(self, key: K) -> bool:
        return key in self.items

    def clear(self) -> None:
        self.items.clear()


@dataclass
class IncidentEntry:
    """An incident aggregate as of the last applied event, with what the tables hold for it."""

    incident: Incident
    recorded_position: int
    recorded_at: datetime
    facts: dict[UUID, Fact] = field(default_factory=dict)


@dataclass
class Row:
    """A control row: ``id`` is None until it is written; ``known_to`` None while believed."""

    interval: Interval
    known_from: int
    known_to: int | None = None
    id: int | None = None


@dataclass
class PlaceTimeline:
    """A place's current facts and its believed control rows, in timeline order."""

    facts: dict[UUID, Fact]
    rows: list[Row]
    latest: datetime | None = None  # the latest effective_at among the facts

    def __post_init__(self) -> None:
        self.refresh_latest()

    def refresh_latest(self) -> None:
        self.latest = max((f.effective_at for f in self.facts.values()), default=None)


class Memory:
    def __init__(self, max_incidents: int = 200_000, max_places: int = 50_000) -> None:
        self.incidents: Lru[UUID, IncidentEntry] = Lru(max_incidents)
        self.places: Lru[UUID, PlaceTimeline] = Lru(max_places)

    def clear(self) -> None:
        self.incidents.clear()
        self.places.clear()
