"""The bundled sample: the Dec 2024 Hama reports, as Frontline records them.

``hama-dec-2024.json`` is plain data: places, actors and sources named by slug, and incidents
that refer to them. ``parse_sample`` turns it into domain commands (validating every record and
naming the one at fault); ``load_sample`` executes them in one atomic batch. Every incident has
an idempotency key and places and actors re-register as no-ops, so loading twice appends
nothing the second time.

File format (keys beyond these are errors; ``notes`` is allowed, and ignored, everywhere)::

    {"format": "frontline-sample/1", "title": ..., "notes": [...],
     "places":    [{slug, name, kind, coordinates: {latitude, longitude}, country,
                    governorate?, aliases?, parent? (a place slug)}],
     "actors":    [{slug, name, kind, side?, aliases?, coalitions? (actor slugs)}],
     "sources":   {name: {outlet, channel?, role?, url?, published_at?, speaker?,
                          speaker_actor? (an actor slug)}},
     "incidents": [{key, kind, valid_time: {start, precision?, end?}, places, details,
                    sources: [{source: name, quote?}], actors?, summary?}]}

``details`` holds the fields of the ``domain.details`` class for ``kind``; its place and actor
fields take slugs, its datetime fields ISO 8601 strings with a UTC offset.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime
from importlib import resources
from pathlib import Path
from types import UnionType
from typing import Any, get_args, get_type_hints
from uuid import UUID

from domain.application import Frontline
from domain.commands import Command, RecordIncident, RegisterActor, RegisterPlace
from domain.details import DETAIL_TYPES, Details
from domain.errors import DomainError
from domain.identity import actor_id, check_slug, place_id
from domain.values import Coordinates, Source, ValidTime
from domain.vocabulary import ActorKind, PlaceKind

__all__ = ["SAMPLE_FILE", "SampleError", "load_sample", "parse_sample", "read_sample"]

SAMPLE_FILE = "hama-dec-2024.json"
FORMAT = "frontline-sample/1"

DETAILS_BY_KIND: dict[str, type[Details]] = {str(cls.kind): cls for cls in DETAIL_TYPES}

TOP_KEYS = {"format", "title", "notes", "places", "actors", "sources", "incidents"}
PLACE_KEYS = {"slug", "name", "kind", "coordinates", "country", "governorate", "aliases", "parent"}
ACTOR_KEYS = {"slug", "name", "kind", "side", "aliases", "coalitions"}
SOURCE_KEYS = {"outlet", "channel", "role", "url", "published_at", "speaker", "speaker_actor"}
CITATION_KEYS = {"source", "quote"}
INCIDENT_KEYS = {"key", "kind", "summary", "valid_time", "places", "actors", "details", "sources"}
VALID_TIME_KEYS = {"start", "precision", "end"}
COORDINATE_KEYS = {"latitude", "longitude"}


class SampleError(ValueError):
    """The sample file is malformed; the message names the record at fault."""


# -- reading --------------------------------------------------------------------------------


def read_sample(path: Path | None = None) -> dict[str, Any]:
    """The sample's JSON: the bundled file, or the one at ``path``."""
    if path is None:
        text = resources.files(__package__).joinpath(SAMPLE_FILE).read_text(encoding="utf-8")
        where = f"bundled {SAMPLE_FILE}"
    else:
        text = path.read_text(encoding="utf-8")
        where = str(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise SampleError(f"{where} is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise SampleError(f"{where} must hold a JSON object")
    return data


def load_sample(app: Frontline, path: Path | None = None) -> int:
    """Record the sample in one atomic batch; return how many commands appended something.

    Zero when everything was already there (each receipt that is not a replay appended at
    least one event).
    """
    receipts = app.execute_batch(parse_sample(read_sample(path)))
    return sum(1 for receipt in receipts if not receipt.replayed)


# -- parsing --------------------------------------------------------------------------------


def parse_sample(data: Mapping[str, Any]) -> list[Command]:
    """Every record as a domain command: places (parents first), actors (coalitions first),
    then incidents in file order."""
    _check_keys(data, TOP_KEYS, "sample")
    if data.get("format") != FORMAT:
        raise SampleError(f"sample: format must be {FORMAT!r}, not {data.get('format')!r}")
    places = _records(data, "places")
    actors = _records(data, "actors")
    place_slugs = _slugs(places, "places")
    actor_slugs = _slugs(actors, "actors")
    refs = _Refs(place_slugs, actor_slugs)

    commands: list[Command] = []
    for index, record in _dependency_order(places, "places", "parent"):
        with _record(f"places[{index}] {record.get('slug')!r}"):
            commands.append(_place(record, refs))
    for index, record in _dependency_order(actors, "actors", "coalitions"):
        with _record(f"actors[{index}] {record.get('slug')!r}"):
            commands.append(_actor(record, refs))

    sources_data = data.get("sources", {})
    if not isinstance(sources_data, dict):
        raise SampleError("sample: 'sources' must be an object of named sources")
    sources: dict[str, dict[str, Any]] = {}
    for name, record in sources_data.items():
        with _record(f"sources[{name!r}]"):
            sources[name] = _source_fields(_object(record), refs)

    keys: set[str] = set()
    for index, record in enumerate(_records(data, "incidents")):
        with _record(f"incidents[{index}] {record.get('key')!r}"):
            command = _incident(record, refs, sources)
            if command.key in keys:
                raise SampleError(f"idempotency key {command.key!r} is used twice")
            keys.add(command.key or "")
            commands.append(command)
    return commands


class _Refs:
    """Slug → id for the places and actors the file declares."""

    def __init__(self, places: set[str], actors: set[str]) -> None:
        self.places = places
        self.actors = actors

    def place(self, slug: Any) -> UUID:
        if slug not in self.places:
            raise SampleError(f"unknown place {slug!r} (declare it under 'places')")
        return place_id(slug)

    def actor(self, slug: Any) -> UUID:
        if slug not in self.actors:
            raise SampleError(f"unknown actor {slug!r} (declare it under 'actors')")
        return actor_id(slug)

    def places_of(self, slugs: Any) -> tuple[UUID, ...]:
        return tuple(self.place(s) for s in _list(slugs))

    def actors_of(self, slugs: Any) -> tuple[UUID, ...]:
        return tuple(self.actor(s) for s in _list(slugs))


def _place(record: Mapping[str, Any], refs: _Refs) -> RegisterPlace:
    _check_keys(record, PLACE_KEYS, "place")
    coordinates = _object(record["coordinates"])
    _check_keys(coordinates, COORDINATE_KEYS, "coordinates")
    parent = record.get("parent")
    return RegisterPlace(
        slug=check_slug(record["slug"]),
        name=record["name"],
        kind=PlaceKind(record["kind"]),
        coordinates=Coordinates(coordinates["latitude"], coordinates["longitude"]),
        country=record["country"],
        governorate=record.get("governorate"),
        aliases=tuple(_list(record.get("aliases"))),
        parent=None if parent is None else refs.place(parent),
    )


def _actor(record: Mapping[str, Any], refs: _Refs) -> RegisterActor:
    _check_keys(record, ACTOR_KEYS, "actor")
    return RegisterActor(
        slug=check_slug(record["slug"]),
        name=record["name"],
        kind=ActorKind(record["kind"]),
        side=record.get("side"),
        aliases=tuple(_list(record.get("aliases"))),
        coalitions=refs.actors_of(record.get("coalitions")),
    )


def _source_fields(record: Mapping[str, Any], refs: _Refs) -> dict[str, Any]:
    """A named source's constructor arguments (the quote comes with each citation)."""
    _check_keys(record, SOURCE_KEYS, "source")
    found = {k: v for k, v in record.items() if k in SOURCE_KEYS}
    if "published_at" in found:
        found["published_at"] = _datetime(found["published_at"], "published_at")
    if "speaker_actor" in found:
        found["speaker_actor_id"] = refs.actor(found.pop("speaker_actor"))
    Source(**found)  # validate once, here, so the error names the source
    return found


def _incident(
    record: Mapping[str, Any], refs: _Refs, sources: Mapping[str, dict[str, Any]]
) -> RecordIncident:
    _check_keys(record, INCIDENT_KEYS, "incident")
    key = record.get("key")
    if not isinstance(key, str) or not key:
        raise SampleError("every incident needs an idempotency 'key'")
    kind = record.get("kind")
    details_type = DETAILS_BY_KIND.get(kind) if isinstance(kind, str) else None
    if details_type is None:
        raise SampleError(f"unknown kind {kind!r}; one of {sorted(DETAILS_BY_KIND)}")
    citations = _list(record.get("sources"))
    if not citations:
        raise SampleError("cite at least one source")
    return RecordIncident(
        details=_details(details_type, _object(record.get("details", {})), refs),
        valid_time=_valid_time(_object(record["valid_time"])),
        places=refs.places_of(record.get("places")),
        sources=tuple(_citation(_object(c), sources) for c in citations),
        actors=refs.actors_of(record.get("actors")),
        summary=record.get("summary"),
        key=key,
    )


def _details(cls: type[Details], record: Mapping[str, Any], refs: _Refs) -> Details:
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    _check_keys(record, names, f"{cls.kind} details", notes=False)
    hints = get_type_hints(cls)
    values: dict[str, Any] = {}
    for name, value in record.items():
        hint = hints[name]
        is_list = hint is tuple or getattr(hint, "__origin__", None) is tuple
        if name in cls.place_fields or name in cls.actor_fields:
            resolve = refs.place if name in cls.place_fields else refs.actor
            if is_list:
                values[name] = tuple(resolve(s) for s in _list(value, name))
            else:
                values[name] = None if value is None else resolve(value)
        elif datetime in (hint, *_union_args(hint)) and value is not None:
            values[name] = _datetime(value, name)
        else:
            values[name] = value
    return cls(**values)


def _valid_time(record: Mapping[str, Any]) -> ValidTime:
    _check_keys(record, VALID_TIME_KEYS, "valid_time", notes=False)
    end = record.get("end")
    return ValidTime(
        start=_datetime(record["start"], "valid_time.start"),
        precision=record.get("precision", "exact"),
        end=None if end is None else _datetime(end, "valid_time.end"),
    )


def _citation(record: Mapping[str, Any], sources: Mapping[str, dict[str, Any]]) -> Source:
    _check_keys(record, CITATION_KEYS, "citation", notes=False)
    name = record.get("source")
    if not isinstance(name, str) or name not in sources:
        raise SampleError(f"unknown source {name!r} (declare it under 'sources')")
    return Source(**sources[name], quote=record.get("quote"))


# -- helpers --------------------------------------------------------------------------------


@contextmanager
def _record(label: str) -> Iterator[None]:
    """Re-raise any problem inside one record as a ``SampleError`` naming that record."""
    try:
        yield
    except SampleError as error:
        raise SampleError(f"{label}: {error}") from error
    except KeyError as error:
        raise SampleError(f"{label}: missing key {error}") from error
    except DomainError as error:
        raise SampleError(f"{label}: {error.message}") from error
    except (TypeError, ValueError) as error:
        raise SampleError(f"{label}: {error}") from error


def _check_keys(
    record: Mapping[str, Any], allowed: set[str], what: str, notes: bool = True
) -> None:
    unknown = set(record) - allowed - ({"notes"} if notes else set())
    if unknown:
        raise SampleError(f"unknown key(s) {sorted(unknown)} in {what}; allowed: {sorted(allowed)}")


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SampleError(f"expected an object, got {value!r}")
    return value


def _list(value: Any, what: str = "value") -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise SampleError(f"{what} must be a list, got {value!r}")
    return value


def _records(data: Mapping[str, Any], section: str) -> list[dict[str, Any]]:
    records = data.get(section, [])
    if not isinstance(records, list):
        raise SampleError(f"sample: {section!r} must be a list")
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise SampleError(f"{section}[{index}] must be an object")
    return records


def _slugs(records: Sequence[Mapping[str, Any]], section: str) -> set[str]:
    slugs: set[str] = set()
    for index, record in enumerate(records):
        slug = record.get("slug")
        if not isinstance(slug, str):
            raise SampleError(f"{section}[{index}] needs a 'slug'")
        if slug in slugs:
            raise SampleError(f"{section}[{index}] {slug!r}: slug declared twice")
        slugs.add(slug)
    return slugs


def _dependency_order(
    records: list[dict[str, Any]], section: str, field: str
) -> list[tuple[int, dict[str, Any]]]:
    """Records with those they depend on (by slug, through ``field``) first; file order
    otherwise. Unknown dependencies are left for the parser to report."""
    by_slug = {r["slug"]: (i, r) for i, r in enumerate(records)}
    done: dict[str, tuple[int, dict[str, Any]]] = {}
    visiting: set[str] = set()

    def visit(slug: str) -> None:
        if slug in done or slug not in by_slug:
            return
        if slug in visiting:
            index = by_slug[slug][0]
            raise SampleError(f"{section}[{index}] {slug!r}: {field} form a cycle")
        visiting.add(slug)
        deps = by_slug[slug][1].get(field)
        for dep in deps if isinstance(deps, list) else [deps]:
            if isinstance(dep, str):
                visit(dep)
        visiting.discard(slug)
        done[slug] = by_slug[slug]

    for record in records:
        visit(record["slug"])
    return list(done.values())


def _datetime(value: Any, what: str) -> datetime:
    if not isinstance(value, str):
        raise SampleError(f"{what} must be an ISO 8601 string, got {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise SampleError(f"{what} {value!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise SampleError(f"{what} {value!r} needs a UTC offset (e.g. +03:00)")
    return moment


def _union_args(hint: Any) -> tuple[Any, ...]:
    return get_args(hint) if isinstance(hint, UnionType) else ()
