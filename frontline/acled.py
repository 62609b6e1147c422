"""ACLED's export layout, and how each row maps onto Frontline (README, "ACLED in and out").

Pure: rows in, plain values out. ``read_acled`` reads a CSV in ACLED's layout (any column
order, extra columns ignored); ``map_row`` turns one row into what Frontline records — the
details of its kind, its place and actors as registrations to find or make, its sources,
time, fatalities and provenance — or says which column is wrong. The importer
(``frontline.acled_plan``) decides what is new, revised, unchanged or deleted.

The mapping, by (event_type, sub_event_type):

    Battles / Government regains territory        capture by actor1 (+ assoc. 1) from actor2
    Battles / Non-state actor overtakes territory  capture by actor1 (+ assoc. 1) from actor2
    Strategic developments / Non-violent transfer of territory
                                                   capture by actor1 (+ assoc. 1) from actor2
    Battles / Armed clash                          clash between every actor of the row
    Explosions/Remote violence / Air/drone strike  air strike by actor1 at actor2
    Explosions/Remote violence / (any other)       strike by actor1 at actor2 (means: the
                                                   sub-event type)
    Strategic developments / Headquarters or base established
                                                   assessment: held by actor1 (+ assoc. 1)
    anything else                                  other event ("event type / sub-event
                                                   type"), every actor a party

A non-violent transfer is a capture, not a withdrawal handed to actor1: ACLED codes the actor
taking the place as actor1 and the one giving it up (when known) as actor2, which is what a
capture from actor2 says, and it works when actor2 is blank. ``time_precision`` 1/2/3 is the
day / the week (Monday to Monday around event_date) / the calendar month, as a range.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, Final
from uuid import UUID

from domain.details import AirStrike, Assessment, Capture, Clash, Details, OtherEvent, Strike
from domain.errors import DomainError
from domain.identity import actor_id
from domain.values import TEXT_MAX, Coordinates, Provenance, Source, ValidTime
from domain.vocabulary import (
    ActorKind,
    AssessedStatus,
    IncidentKind,
    PlaceKind,
    SpeakerRole,
    TimePrecision,
)

DATASET: Final = "acled"
#: ACLED's export layout, in its order (what ``export --format acled-csv`` writes first).
COLUMNS: Final = (
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type",
    "sub_event_type", "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2",
    "inter2", "interaction", "civilian_targeting", "iso", "region", "country", "admin1",
    "admin2", "admin3", "location", "latitude", "longitude", "geo_precision", "source",
    "source_scale", "notes", "fatalities", "tags", "timestamp",
)  # fmt: skip
REQUIRED: Final = ("event_id_cnty", "event_date", "event_type", "actor1", "country",
                   "location", "latitude", "longitude", "timestamp")  # fmt: skip
#: Kept as the row gave them, so an export gives them back (the rest is in Frontline's fields).
KEPT: Final = tuple(c for c in COLUMNS if c not in ("latitude", "longitude", "fatalities"))

#: ACLED's actor types: the numeric codes of older exports, the labels of 2024 on.
INTER: Final = {
    "1": "State forces", "2": "Rebel group", "3": "Political militia", "4": "Identity militia",
    "5": "Rioters", "6": "Protesters", "7": "Civilians", "8": "External/Other forces",
}  # fmt: skip
ACTOR_KINDS: Final = {
    "State forces": ActorKind.STATE_FORCE,
    "Rebel group": ActorKind.ARMED_GROUP,
    "Political militia": ActorKind.ARMED_GROUP,
    "Identity militia": ActorKind.ARMED_GROUP,
    "External/Other forces": ActorKind.FOREIGN_MILITARY,
}
CAPTURES: Final = {
    ("Battles", "Government regains territory"),
    ("Battles", "Non-state actor overtakes territory"),
    ("Strategic developments", "Non-violent transfer of territory"),
}
REMOTE: Final = "Explosions/Remote violence"
MONTHS: Final = {
    name: n for n, name in enumerate(
        ("january", "february", "march", "april", "may", "june", "july", "august",
         "september", "october", "november", "december"), start=1)
}  # fmt: skip
AIRBASE: Final = re.compile(r"\b(air ?base|airport|airfield|air field)\b", re.IGNORECASE)
MILITARY: Final = re.compile(r"\b(military|base|barracks|checkpoint)\b", re.IGNORECASE)
MAX_SOURCES: Final = 20
BIGINT_MAX: Final = 2**63 - 1
FATALITIES_MAX: Final = 10_000_000
SLUG_MAX: Final = 100


class AcledError(ValueError):
    """The file cannot be read at all (not CSV, no header, a required column missing)."""


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    reason: str

    def report(self, file: str) -> str:
        return f"{file}:{self.line}: {self.column}: {self.reason}"


@dataclass(frozen=True)
class AcledRow:
    line: int
    fields: Mapping[str, str]

    def get(self, column: str) -> str:
        """The column's value, stripped (``read_acled`` strips them as it reads)."""
        return self.fields.get(column, "")


@dataclass(frozen=True)
class PlaceSpec:
    """A place as a row describes it; ``key`` is what makes two rows the same place."""

    key: tuple[str, str, str, str]  # country, admin1, admin2, location
    name: str
    coordinates: Coordinates
    kind: PlaceKind
    country: str
    admin1: str | None

    def slug_candidates(self) -> list[str]:
        """Slugs to try in order, until one is free or names this very place."""
        country, admin1, admin2, location = self.key
        found = []
        for parts in ((location,), (location, admin2), (location, admin2, admin1, country)):
            slug = slugify(" ".join(p for p in parts if p))
            if slug and slug not in found:
                found.append(slug)
        digest = hashlib.sha256("|".join(self.key).encode()).hexdigest()[:10]
        found.append(f"{(found[0] if found else 'place')[: SLUG_MAX - 11]}-{digest}")
        return found


@dataclass(frozen=True)
class ActorSpec:
    name: str
    kind: ActorKind

    @property
    def slug(self) -> str:
        return _actor_slug(self.name)

    @property
    def id(self) -> UUID:
        return actor_id(_actor_slug(self.name))


@dataclass(frozen=True)
class Mapped:
    """One row as Frontline records it (the place is resolved to a slug by the importer)."""

    record_id: str
    revision: int
    details: Details
    place: PlaceSpec
    actors: tuple[ActorSpec, ...]  # every actor of the row; the details name some
    valid_time: ValidTime
    sources: tuple[Source, ...]
    summary: str | None
    fatalities: int | None
    provenance: Provenance
    extra_actors: tuple[UUID, ...] = field(default=())


@lru_cache(maxsize=65_536)
def _actor_slug(name: str) -> str:
    slug = slugify(name)
    if not slug:
        slug = "actor-" + hashlib.sha256(name.encode()).hexdigest()[:10]
    return slug


@lru_cache(maxsize=65_536)
def slugify(text: str) -> str:
    """Lower-case ASCII letters and digits joined by single hyphens, at most 100 long."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:SLUG_MAX].rstrip("-")


# -- reading ------------------------------------------------------------------------------------


def read_acled(source: str | Iterable[str]) -> Iterator[AcledRow]:
    """The rows of a CSV in ACLED's layout (text, or a file opened with ``newline=""``),
    each with its line number (1 is the header); read as they are iterated."""
    reader = csv.reader(io.StringIO(source, newline="") if isinstance(source, str) else source)
    try:
        header = [h.strip().lstrip("\ufeff").strip().lower() for h in next(reader)]
    except StopIteration:
        raise AcledError("the file is empty") from None
    except csv.Error as error:
        raise AcledError(f"line 1: not CSV: {error}") from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise AcledError(f"line 1: the header lacks ACLED's {', '.join(missing)}")
    try:
        first = reader.line_num + 1  # a row's first line: its notes may hold line breaks
        for record in reader:
            if any(cell.strip() for cell in record):
                yield AcledRow(first, dict(zip(header, map(str.strip, record), strict=False)))
            first = reader.line_num + 1
    except csv.Error as error:
        raise AcledError(f"line {reader.line_num}: not CSV: {error}") from None


def read_deletions(source: str | Iterable[str]) -> Iterator[tuple[int, str, str]]:
    """(line, event_id_cnty, deleted_timestamp) of ACLED's list of deleted events."""
    reader = csv.reader(io.StringIO(source, newline="") if isinstance(source, str) else source)
    try:
        header = [h.strip().lstrip("\ufeff").strip().lower() for h in next(reader)]
    except StopIteration:
        return
    except csv.Error as error:
        raise AcledError(f"deletions: line 1: not CSV: {error}") from None
    if "event_id_cnty" not in header:
        raise AcledError("line 1: a deletions file needs an event_id_cnty column")
    at = header.index("event_id_cnty")
    when = header.index("deleted_timestamp") if "deleted_timestamp" in header else None
    try:
        for record in reader:
            if len(record) > at and record[at].strip():
                deleted = (
                    record[when].strip()[:40] if when is not None and len(record) > when else ""
                )
                yield reader.line_num, record[at].strip()[:200], deleted
    except csv.Error as error:
        raise AcledError(f"deletions: line {reader.line_num}: not CSV: {error}") from None


# -- one row ------------------------------------------------------------------------------------


class _Bad(ValueError):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column


def map_row(row: AcledRow, now: datetime | None = None) -> Mapped | RowError:
    """What ``row`` records, or the first column that is wrong with it. ``now`` (default:
    the clock) ends a week or a month still under way."""
    try:
        return _map(row, now or datetime.now(UTC))
    except _Bad as bad:
        return RowError(row.line, bad.column, str(bad))
    except DomainError as error:
        return RowError(row.line, _column_of(error.field), error.message)


def _column_of(field_name: str | None) -> str:
    return {
        "latitude": "latitude", "longitude": "longitude", "coordinates": "latitude",
        "source.outlet": "source", "quote": "notes", "source.quote": "notes",
        "category": "event_type",
    }.get(field_name or "", field_name or "row")  # fmt: skip


def _map(row: AcledRow, now: datetime) -> Mapped:
    for column in REQUIRED:
        if not row.get(column):
            raise _Bad(column, "is empty")
    record_id = row.get("event_id_cnty")
    revision = _int(row, "timestamp", low=0, high=BIGINT_MAX)
    valid_time = _valid_time(row, now)
    place = _place(row)
    first = _actors(row, "actor1", "assoc_actor_1", "inter1")
    second = tuple(a for a in _actors(row, "actor2", "assoc_actor_2", "inter2")
                   if a.id not in {b.id for b in first})  # fmt: skip
    details = _details(row, first, second)
    named = set(details.actor_ids())
    everyone = (*first, *second)
    fatalities = (
        _int(row, "fatalities", low=0, high=FATALITIES_MAX) if row.get("fatalities") else None
    )
    notes = row.get("notes")[:TEXT_MAX] or None
    return Mapped(
        record_id=record_id,
        revision=revision,
        details=details,
        place=place,
        actors=everyone,
        valid_time=valid_time,
        sources=_sources(row, notes),
        summary=notes,
        fatalities=fatalities,
        provenance=Provenance(
            DATASET,
            record_id,
            str(revision),
            tuple((c, v[:TEXT_MAX]) for c in KEPT if (v := row.fields.get(c))),
        ),
        extra_actors=tuple(a.id for a in everyone if a.id not in named),
    )


def _int(row: AcledRow, column: str, *, low: int, high: int) -> int:
    """A whole number (``12`` or ``12.0``, as spreadsheets write it) in [low, high]: a
    timestamp must fit PostgreSQL's bigint, where the importer looks revisions up."""
    text = row.get(column)
    match = re.fullmatch(r"(-?\d{1,19})(\.0+)?", text)
    if match is None:
        raise _Bad(column, f"{text[:40]!r} is not a whole number")
    value = int(match.group(1))
    if not low <= value <= high:
        raise _Bad(column, f"{value} is not between {low} and {high:,}")
    return value


def parse_date(text: str) -> date:
    """``2024-12-05`` or ``05 December 2024`` (ACLED's two date layouts)."""
    text = text.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    match = re.fullmatch(r"(\d{1,2})[ -]([A-Za-z]+)[ -](\d{4})", text)
    if match and match.group(2).lower() in MONTHS:
        return date(int(match.group(3)), MONTHS[match.group(2).lower()], int(match.group(1)))
    raise ValueError(text)


def _valid_time(row: AcledRow, now: datetime) -> ValidTime:
    found = _valid_time_of(row.get("event_date"), row.get("time_precision") or "1", now)
    if isinstance(found, tuple):
        raise _Bad(*found)
    return found


@lru_cache(maxsize=4096)
def _valid_time_of(event_date: str, precision: str, now: datetime) -> ValidTime | tuple[str, str]:
    """A row's time, or (column, reason) if it has none: cached, since a file's rows share a
    few thousand dates (and ``now`` is the import's, one instant)."""
    try:
        return _time_of(event_date, precision, now)
    except _Bad as bad:
        return bad.column, str(bad)


def _time_of(event_date: str, precision: str, now: datetime) -> ValidTime:
    try:
        day = parse_date(event_date)
    except ValueError:
        raise _Bad("event_date", f"{event_date!r} is not a date") from None
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    if precision == "1":
        return ValidTime(start, TimePrecision.DAY)
    if precision not in ("2", "3"):
        raise _Bad("time_precision", f"{precision!r} is not 1, 2 or 3")
    try:
        if precision == "2":
            first = start - timedelta(days=day.weekday())
            following = first + timedelta(days=7)
        else:
            first = start.replace(day=1)
            following = (first + timedelta(days=32)).replace(day=1)
    except OverflowError:
        raise _Bad("event_date", f"{event_date!r} is past the last date") from None
    # A week or month still under way: it happened between its start and now (an export of
    # this week's events must not be refused as reports from the future).
    if first <= now < following:
        following = max(now.replace(microsecond=0), first + timedelta(seconds=1))
    return ValidTime(first, TimePrecision.RANGE, following)


def _place(row: AcledRow) -> PlaceSpec:
    try:
        latitude, longitude = float(row.get("latitude")), float(row.get("longitude"))
    except ValueError:
        raise _Bad("latitude", "latitude and longitude must be numbers") from None
    location = row.get("location")
    return PlaceSpec(
        key=(row.get("country"), row.get("admin1"), row.get("admin2"), location),
        name=location,
        coordinates=Coordinates(latitude, longitude),
        kind=place_kind(location, row.get("geo_precision")),
        country=row.get("country"),
        admin1=row.get("admin1") or None,
    )


def place_kind(name: str, geo_precision: str) -> PlaceKind:
    """Airports and air bases by their names, military sites likewise; a region when ACLED
    could only place the event in one (geo_precision 3); a town otherwise."""
    if AIRBASE.search(name):
        return PlaceKind.AIRBASE
    if MILITARY.search(name):
        return PlaceKind.MILITARY_SITE
    return PlaceKind.REGION if geo_precision.strip() == "3" else PlaceKind.TOWN


def actor_kind(inter: str) -> ActorKind:
    """ACLED's actor type (a code or a label) as an actor kind."""
    label = INTER.get(inter.strip(), inter.strip())
    return ACTOR_KINDS.get(label, ActorKind.OTHER)


def _actors(row: AcledRow, main: str, associated: str, inter: str) -> tuple[ActorSpec, ...]:
    """The main actor and the associated ones (';'-separated), all of the main one's type."""
    kind = actor_kind(row.get(inter))
    names = [row.get(main), *row.get(associated).split(";")]
    found: dict[UUID, ActorSpec] = {}
    for name in (n.strip() for n in names):
        if not name:
            continue
        if len(name) > 200:
            raise _Bad(main, "an actor's name is longer than 200 characters")
        actor = ActorSpec(name, kind)
        found.setdefault(actor.id, actor)  # "Foo (Syria)" and "Foo [Syria]" are one actor
    return tuple(found.values())


def _details(row: AcledRow, first: tuple[ActorSpec, ...], second: tuple[ActorSpec, ...]) -> Details:
    event_type, sub_event = row.get("event_type"), row.get("sub_event_type")
    by = tuple(a.id for a in first)
    other = second[0].id if second else None
    kind = kind_of(event_type, sub_event)
    if kind is IncidentKind.CAPTURE:
        return Capture(by=by, taken_from=None if other in by else other)
    if kind is IncidentKind.CLASH and len({*by, other} - {None}) >= 2:
        return Clash(parties=tuple(dict.fromkeys((*by, *(a.id for a in second)))))
    if kind is IncidentKind.AIR_STRIKE:
        return AirStrike(by=by[0], target_actor=other)
    if kind is IncidentKind.STRIKE:
        return Strike(by=by[0], means=sub_event or None, target_actor=other)
    if kind is IncidentKind.ASSESSMENT:
        return Assessment(AssessedStatus.HELD, by)
    category = " / ".join(p for p in (event_type, sub_event) if p)
    return OtherEvent(category[:200], parties=tuple(dict.fromkeys((*by, *(a.id for a in second)))))


def kind_of(event_type: str, sub_event: str) -> IncidentKind:
    """The kind an ACLED type becomes (an armed clash of fewer than two actors is an other
    event: ``_details``)."""
    if (event_type, sub_event) in CAPTURES:
        return IncidentKind.CAPTURE
    if (event_type, sub_event) == ("Battles", "Armed clash"):
        return IncidentKind.CLASH
    if event_type == REMOTE:
        return IncidentKind.AIR_STRIKE if sub_event == "Air/drone strike" else IncidentKind.STRIKE
    if (event_type, sub_event) == ("Strategic developments", "Headquarters or base established"):
        return IncidentKind.ASSESSMENT
    return IncidentKind.OTHER


def _sources(row: AcledRow, notes: str | None) -> tuple[Source, ...]:
    names = [s.strip() for s in re.split(r"[;]", row.get("source")) if s.strip()]
    if not names:
        names = ["ACLED"]
    if len(names) > MAX_SOURCES:
        raise _Bad("source", f"names {len(names)} sources; Frontline keeps at most {MAX_SOURCES}")
    return tuple(
        Source(outlet=name[:200], role=SpeakerRole.INDEPENDENT, quote=notes if n == 0 else None)
        for n, name in enumerate(dict.fromkeys(names))
    )


def attributes(provenance: Mapping[str, Any] | None) -> dict[str, str]:
    """An incident's ACLED columns as its provenance kept them."""
    if not provenance or provenance.get("dataset") != DATASET:
        return {}
    return dict(provenance.get("attributes", []))
