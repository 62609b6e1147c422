"""A realistic synthetic history, recorded through the real write path.

Places spread over governorates, a few dozen actors on three sides, incidents of every kind
in roughly valid-time order with a share of late (out-of-order) reports, and corrections:
corroborations, disputes, confirmations, amendments and retractions. Deterministic per seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

from domain import commands as c
from domain import details as d
from domain.application import Frontline
from domain.identity import actor_id, incident_id, place_id
from domain.values import Coordinates, Source, ValidTime
from domain.vocabulary import ActorKind, AircraftOutcome, PlaceKind, TimePrecision

START = datetime(2021, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=3 * 365)
GOVERNORATES = [
    "Aleppo", "Idlib", "Hama", "Homs", "Latakia", "Tartus", "Damascus", "Rif Dimashq",
    "Daraa", "Quneitra", "As-Suwayda", "Deir ez-Zor", "Raqqa", "Al-Hasakah",
]  # fmt: skip
SIDES = ["government", "opposition", "sdf"]
KINDS = [  # incident mix, by weight
    ("capture", 35), ("withdrawal", 15), ("aircraft_loss", 8), ("clash", 15),
    ("advance", 10), ("air_strike", 7), ("statement", 5), ("anticipated", 5),
]  # fmt: skip
LATE_SHARE = 0.10  # reports that arrive days after later events were recorded
CORRECTIONS = 0.08  # corrections per incident


def place_slugs(n: int) -> list[str]:
    return [f"place-{i:05d}" for i in range(n)]


def actor_slugs(n: int) -> list[str]:
    return [f"actor-{i:02d}" for i in range(n)]


def registrations(places: int, actors: int, rng: random.Random) -> list[c.Command]:
    commands: list[c.Command] = [
        c.RegisterActor(slug, slug.replace("-", " ").title(), ActorKind.ARMED_GROUP, SIDES[i % 3])
        for i, slug in enumerate(actor_slugs(actors))
    ]
    for i, slug in enumerate(place_slugs(places)):
        kind = PlaceKind(rng.choice(["village"] * 6 + ["town"] * 3 + ["city", "airbase", "hill"]))
        commands.append(
            c.RegisterPlace(
                slug, f"Place {i}", kind,
                Coordinates(rng.uniform(32.5, 37.0), rng.uniform(35.8, 42.0)),
                "Syria", GOVERNORATES[i % len(GOVERNORATES)],
            )
        )  # fmt: skip
    return commands


class History:
    """Commands for ``incidents`` incidents (plus corrections), in recording order."""

    def __init__(self, incidents: int, places: int = 1000, actors: int = 36, seed: int = 7):
        self.incidents, self.places, self.actors = incidents, places, actors
        self.rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
        self.place_ids = [place_id(s) for s in place_slugs(places)]
        self.actor_ids = [actor_id(s) for s in actor_slugs(actors)]
        self.recorded: list[UUID] = []
        self.place_of: dict[UUID, UUID] = {}
        self.retracted: set[UUID] = set()
        self.source = Source(outlet="Synthetic Wire", quote="A sentence of a report. " * 4)
        kinds, weights = zip(*KINDS, strict=True)
        self.kinds, self.weights = kinds, weights

    def setup(self) -> list[c.Command]:
        return registrations(self.places, self.actors, self.rng)

    def batches(self, size: int) -> Iterator[list[c.Command]]:
        batch: list[c.Command] = []
        for n in range(self.incidents):
            batch.append(self.incident(n))
            if self.rng.random() < CORRECTIONS and (correction := self.correction()):
                batch.append(correction)
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    def when(self, n: int) -> ValidTime:
        at = START + SPAN * (n / self.incidents)
        if self.rng.random() < LATE_SHARE:
            at -= timedelta(days=self.rng.uniform(0.5, 10))
        at = max(at, START)
        if self.rng.random() < 0.3:
            return ValidTime(at, TimePrecision.DAY)
        return ValidTime(at)

    def incident(self, n: int) -> c.RecordIncident:
        rng, actors = self.rng, self.actor_ids
        a, b = rng.sample(actors, 2)
        kind = rng.choices(self.kinds, self.weights)[0]
        details = DETAILS[kind](a, b, rng, self)
        place = rng.choice(self.place_ids)
        command = c.RecordIncident(
            details=details,
            valid_time=self.when(n),
            places=(place,),
            sources=(self.source,),
            key=f"bench/{n}",
        )
        self.recorded.append(incident_id(command.key))
        self.place_of[self.recorded[-1]] = place
        return command

    def correction(self) -> c.Command | None:
        """A correction of a recent, unretracted incident (retracted ones take none)."""
        rng = self.rng
        target = rng.choice(self.recorded[-5000:])
        if target in self.retracted:
            return None
        roll = rng.random()
        if roll < 0.5:
            return c.Corroborate(target, self.source)
        if roll < 0.7:
            return c.Dispute(target, self.source, reason="denied by the other side")
        if roll < 0.8:
            return c.Confirm(target, self.source)
        if roll < 0.9:
            moved = rng.choice(
                [p for p in rng.sample(self.place_ids, 2) if p != self.place_of[target]]
            )
            self.place_of[target] = moved
            return c.Amend(target, "better location", places=(moved,))
        self.retracted.add(target)
        return c.Retract(target, "report withdrawn")


Builder = Callable[[UUID, UUID, random.Random, History], d.Details]
DETAILS: dict[str, Builder] = {
    "capture": lambda a, b, rng, h: d.Capture(by=(a,), taken_from=b),
    "withdrawal": lambda a, b, rng, h: d.Withdrawal(
        actor=a, redeployment=rng.random() < 0.5, handed_to=b if rng.random() < 0.5 else None
    ),
    "aircraft_loss": lambda a, b, rng, h: d.AircraftLoss(
        aircraft=rng.choice(["helicopter", "jet", "drone"]),
        outcome=rng.choice(list(AircraftOutcome)),
        operator=a,
        claimed_by=b,
    ),
    "clash": lambda a, b, rng, h: d.Clash(parties=(a, b)),
    "advance": lambda a, b, rng, h: d.Advance(actor=a, objective=rng.choice(h.place_ids)),
    "air_strike": lambda a, b, rng, h: d.AirStrike(by=a, target="positions", in_support_of=b),
    "statement": lambda a, b, rng, h: d.Statement(speaker="A spokesman", quote="We advanced."),
    "anticipated": lambda a, b, rng, h: d.AnticipatedOperation(
        description="An offensive may start", actor=a, objective=rng.choice(h.place_ids)
    ),
}


def record(app: Frontline, history: History, batch_size: int = 2000) -> Iterator[int]:
    """Record the history; yields the number of commands recorded after each batch."""
    app.execute_batch(history.setup())
    for batch in history.batches(batch_size):
        app.execute_batch(batch)
        yield len(batch)
