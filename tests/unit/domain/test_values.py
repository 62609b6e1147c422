"""Value objects on their own: coordinates, valid times, sources, slugs, text limits."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.codec import make_transcoder
from domain.commands import Corroborate, fingerprint
from domain.errors import (
    DomainError,
    InvalidCoordinates,
    InvalidInput,
    InvalidTime,
    MissingSource,
)
from domain.identity import SLUG_PATTERN, check_slug, incident_id, place_id
from domain.values import Coordinates, Source, ValidTime
from domain.vocabulary import Channel, SpeakerRole, TimePrecision

# -- coordinates ----------------------------------------------------------------------------

latitudes = st.floats(min_value=-90, max_value=90)
longitudes = st.floats(min_value=-180, max_value=180)


@given(latitude=latitudes, longitude=longitudes)
def test_coordinates_accept_every_point_on_the_globe(latitude: float, longitude: float) -> None:
    point = Coordinates(latitude, longitude)

    assert (point.latitude, point.longitude) == (latitude, longitude)


@given(
    latitude=st.integers(min_value=-90, max_value=90),
    longitude=st.integers(min_value=-180, max_value=180),
)
def test_coordinates_accept_whole_degrees_and_store_floats(latitude: int, longitude: int) -> None:
    point = Coordinates(latitude, longitude)

    assert type(point.latitude) is float
    assert type(point.longitude) is float


def _outside(bound: float) -> st.SearchStrategy[float]:
    return st.floats(allow_nan=True).filter(lambda v: math.isnan(v) or abs(v) > bound)


@given(latitude=_outside(90), longitude=longitudes)
def test_coordinates_refuse_any_latitude_off_the_globe(latitude: float, longitude: float) -> None:
    with pytest.raises(InvalidCoordinates) as info:
        Coordinates(latitude, longitude)

    assert info.value.code == "INVALID_COORDINATES"
    assert info.value.field == "latitude"


@given(latitude=latitudes, longitude=_outside(180))
def test_coordinates_refuse_any_longitude_off_the_globe(latitude: float, longitude: float) -> None:
    with pytest.raises(InvalidCoordinates) as info:
        Coordinates(latitude, longitude)

    assert info.value.field == "longitude"


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [(123, 36.7), (35.1, 200), (math.nan, 36.7), (35.1, math.inf), (-90.0001, 0), (0, 180.5)],
)
def test_coordinates_off_the_globe_are_invalid_coordinates(
    latitude: float, longitude: float
) -> None:
    with pytest.raises(InvalidCoordinates) as info:
        Coordinates(latitude, longitude)

    assert info.value.code == "INVALID_COORDINATES"


@pytest.mark.parametrize("value", ["35.1", None, True, [35.1]])
def test_coordinates_that_are_not_numbers_are_invalid(value: Any) -> None:
    with pytest.raises(InvalidCoordinates):
        Coordinates(value, 36.7)


def test_coordinates_refuse_an_integer_too_large_for_a_float_with_a_typed_error() -> None:
    with pytest.raises(InvalidCoordinates):
        Coordinates(10**400, 36.7)


def test_invalid_coordinates_are_invalid_input() -> None:
    assert issubclass(InvalidCoordinates, InvalidInput)
    assert issubclass(MissingSource, InvalidInput)
    assert issubclass(InvalidTime, InvalidInput)
    assert issubclass(InvalidInput, DomainError)


# -- valid time -----------------------------------------------------------------------------

offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
aware_datetimes = st.builds(
    lambda naive, tz: naive.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2100, 1, 1)),  # noqa: DTZ001
    offsets,
)


@given(start=aware_datetimes)
def test_day_precision_means_the_whole_day_in_its_own_offset(start: datetime) -> None:
    day = ValidTime(start, TimePrecision.DAY)

    assert day.start.date() == start.date()
    assert day.start.utcoffset() == start.utcoffset()
    assert (day.start.hour, day.start.minute, day.start.second, day.start.microsecond) == (
        0, 0, 0, 0,
    )  # fmt: skip
    assert day.earliest == day.start <= start < day.latest
    assert day.latest == day.start + timedelta(days=1)


def test_day_precision_uses_the_reports_offset_not_utc() -> None:
    damascus = timezone(timedelta(hours=3))
    # 01:00 on 5 December in Damascus is still 4 December in UTC.
    day = ValidTime(datetime(2024, 12, 5, 1, 0, tzinfo=damascus), "day")  # type: ignore[arg-type]

    assert day.start == datetime(2024, 12, 5, tzinfo=damascus)
    assert day.latest == datetime(2024, 12, 6, tzinfo=damascus)
    assert day.precision is TimePrecision.DAY


@given(start=aware_datetimes, length=st.timedeltas(min_value=timedelta(microseconds=1),
                                                  max_value=timedelta(days=365)))  # fmt: skip
def test_a_range_spans_from_its_start_to_its_end(start: datetime, length: timedelta) -> None:
    span = ValidTime(start, TimePrecision.RANGE, start + length)

    assert (span.earliest, span.latest) == (start, start + length)


@pytest.mark.parametrize("precision", [TimePrecision.EXACT, TimePrecision.APPROXIMATE])
def test_exact_and_approximate_times_are_a_single_instant(precision: TimePrecision) -> None:
    start = datetime(2024, 12, 5, 14, 30, tzinfo=UTC)

    when = ValidTime(start, precision)

    assert when.earliest == when.latest == start


def test_precision_defaults_to_exact() -> None:
    assert ValidTime(datetime(2024, 12, 5, tzinfo=UTC)).precision is TimePrecision.EXACT


def test_only_a_range_has_an_end() -> None:
    start = datetime(2024, 12, 5, tzinfo=UTC)

    with pytest.raises(InvalidTime) as info:
        ValidTime(start, TimePrecision.DAY, start + timedelta(hours=2))

    assert info.value.field == "occurredUntil"


def test_a_range_end_must_be_aware() -> None:
    start = datetime(2024, 12, 5, tzinfo=UTC)

    with pytest.raises(InvalidTime):
        ValidTime(start, TimePrecision.RANGE, datetime(2024, 12, 6))  # noqa: DTZ001


@pytest.mark.parametrize(
    "start",
    [datetime(2024, 12, 5), "2024-12-05T00:00:00+00:00", None,  # noqa: DTZ001
     datetime(1899, 12, 31, tzinfo=UTC)],
)  # fmt: skip
def test_a_start_that_is_not_an_aware_datetime_since_1900_is_refused(start: Any) -> None:
    with pytest.raises(InvalidTime) as info:
        ValidTime(start)

    assert info.value.code == "INVALID_TIME"
    assert info.value.field == "occurredAt"


def test_an_unknown_precision_is_refused() -> None:
    with pytest.raises(InvalidTime):
        ValidTime(datetime(2024, 12, 5, tzinfo=UTC), "week")  # type: ignore[arg-type]


def test_the_future_check_compares_instants_not_wall_clocks() -> None:
    now = datetime(2024, 12, 5, 12, 0, tzinfo=UTC)
    # 14:30 in Damascus is 11:30 UTC: in the past, although its wall clock is ahead.
    afternoon = datetime(2024, 12, 5, 14, 30, tzinfo=timezone(timedelta(hours=3)))
    ValidTime(afternoon).check_not_future(now)

    with pytest.raises(InvalidTime):
        ValidTime(now + timedelta(microseconds=1)).check_not_future(now)


@given(
    start=aware_datetimes,
    precision=st.sampled_from([TimePrecision.EXACT, TimePrecision.DAY, TimePrecision.APPROXIMATE]),
)
def test_valid_times_survive_the_event_codec(start: datetime, precision: TimePrecision) -> None:
    transcoder = make_transcoder()
    when = ValidTime(start, precision)

    back = transcoder.decode(transcoder.encode(when))

    assert back == when
    assert back.start.utcoffset() == when.start.utcoffset()
    assert back.precision is precision


# -- sources --------------------------------------------------------------------------------


def test_a_source_coerces_plain_strings_to_its_vocabulary() -> None:
    source = Source("  Reuters ", channel="telegram", role="party", quote="  ")  # type: ignore[arg-type]

    assert source.outlet == "Reuters"
    assert source.channel is Channel.TELEGRAM
    assert source.role is SpeakerRole.PARTY
    assert source.quote is None


@pytest.mark.parametrize("url", ["http://example.org", "https://example.org/a?b=c#d"])
def test_a_source_accepts_http_and_https_urls(url: str) -> None:
    assert Source("Reuters", url=url).url == url


@given(source=st.builds(
    Source,
    outlet=st.text(min_size=1, max_size=200).filter(str.strip),
    channel=st.sampled_from(Channel),
    role=st.sampled_from(SpeakerRole),
    url=st.none() | st.just("https://example.org/report"),
    published_at=st.none() | aware_datetimes,
    quote=st.none() | st.text(max_size=300),
))  # fmt: skip
def test_sources_survive_the_event_codec(source: Source) -> None:
    transcoder = make_transcoder()

    assert transcoder.decode(transcoder.encode(source)) == source


# -- identity and fingerprints ---------------------------------------------------------------


@given(slug=st.from_regex(SLUG_PATTERN, fullmatch=True).filter(lambda s: len(s) <= 100))
def test_every_well_formed_slug_is_accepted_and_names_one_place(slug: str) -> None:
    assert check_slug(slug) == slug
    assert place_id(slug) == place_id(slug)


def test_a_key_always_maps_to_the_same_incident_id() -> None:
    assert incident_id("k") == incident_id("k") != incident_id("k2")
    assert incident_id(None) != incident_id(None)


def test_a_fingerprint_ignores_who_recorded_and_the_expected_version() -> None:
    incident = uuid4()
    source = Source("AFP")

    assert fingerprint(Corroborate(incident, source, key="k", recorded_by="a")) == fingerprint(
        Corroborate(incident, source, key="k", recorded_by="b", expected_version=3)
    )
    assert fingerprint(Corroborate(incident, source, key="k")) != fingerprint(
        Corroborate(incident, Source("AP"), key="k")
    )
