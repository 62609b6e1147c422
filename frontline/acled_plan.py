"""What each ACLED row of a file becomes: the planning half of `frontline import-acled`.

``Planner`` decides, from the mapped rows and what the log already holds (``Held``, looked
up in bulk), what each row becomes: a new incident, an amendment (its ACLED ``timestamp`` is
newer than the one recorded), nothing (the same or an older timestamp), or a rejection;
each row in a deletions file becomes a retraction. Places are found by (country, admin1,
admin2, location) among those already held — a held place with one of the row's slugs, in
its country and admin area and within SAME_PLACE_KM, is the row's place, and the row's name
joins its aliases — or registered; actors by their ACLED name's slug.
``frontline.acled_import`` records the plan in chunks, each atomic: a row and the
registrations it needs land together or not at all.

Every command carries an idempotency key in the importer's own scope (``acled/<id>``,
``acled/<id>/revision/<timestamp>``, ``acled/<id>/deleted/<timestamp>``), so importing a file
twice, or resuming after a crash, records nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final
from uuid import UUID

from domain import commands as c
from domain.actors import Actor
from domain.identity import incident_id, place_id
from domain.values import Coordinates
from frontline.acled import (
    DATASET,
    AcledRow,
    ActorSpec,
    Mapped,
    PlaceSpec,
    RowError,
)
from readmodel.events import registered
from readmodel.queries.live import distance_km
from readmodel.queries.rows import PlaceRow, place_from_row

#: How far a row's coordinates may lie from a held place of its name that it is (a city's
#: centre as a hand-registered place and as ACLED geocodes it differ by a few km).
SAME_PLACE_KM: Final = 10.0
#: Rejected rows a summary lists; the rest are only counted (a file of a million bad rows
#: must not make a million messages).
MAX_PROBLEMS: Final = 100
RECORDED_BY: Final = "frontline import-acled"


def record_key(record_id: str) -> str:
    return f"{DATASET}/{record_id}"


@dataclass(frozen=True)
class HeldIncident:
    id: UUID
    revision: int
    retracted: bool


@dataclass
class Held:
    """What the log holds that a file refers to (looked up in bulk before planning)."""

    places: dict[str, PlaceRow] = field(default_factory=dict)  # by slug
    actors: set[UUID] = field(default_factory=set)
    incidents: dict[str, HeldIncident] = field(default_factory=dict)  # by ACLED event id


@dataclass
class Summary:
    read: int = 0
    recorded: int = 0
    revised: int = 0
    retracted: int = 0
    unchanged: int = 0
    rejected: int = 0
    places_created: int = 0
    actors_created: int = 0
    deletions_not_held: int = 0
    problems: list[str] = field(default_factory=list)
    dry_run: bool = False  # checked, nothing recorded
    position: int = 0  # the log's head afterwards (set by whoever reports it)

    def reject(self, problem: str) -> None:
        self.rejected += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    def lines(self) -> list[str]:
        return [
            f"rows read: {self.read:,}",
            f"incidents recorded: {self.recorded:,}",
            f"revised: {self.revised:,}",
            f"retracted: {self.retracted:,}",
            f"unchanged: {self.unchanged:,}",
            f"rejected: {self.rejected:,}",
            f"places created: {self.places_created:,}",
            f"actors created: {self.actors_created:,}",
        ] + ([f"deletions of events not held: {self.deletions_not_held:,}"]
             if self.deletions_not_held else [])  # fmt: skip


@dataclass(frozen=True)
class Step:
    """One row's commands (its registrations first), and what it counts as."""

    where: str
    commands: tuple[c.Command, ...]
    outcome: str  # recorded | revised | retracted
    registers: tuple[int, int] = (0, 0)  # places, actors


@dataclass(frozen=True)
class Needs:
    """What to look up in the log before planning a chunk of rows."""

    place_slugs: set[str]
    actor_ids: set[UUID]
    record_ids: set[str]


class Planner:
    """Plans a file chunk by chunk (see the module's docstring), remembering across chunks
    what the file itself has registered and recorded, so that only the chunk's rows and the
    file's running state are ever in memory."""

    def __init__(self, *, file: str, deletions_file: str = "deletions") -> None:
        self.file, self.deletions_file = file, deletions_file
        self.summary = Summary()
        self.places = _Places()
        self.actors: set[UUID] = set()
        # Each event id's latest revision, doubled, plus 1 once retracted: one int per row of
        # a file, not an object (a million-row export must fit; ~150 bytes a row with its key).
        self.latest: dict[str, int] = {}
        # Incidents held under an id their event id does not derive (recorded with ACLED's
        # provenance another way than this importer's keys): few, so kept apart.
        self.ids: dict[str, UUID] = {}

    def needs(self, mapped: Iterable[Mapped | RowError]) -> Needs:
        rows = [m for m in mapped if isinstance(m, Mapped)]
        return Needs(
            place_slugs={slug for m in rows for slug in m.place.slug_candidates()},
            actor_ids={a.id for m in rows for a in m.actors} - self.actors,
            record_ids={m.record_id for m in rows} - self.latest.keys(),
        )

    def learn(self, held: Held) -> None:
        self.places.held.update(held.places)
        self.actors |= held.actors
        for record_id, incident in held.incidents.items():
            if record_id not in self.latest:
                self._remember(record_id, incident)

    def _remember(self, record_id: str, incident: HeldIncident) -> None:
        self.latest[record_id] = incident.revision * 2 + incident.retracted
        if incident.id != incident_id(record_key(record_id)):
            self.ids[record_id] = incident.id

    def held(self, record_id: str) -> HeldIncident | None:
        """What the log (and this file so far) holds of an event id."""
        state = self.latest.get(record_id)
        if state is None:
            return None
        found = self.ids.get(record_id) or incident_id(record_key(record_id))
        return HeldIncident(found, state // 2, bool(state % 2))

    def rows(self, rows: Iterable[tuple[AcledRow, Mapped | RowError]]) -> list[Step]:
        steps = []
        for row, mapped in rows:
            self.summary.read += 1
            if isinstance(mapped, RowError):
                self.summary.reject(mapped.report(self.file))
                continue
            step = self._row(row, mapped)
            if step is None:
                self.summary.unchanged += 1
            else:
                steps.append(step)
        return steps

    def _row(self, row: AcledRow, mapped: Mapped) -> Step | None:
        before = self.held(mapped.record_id)
        if before is not None and (before.retracted or mapped.revision <= before.revision):
            return None  # the same revision, or an older one
        slug, place_commands, created = self.places.resolve(mapped.place)
        new_actors = [a for a in dict.fromkeys(mapped.actors) if a.id not in self.actors]
        self.actors.update(a.id for a in new_actors)
        key = record_key(mapped.record_id)
        if before is None:
            command: c.Command = _new_incident(mapped, slug, key)
        else:
            command = _revise(mapped, slug, key, before.id)
        self._remember(
            mapped.record_id,
            HeldIncident(before.id if before else incident_id(key), mapped.revision, False),
        )
        return Step(
            f"{self.file}:{row.line}",
            (*place_commands, *(_register_actor(a) for a in new_actors), command),
            "recorded" if before is None else "revised",
            (created, len(new_actors)),
        )

    def deletions(self, items: Iterable[tuple[int, str, str]]) -> list[Step]:
        """Retractions for ACLED's deleted events (look the ids up first: ``learn``)."""
        steps = []
        for line, record_id, deleted_at in items:
            before = self.held(record_id)
            if before is None:
                self.summary.deletions_not_held += 1
                continue
            if before.retracted:
                self.summary.unchanged += 1
                continue
            reason = f"deleted by ACLED ({deleted_at})" if deleted_at else "deleted by ACLED"
            retract = c.Retract(
                before.id, reason, key=f"{record_key(record_id)}/deleted/{deleted_at or 'now'}",
                recorded_by=RECORDED_BY,
            )  # fmt: skip
            self._remember(record_id, HeldIncident(before.id, before.revision, True))
            steps.append(Step(f"{self.deletions_file}:{line}", (retract,), "retracted"))
        return steps


class _Places:
    """Finds each row's place among those held, or registers it under a free slug."""

    def __init__(self) -> None:
        self.held: dict[str, PlaceRow] = {}
        self.claimed: dict[str, tuple[str, str, str, str]] = {}  # slug -> key, in this file
        self.slugs: dict[tuple[str, str, str, str], str] = {}  # key -> slug
        self.aliased: set[str] = set()

    def resolve(self, spec: PlaceSpec) -> tuple[str, list[c.Command], int]:
        """The place's slug, the commands that register it (or add the row's name to its
        aliases), and how many places they create (0 or 1)."""
        slug = self.slugs.get(spec.key)
        if slug is not None:
            return slug, [], 0
        for candidate in spec.slug_candidates():
            held = self.held.get(candidate)
            if held is not None:
                if _same_place(held, spec):
                    self.slugs[spec.key] = candidate
                    return candidate, self._alias(held, spec), 0
                continue
            if candidate in self.claimed:
                continue
            self.claimed[candidate] = spec.key
            self.slugs[spec.key] = candidate
            return candidate, [_register_place(candidate, spec)], 1
        raise AssertionError("the last candidate slug is unique to the place's key")

    def _alias(self, held: PlaceRow, spec: PlaceSpec) -> list[c.Command]:
        known = {held.name.casefold(), *(a.casefold() for a in held.aliases)}
        if spec.name.casefold() in known or held.slug in self.aliased:
            return []
        self.aliased.add(held.slug)
        return [
            c.RegisterPlace(
                held.slug, held.name, held.kind, _coordinates(held), held.country,
                governorate=held.governorate, aliases=(spec.name,), parent=held.parent_id,
            )
        ]  # fmt: skip


def _same_place(held: PlaceRow, spec: PlaceSpec) -> bool:
    """A held place with one of the row's slugs is the row's place if it lies in the same
    country and admin area and within SAME_PLACE_KM of the row's coordinates. The distance
    tells apart namesakes in different districts (ACLED's admin2, which places do not keep):
    without it, a later file's "Tall" of district B landed on district A's "Tall"."""
    same_country = held.country.casefold() == spec.country.casefold()
    admin = spec.admin1
    same_admin = held.governorate is None or admin is None
    same_admin = same_admin or held.governorate.casefold() == admin.casefold()  # type: ignore[union-attr]
    near = (
        distance_km(
            held.latitude, held.longitude, spec.coordinates.latitude, spec.coordinates.longitude
        )
        <= SAME_PLACE_KM
    )
    return same_country and same_admin and near


def _coordinates(held: PlaceRow) -> Coordinates:
    return Coordinates(held.latitude, held.longitude)


def _register_place(slug: str, spec: PlaceSpec) -> c.RegisterPlace:
    return c.RegisterPlace(
        slug, spec.name[:200], spec.kind, spec.coordinates, spec.country,
        governorate=spec.admin1,
    )  # fmt: skip


def _register_actor(actor: ActorSpec) -> c.RegisterActor:
    return c.RegisterActor(actor.slug, actor.name, actor.kind)


def _new_incident(m: Mapped, slug: str, key: str) -> c.RecordIncident:
    return c.RecordIncident(
        details=m.details,
        valid_time=m.valid_time,
        places=(place_id(slug),),
        sources=m.sources,
        actors=m.extra_actors,
        summary=m.summary,
        key=key,
        recorded_by=RECORDED_BY,
        fatalities=m.fatalities,
        provenance=m.provenance,
    )


def _revise(m: Mapped, slug: str, key: str, incident: UUID) -> c.Amend:
    return c.Amend(
        incident=incident,
        reason=f"ACLED revision of timestamp {m.revision}",
        valid_time=m.valid_time,
        places=(place_id(slug),),
        key=f"{key}/revision/{m.revision}",
        recorded_by=RECORDED_BY,
        details=m.details,
        actors=m.extra_actors,
        sources=m.sources,
        summary=m.summary,
        fatalities=m.fatalities,
        provenance=m.provenance,
        # What the revised row no longer gives is emptied, not kept from the earlier one.
        clear=tuple(
            n for n, v in (("summary", m.summary), ("fatalities", m.fatalities)) if v is None
        ),
    )


def count(summary: Summary, step: Step) -> None:
    """Count ``step`` as done."""
    setattr(summary, step.outcome, getattr(summary, step.outcome) + 1)
    summary.places_created += step.registers[0]
    summary.actors_created += step.registers[1]


HELD_PLACES: Final = "SELECT * FROM rm.places WHERE slug = ANY($1::text[])"
HELD_INCIDENTS: Final = """
SELECT provenance->>'record_id' AS record_id, id, (provenance->>'revision')::bigint AS revision,
       status = 'retracted' AS retracted
  FROM rm.incidents
 WHERE provenance->>'record_id' = ANY($1::text[]) AND provenance->>'dataset' = 'acled'"""


async def lookup(conn: Any, needs: Needs) -> Held:
    """What the log holds of ``needs``: places and incidents from the read models (project
    first: ``readmodel.projector.catch_up``), actors from the log itself."""
    places = await conn.fetch(HELD_PLACES, sorted(needs.place_slugs))
    actors = await registered(conn, needs.actor_ids) if needs.actor_ids else {}
    incidents = (
        await conn.fetch(HELD_INCIDENTS, sorted(needs.record_ids)) if needs.record_ids else []
    )
    return Held(
        places={r["slug"]: place_from_row(r) for r in places},
        actors={i for i, kind in actors.items() if kind is Actor},
        incidents={
            r["record_id"]: HeldIncident(r["id"], r["revision"], r["retracted"])
            for r in incidents
        },
    )  # fmt: skip
