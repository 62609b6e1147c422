"""Scalars of our own: what the API accepts as a DateTime.

Strawberry's DateTime takes any ISO 8601 instant, and the first ones near the ends of
Python's calendar failed deep inside a resolver: ``9999-12-31T23:59:59-12:00`` is past
year 9999 in UTC, ``0001-01-01T00:00:00+14:00`` before year 1, and a day-precision time in
late 9999 has no end. Frontline's times lie between 1900 (the domain's earliest valid time)
and 2999, so anything else is refused where it is parsed, with a coded validation error.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import strawberry
from graphql import GraphQLError

EARLIEST: Final = datetime(1900, 1, 1)  # noqa: DTZ001 - compared with wall-clock time
LATEST: Final = datetime(2999, 12, 31, 23, 59, 59)  # noqa: DTZ001


def parse_datetime(value: object) -> datetime:
    """An ISO 8601 date and time between 1900 and 2999 (read on the wall clock it gives).
    Refusals are GraphQLErrors, so graphql-core reports them as the client's (a plain
    exception there reads as the server's): text that is no date and time at all is a
    validation error like any value of the wrong type; a time out of range is INVALID_TIME."""
    if not isinstance(value, str):
        raise GraphQLError(f"a DateTime is an ISO 8601 string, not {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value)
    except (ValueError, OverflowError):
        raise GraphQLError(f"{value[:40]!r} is not an ISO 8601 date and time") from None
    if not EARLIEST <= parsed.replace(tzinfo=None) <= LATEST:
        raise GraphQLError(
            "times must lie between 1900 and 2999", extensions={"code": "INVALID_TIME"}
        )
    return parsed


DateTime = strawberry.scalar(
    name="DateTime",
    description="Date with time (ISO 8601, with a UTC offset), between 1900 and 2999.",
    serialize=datetime.isoformat,
    parse_value=parse_datetime,
)

#: For StrawberryConfig.scalar_map.
SCALAR_MAP: Final[dict[object, Any]] = {datetime: DateTime}
