"""A baseline of who held what, from a file: `frontline import-control FILE`.

A CSV with a header row, or a GeoJSON FeatureCollection of points (the shape
``controlMapGeoJson`` emits, so a map exported from one Frontline seeds another). Each row or
feature is one place and its state; the columns (CSV) or properties (GeoJSON) are:

    place        the place's slug (GeoJSON: ``slug``)
    name, latitude, longitude, kind, country, admin_area (or ``governorate``)
                 the place, registered when the log does not hold it yet (GeoJSON: the
                 point's coordinates; ``kind`` defaults to village, ``country`` to --country)
    holders      actor slugs, separated by ``;`` (GeoJSON: ``controllers``, a list)
    status       held | contested | unknown (contested with no holders: abandoned)
    as_of        when the state held: a date (day precision, in --offset) or an ISO 8601
                 time with its UTC offset (default: --as-of)
    source       who says so (an outlet's name; default: --source)
    tier         assessed | claimed | confirmed (default: --tier)

Every row becomes an assessment (``domain.details.Assessment``), and every unknown place a
registration; ``baseline_commands`` checks every row first and reports all the bad ones by
line, so that a file is recorded whole, in one atomic batch, or not at all. Each assessment's
idempotency key is the file's digest and the place, so importing the same file again records
nothing new.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, Final
from uuid import UUID

from domain.commands import Command, RecordIncident, RegisterPlace
from domain.details import Assessment
from domain.errors import DomainError
from domain.identity import actor_id, check_slug, place_id
from domain.values import Coordinates, Source, ValidTime
from domain.vocabulary import AssessedStatus, AssessmentTier, PlaceKind, TimePrecision

#: A baseline is recorded in one transaction; beyond these it is several files.
MAX_BYTES: Final = 64 * 1024 * 1024
MAX_ROWS: Final = 50_000
#: Bad rows listed before "and N more".
MAX_REPORTED: Final = 50
RECORDED_BY: Final = "frontline import-control"

ALIASES: Final = {"slug": "place", "governorate": "admin_area", "controllers": "holders"}


class BaselineError(ValueError):
    """The file cannot be recorded; ``problems`` names each bad row (``line N: ...``)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = problems[:MAX_REPORTED]
        more = len(problems) - len(shown)
        tail = [f"... and {more} more"] if more else []
        super().__init__("\n".join([*shown, *tail]))


@dataclass(frozen=True)
class Defaults:
    """What a row leaves out: its time, its source, its tier, its place's country."""

    as_of: str | None = None
    source: str | None = None
    tier: AssessmentTier = AssessmentTier.ASSESSED
    country: str | None = None
    offset: timezone = UTC


@dataclass(frozen=True)
class Row:
    where: str  # "line 3" or "feature 2"
    fields: Mapping[str, Any]


def read_rows(data: bytes) -> list[Row]:
    """The rows of a baseline file: GeoJSON when it starts with ``{``, CSV otherwise."""
    if len(data) > MAX_BYTES:
        raise BaselineError([f"the file is over {MAX_BYTES // 2**20} MiB: split it"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BaselineError([f"the file is not UTF-8 text ({error.reason})"]) from None
    rows = _geojson_rows(text) if text.lstrip().startswith("{") else _csv_rows(text)
    if not rows:
        raise BaselineError(["the file holds no rows"])
    if len(rows) > MAX_ROWS:
        raise BaselineError([f"the file holds {len(rows)} rows; at most {MAX_ROWS} at once"])
    return rows


def _key(name: str) -> str:
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    return ALIASES.get(key, key)


def _csv_rows(text: str) -> list[Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [_key(h) for h in next(reader)]
        found: list[Row] = []
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if len(found) >= MAX_ROWS:
                raise BaselineError([f"the file holds more than {MAX_ROWS} rows"])
            where = f"line {reader.line_num}"
            if len(record) != len(header):
                found.append(Row(where, {"_error": f"{len(record)} cells, not {len(header)}"}))
                continue
            found.append(Row(where, dict(zip(header, (c.strip() for c in record), strict=True))))
    except StopIteration:
        return []
    except csv.Error as error:
        raise BaselineError([f"line {reader.line_num}: not CSV: {error}"]) from None
    missing = {"place", "status"} - set(header)
    if missing:
        raise BaselineError([f"line 1: the header has no {', '.join(sorted(missing))} column"])
    return found


def _geojson_rows(text: str) -> list[Row]:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise BaselineError([f"not JSON: {error}"]) from None
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise BaselineError(["a GeoJSON baseline is a FeatureCollection"])
    if not isinstance(features, list):
        raise BaselineError(["the FeatureCollection has no list of features"])
    if len(features) > MAX_ROWS:
        raise BaselineError([f"the file holds {len(features)} features; at most {MAX_ROWS}"])
    return [_feature_row(n, feature) for n, feature in enumerate(features, start=1)]


def _feature_row(n: int, feature: Any) -> Row:
    where = f"feature {n}"
    properties = feature.get("properties") if isinstance(feature, dict) else None
    geometry = feature.get("geometry") if isinstance(feature, dict) else None
    if not isinstance(properties, dict):
        return Row(where, {"_error": "a feature needs its properties"})
    fields = {_key(k): v for k, v in properties.items()}
    if isinstance(geometry, dict) and geometry.get("type") == "Point":
        coordinates = geometry.get("coordinates")
        if isinstance(coordinates, list) and len(coordinates) >= 2:
            fields.setdefault("longitude", coordinates[0])
            fields.setdefault("latitude", coordinates[1])
    elif geometry is not None:
        return Row(where, {"_error": "a feature's geometry must be a Point"})
    return Row(where, fields)


# -- rows into commands -------------------------------------------------------------------------


def referenced(rows: Iterable[Row]) -> tuple[set[UUID], set[UUID]]:
    """The ids of the places and of the holders the rows name (where they are slugs at all;
    ``baseline_commands`` reports the others), to look up in the log at once."""
    places: set[UUID] = set()
    actors: set[UUID] = set()
    for row in rows:
        try:
            places.add(place_id(_slug(row)))
            actors.update(actor_id(h) for h in _holders(row))
        except (_Bad, DomainError):
            continue
    return places, actors


def baseline_commands(
    rows: Iterable[Row],
    digest: str,
    defaults: Defaults,
    exists: Callable[[UUID], bool],
) -> tuple[list[Command], int]:
    """The commands that record ``rows`` (registrations first, then assessments) and how
    many places they register. ``exists`` says whether the log holds a place or an actor.
    Raises BaselineError naming every bad row."""
    registrations: list[Command] = []
    assessments: list[Command] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for row in rows:
        try:
            slug = _slug(row)
            if slug in seen:
                raise _Bad(f"place {slug!r} is already on {seen[slug]}")
            seen[slug] = row.where
            if not exists(place_id(slug)):
                registrations.append(_registration(row, slug, defaults))
            assessments.append(_assessment(row, slug, digest, defaults, exists))
        except (_Bad, DomainError) as error:
            problems.append(f"{row.where}: {_message(error)}")
    if problems:
        raise BaselineError(problems)
    return [*registrations, *assessments], len(registrations)


class _Bad(ValueError):
    pass


def _message(error: Exception) -> str:
    return error.message if isinstance(error, DomainError) else str(error)


def _text(row: Row, name: str, default: str | None = None) -> str | None:
    value = row.fields.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if not isinstance(value, str | int | float):
        raise _Bad(f"{name} must be text")
    return str(value).strip()


def _slug(row: Row) -> str:
    if "_error" in row.fields:
        raise _Bad(str(row.fields["_error"]))
    slug = _text(row, "place")
    if slug is None:
        raise _Bad("no place")
    check_slug(slug)
    return slug


def _registration(row: Row, slug: str, defaults: Defaults) -> RegisterPlace:
    name = _text(row, "name")
    latitude, longitude = _number(row, "latitude"), _number(row, "longitude")
    country = _text(row, "country", defaults.country)
    if name is None or latitude is None or longitude is None or country is None:
        raise _Bad(
            f"place {slug!r} is not registered: give its name, latitude, longitude and "
            "country to register it"
        )
    kind = _text(row, "kind", PlaceKind.VILLAGE.value) or PlaceKind.VILLAGE.value
    try:
        place_kind = PlaceKind(kind.lower())
    except ValueError:
        raise _Bad(f"unknown place kind {kind!r}") from None
    return RegisterPlace(
        slug=slug,
        name=name,
        kind=place_kind,
        coordinates=Coordinates(latitude, longitude),
        country=country,
        governorate=_text(row, "admin_area"),
    )


def _number(row: Row, name: str) -> float | None:
    value = row.fields.get(name)
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _Bad(f"{name} {value!r} is not a number") from None


def _assessment(
    row: Row, slug: str, digest: str, defaults: Defaults, exists: Callable[[UUID], bool]
) -> RecordIncident:
    status_text = (_text(row, "status") or "").lower()
    try:
        status = AssessedStatus(status_text)
    except ValueError:
        raise _Bad(f"status {status_text!r} is not held, contested or unknown") from None
    holders = _holders(row)
    for holder in holders:
        if not exists(actor_id(holder)):
            raise _Bad(f"holder {holder!r} is not a registered actor: register it first")
    tier_text = (_text(row, "tier", defaults.tier.value) or "").lower()
    try:
        tier = AssessmentTier(tier_text)
    except ValueError:
        raise _Bad(f"tier {tier_text!r} is not assessed, claimed or confirmed") from None
    outlet = _text(row, "source", defaults.source)
    if outlet is None:
        raise _Bad("no source: give a source column or --source")
    return RecordIncident(
        details=Assessment(status, tuple(actor_id(h) for h in holders), tier),
        valid_time=_as_of(_text(row, "as_of", defaults.as_of), defaults.offset),
        places=(place_id(slug),),
        sources=(Source(outlet=outlet, url=_text(row, "url")),),
        key=f"baseline/{digest}/{slug}",
        recorded_by=RECORDED_BY,
    )


def _holders(row: Row) -> list[str]:
    value = row.fields.get("holders")
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else str(value).split(";")
    if not all(isinstance(item, str) for item in items):
        raise _Bad("holders are actor slugs")
    holders = [item.strip() for item in items if item.strip()]
    for holder in holders:
        check_slug(holder)
    return holders


def _as_of(text: str | None, offset: timezone) -> ValidTime:
    if text is None:
        raise _Bad("no as_of: give an as_of column or --as-of")
    try:
        if len(text) == len("2024-11-26"):
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=offset)
            return ValidTime(start, TimePrecision.DAY)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _Bad(f"as_of {text!r} is not an ISO 8601 date or time") from None
    if moment.tzinfo is None:
        raise _Bad(f"as_of {text!r} has no UTC offset")
    return ValidTime(moment, TimePrecision.EXACT)


def parse_offset(text: str) -> timezone:
    """``+03:00`` (or ``Z``) as a timezone."""
    if text in ("Z", "z"):
        return UTC
    try:
        parsed = datetime.fromisoformat(f"2000-01-01T00:00:00{text}").utcoffset()
    except ValueError:
        parsed = None
    if parsed is None or abs(parsed) > timedelta(hours=14):
        raise ValueError(f"{text!r} is not a UTC offset like +03:00")
    return timezone(parsed)


def file_digest(data: bytes) -> str:
    """What names a file's assessments in their idempotency keys."""
    return hashlib.sha256(data).hexdigest()[:24]
