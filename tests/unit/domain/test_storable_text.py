"""A NUL character anywhere in a command's text is refused before anything is recorded
(PostgreSQL text and jsonb cannot hold it: the projector would stall behind the event)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

import pytest

from domain import commands as c
from domain.details import OtherEvent
from domain.errors import InvalidInput
from domain.handlers import check_storable_text
from domain.identity import place_id
from domain.values import Provenance, Source, ValidTime
from domain.vocabulary import TimePrecision


def incident(**overrides: object) -> c.RecordIncident:
    fields: dict[str, object] = {
        "details": OtherEvent("Protests / Peaceful protest"),
        "valid_time": ValidTime(datetime(2024, 12, 5, tzinfo=UTC), TimePrecision.DAY),
        "places": (place_id("hama"),),
        "sources": (Source("SOHR", quote="a quote"),),
        "summary": "a summary",
        "provenance": Provenance("acled", "SYR1", "1", (("notes", "n"), ("tags", "t"))),
    }
    return c.RecordIncident(**(fields | overrides))  # type: ignore[arg-type]


def test_a_command_without_nul_passes() -> None:
    check_storable_text(incident())


@pytest.mark.parametrize(
    "overrides",
    [
        {"summary": "a\x00b"},
        {"sources": (Source("SOHR", quote="fine"), Source("X", quote="bad\x00"))},
        {"provenance": Provenance("acled", "SYR1", "1", (("notes", "n\x00"),))},
        {"details": OtherEvent("Protests\x00")},
        {"key": "k\x00"},
    ],
    ids=["summary", "a source's quote", "a provenance column", "details", "key"],
)
def test_a_nul_anywhere_is_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(InvalidInput, match="NUL"):
        check_storable_text(incident(**overrides))


@pytest.mark.parametrize("text", ["\\u0000", "a\\\\u0000b", "\\\\\\u0000", "\\x00", "\\0"])
def test_the_letters_of_an_escaped_nul_are_text_like_any_other(text: str) -> None:
    check_storable_text(incident(summary=text, key=text))


@pytest.mark.parametrize("text", ["\\\x00", "\\\\\x00", "\\u0000\x00", "\x00\\u0000"])
def test_a_nul_beside_backslashes_is_still_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="NUL"):
        check_storable_text(incident(summary=text))


def test_a_nul_in_a_command_orjson_cannot_write_is_refused_too() -> None:
    with pytest.raises(InvalidInput, match="NUL"):
        check_storable_text(incident(summary="a\x00b", fatalities=2**70))
    check_storable_text(incident(fatalities=2**70))  # the handler refuses it, not this check


class Pair(NamedTuple):
    name: str
    value: str


def test_a_nul_inside_a_named_tuple_is_refused_too() -> None:
    with pytest.raises(InvalidInput, match="NUL"):
        check_storable_text(c.RegisterActor("a", "A", "armed_group", aliases=Pair("ok", "\x00")))  # type: ignore[arg-type]
