"""readmodel.jsonable.dumps (orjson) writes the JSON values plain() describes, for every value
type events carry: jsonb keeps values, so rebuild and live projection stay identical."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import uuid4

import orjson

from domain.values import Source, ValidTime
from readmodel.jsonable import dumps, plain


def test_a_value_is_written_as_its_fields_whatever_was_read_from_it() -> None:
    period = ValidTime(datetime(2024, 12, 5, tzinfo=UTC), "day")
    before = dumps(period)
    assert period.earliest <= period.latest  # cached properties, now in its __dict__
    assert dumps(period) == before
    assert orjson.loads(before) == plain(period)


def test_dumps_writes_the_values_plain_gives() -> None:
    source = Source(outlet="Wire", url="https://example.org/a", quote="“Hama” — 2024")
    values = [
        source,
        (source, source),
        [datetime(2024, 12, 6, 1, 2, 3, 456789, tzinfo=UTC), uuid4()],
    ]
    for value in values:
        assert orjson.loads(dumps(value)) == orjson.loads(json.dumps(plain(value)))


def test_what_orjson_refuses_is_written_by_the_json_module() -> None:
    assert dumps([2**70]) == "[1180591620717411303424]"
