"""Events are versioned the eventsourcing way (``class_version`` and ``upcast_vN_vN+1``), and
the projector's mapper (``readmodel.events.MAPPER``) is the path that applies it: bumping an
event class's version and writing its upcaster is all a rename or a new required field needs
(README, "Changing an event"). Checked here on the golden log, with no database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from domain.places import Place
from readmodel.events import MAPPER

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "log.ndjson"


def golden_log() -> list[StoredEvent]:
    lines = [json.loads(line) for line in GOLDEN.read_text(encoding="utf-8").splitlines()]
    return [
        StoredEvent(
            originator_id=UUID(line["originator_id"]),
            originator_version=line["originator_version"],
            topic=line["topic"],
            state=line["state"].encode(),
        )
        for line in lines
    ]


def test_every_event_of_the_golden_log_is_version_one_and_decodes() -> None:
    stored = golden_log()
    events = [MAPPER.to_domain_event(s) for s in stored]
    assert all(b'"class_version"' not in s.state for s in stored)  # v1 is stored implicitly
    assert {type(e).__qualname__ for e in events} >= {"Place.Registered", "Incident.Recorded"}


def test_an_upcaster_edits_each_older_event_before_it_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As if Place.Registered had renamed `name` to `title` in a version 2: stored v1 events
    # reach the class as v2 once the upcaster has moved the field.
    upcast: list[str] = []

    def upcast_v1_v2(state: dict[str, Any]) -> None:
        upcast.append(state["slug"])
        state["title"] = state.pop("name")

    monkeypatch.setattr(Place.Registered, "class_version", 2, raising=False)
    monkeypatch.setattr(Place.Registered, "upcast_v1_v2", staticmethod(upcast_v1_v2), raising=False)
    events = [MAPPER.to_domain_event(s) for s in golden_log()]
    registered = [e for e in events if isinstance(e, Place.Registered)]

    assert upcast == [e.slug for e in registered]
    assert registered[0].title == "Hama Governorate"  # type: ignore[attr-defined]
    assert "name" not in vars(registered[0])

    # An event written by version 2 says so, and is not upcast again when read.
    again = MAPPER.to_stored_event(registered[0])
    assert json.loads(again.state)["class_version"] == 2
    upcast.clear()
    assert MAPPER.to_domain_event(again).title == "Hama Governorate"  # type: ignore[attr-defined]
    assert upcast == []


def test_a_version_with_no_upcaster_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Place.Registered, "class_version", 2, raising=False)
    first = next(s for s in golden_log() if s.topic.endswith("Place.Registered"))
    with pytest.raises(AttributeError, match="upcast_v1_v2"):
        MAPPER.to_domain_event(first)
