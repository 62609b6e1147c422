"""`frontline import-acled`: ACLED rows into the log, revision-aware and idempotent.

``plan`` decides, from the mapped rows and what the log already holds (``Held``, looked up in
bulk), what each row becomes: a new incident, an amendment (its ACLED ``timestamp`` is newer
than the one recorded), nothing (the same or an older timestamp), or a rejection; each row in
a deletions file becomes a retraction. Places are found by (country, admin1, admin2,
location) among those already held — a held place with the row's slug, country and admin
area is the same place, and the row's name joins its aliases — or registered; actors by
their ACLED name's slug. ``execute`` records the plan in chunks, each atomic: a row and the
registrations it needs land together or not at all.

Every command carries an idempotency key in the importer's own scope (``acled/<id>``,
``acled/<id>/revision/<timestamp>``, ``acled/<id>/deleted/<timestamp>``), so importing a file
twice, or resuming after a crash, records nothing twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any, Final, TypeVar
from uuid import UUID

from domain import commands as c
from domain.actors import Actor
from domain.application import Frontline
from domain.errors import DomainError
from domain.identity import incident_id, place_id
from domain.values import Coordinates
from frontline.acled import (
    DATASET,
    AcledError,
    AcledRow,
    ActorSpec,
    Mapped,
    PlaceSpec,
    RowError,
    map_row,
)
from readmodel.events import registered
from readmodel.queries.live import distance_km
from readmodel.queries.rows import PlaceRow, place_from_row

CHUNK: Final = 1000
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


def execute(
    app: Frontline,
    steps: list[Step],
    summary: Summary,
    *,
    progress: Callable[[int], None] = lambda _: None,
    chunk: int = CHUNK,
) -> Summary:
    """Record ``steps`` in chunks of ``chunk`` rows, each chunk atomic. A chunk the log
    refuses (something changed since the plan) is recorded row by row instead, so that one
    bad row costs only itself: first every registration of the chunk (a later row may use a
    place an earlier one registers), then each row's own command."""
    for start in range(0, len(steps), chunk):
        part = steps[start : start + chunk]
        try:
            app.execute_batch([command for step in part for command in step.commands])
            for step in part:
                _count(summary, step)
        except DomainError:
            _row_by_row(app, part, summary)
        progress(len(part))
    return summary


def _row_by_row(app: Frontline, part: list[Step], summary: Summary) -> None:
    failed: dict[int, DomainError] = {}
    for n, step in enumerate(part):
        for command in step.commands[:-1]:  # the registrations
            try:
                app.execute(command)
            except DomainError as error:
                failed.setdefault(n, error)
    for n, step in enumerate(part):
        try:
            if n not in failed:
                app.execute(step.commands[-1])
        except DomainError as error:
            failed[n] = error
        if n in failed:
            refusal = failed[n]
            summary.reject(f"{step.where}: {refusal.field or 'row'}: {refusal.message}")
        else:
            _count(summary, step)


def _count(summary: Summary, step: Step) -> None:
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


# -- the whole import ---------------------------------------------------------------------------

#: Incidents a check may keep in memory because a later row of the file revises or deletes
#: them; past it, the file is refused (split it).
MAX_HELD_FOR_CHECK: Final = 100_000
_SCAN_BITS: Final = 1 << 27  # 16 MiB: a few events of a million falsely "repeated"


@dataclass
class Scan:
    """A file read once before anything is written: it is CSV to the end (a file that breaks
    at row 900,000 is refused before row 1 is recorded), how many rows it has (the progress
    bar), and which event ids may occur more than once in it or in the deletions (a
    superset, from a bitmap of hashes: ``repeated_ids`` confirms them)."""

    rows: int = 0
    repeated: set[str] = field(default_factory=set)


def scan(rows: Iterable[AcledRow], deletions: Iterable[tuple[int, str, str]] = ()) -> Scan:
    bits = bytearray(_SCAN_BITS // 8)
    found = Scan()

    def see(record_id: str) -> None:
        h = hash(record_id) % _SCAN_BITS
        byte, bit = h >> 3, 1 << (h & 7)
        if bits[byte] & bit:
            found.repeated.add(record_id)
        bits[byte] |= bit

    for row in rows:
        found.rows += 1
        see(row.get("event_id_cnty"))
    for _, record_id, _ in deletions:
        see(record_id)
    return found


Write = Callable[[list[Step], Summary], Awaitable[None]]


def recording(app: Frontline) -> Write:
    """Record steps through ``app``'s write path, in a worker thread (``execute``)."""

    async def write(steps: list[Step], summary: Summary) -> None:
        if steps:
            await asyncio.to_thread(execute, app, steps, summary, chunk=len(steps))

    return write


def repeated_ids(
    rows: Iterable[AcledRow], deletions: Iterable[tuple[int, str, str]], candidates: set[str]
) -> set[str]:
    """Which of the scan's candidates do occur more than once (a second pass that counts
    only them): the exact set a check keeps incidents for."""
    counts: dict[str, int] = {}
    for record_id in (*(r.get("event_id_cnty") for r in rows), *(d[1] for d in deletions)):
        if record_id in candidates:
            counts[record_id] = counts.get(record_id, 0) + 1
    return {record_id for record_id, n in counts.items() if n > 1}


def checking(app: Frontline, repeated: set[str], planner: Planner) -> Write:
    """Check steps as recording them would, record nothing (``Frontline.validator``): a
    dry run, and the first pass of ``--strict``. Keeps in memory only the incidents that a
    later row of the file revises or deletes (``repeated_ids``), as ``planner`` names them."""
    validator = app.validator()
    derived = {incident_id(record_key(record_id)) for record_id in repeated}

    def kept(incident: UUID) -> bool:
        return incident in derived or incident in {
            planner.ids[r] for r in repeated if r in planner.ids
        }

    def check(steps: list[Step], summary: Summary) -> None:
        for step in steps:
            try:
                validator.check(step.commands)
            except DomainError as refusal:
                summary.reject(f"{step.where}: {refusal.field or 'row'}: {refusal.message}")
            else:
                _count(summary, step)
        validator.forget(kept)
        if validator.held() > MAX_HELD_FOR_CHECK:
            raise AcledError(
                f"more than {MAX_HELD_FOR_CHECK:,} events are revised within the file: "
                "split it to check it whole"
            )

    async def write(steps: list[Step], summary: Summary) -> None:
        await asyncio.to_thread(check, steps, summary)

    return write


async def import_acled(
    conn: Any,
    write: Write,
    planner: Planner,
    rows: Iterable[AcledRow],
    deletions: Iterable[tuple[int, str, str]] = (),
    *,
    chunk: int = CHUNK,
    progress: Callable[[int], None] = lambda _: None,
    stopped: Callable[[], bool] = lambda: False,
) -> Summary:
    """Import ``rows`` and then ``deletions`` (from ``read_acled`` and ``read_deletions``)
    chunk by chunk: map, look up what the log holds (``conn``, on projected read models),
    plan, and ``write`` (``recording`` or ``checking``). Only one chunk is in memory at a
    time; ``stopped`` is asked between chunks (a client that went away)."""
    summary = planner.summary
    now = datetime.now(UTC)
    for batch in _chunks(iter(rows), chunk):
        mapped = [(row, map_row(row, now)) for row in batch]
        planner.learn(await lookup(conn, planner.needs(m for _, m in mapped)))
        await write(planner.rows(mapped), summary)
        progress(len(batch))
        if stopped():
            return summary
    for items in _chunks(iter(deletions), chunk):
        ids = {record_id for _, record_id, _ in items} - planner.latest.keys()
        planner.learn(await lookup(conn, Needs(set(), set(), ids)))
        await write(planner.deletions(items), summary)
        if stopped():
            break
    return summary


T = TypeVar("T")


def _chunks(items: Iterator[T], size: int) -> Iterator[list[T]]:
    while batch := list(islice(items, size)):
        yield batch


Rows = tuple[Iterable[AcledRow], Iterable[tuple[int, str, str]]]
#: Opens the file (and its deletions) again for each pass: ``read_acled``, ``read_deletions``.
Opener = Callable[[], AbstractContextManager[Rows]]
#: A progress display for a pass: (its label, its length) -> what to call with each chunk.
Progress = Callable[[str, int], AbstractContextManager[Callable[[int], None]]]


@contextmanager
def _no_progress(_label: str, _length: int) -> Iterator[Callable[[int], None]]:
    yield lambda _: None


async def import_file(
    conn: Any,
    app: Frontline,
    opened: Opener,
    *,
    file: str,
    deletions_file: str = "deletions",
    strict: bool = False,
    dry_run: bool = False,
    chunk: int = CHUNK,
    progress: Progress = _no_progress,
    stopped: Callable[[], bool] = lambda: False,
) -> Summary:
    """The whole import of a file, as `frontline import-acled` and ``importAcled`` run it:
    read it to its end (``scan``: nothing is written from a file that breaks halfway); with
    ``strict`` or ``dry_run``, check every row as recording would (``checking``) and stop
    there for a dry run, a bad row under ``strict`` (nothing was recorded: the summary says
    which), or a check cut short; then record (``recording``)."""
    with opened() as (rows, deletions):
        scanned = scan(rows, deletions)

    async def run(write_for: Callable[[Planner], Write], label: str) -> Summary:
        planner = Planner(file=file, deletions_file=deletions_file)
        with opened() as (rows, deletions), progress(label, scanned.rows) as advance:
            return await import_acled(
                conn, write_for(planner), planner, rows, deletions,
                chunk=chunk, progress=advance, stopped=stopped,
            )  # fmt: skip

    if strict or dry_run:
        with opened() as (rows, deletions):
            repeated = repeated_ids(rows, deletions, scanned.repeated)
        checked = await run(lambda planner: checking(app, repeated, planner), "checking")
        checked.dry_run = dry_run
        if dry_run or checked.rejected or stopped():  # a check cut short proves nothing
            return checked
    return await run(lambda _: recording(app), "importing")
