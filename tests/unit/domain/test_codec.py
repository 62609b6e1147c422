"""Stored events decode whatever today's checks say: a log written under yesterday's rules
must always replay (domain/codec.py restores value objects without validating them)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import uuid4

from domain.codec import make_transcoder
from domain.details import AircraftLoss, Capture
from domain.values import Coordinates, RequestMeta, Source, ValidTime
from domain.vocabulary import AircraftOutcome, SpeakerRole, TimePrecision

TRANSCODER = make_transcoder()


def stored(value: object) -> dict[str, object]:
    return json.loads(TRANSCODER.encode(value))


def decoded(data: dict[str, object]) -> object:
    return TRANSCODER.decode(json.dumps(data).encode())


def test_every_value_object_survives_the_round_trip() -> None:
    hts, saa = uuid4(), uuid4()
    values = [
        Coordinates(35.13, 36.75),
        ValidTime(datetime(2024, 12, 5, 9, tzinfo=UTC), "day"),
        Source(outlet="Wire", role="party", quote="taken", speaker_actor_id=saa),
        RequestMeta("desk (key 1234)", "k", "f"),
        Capture(by=(hts,), taken_from=saa),
        AircraftLoss(aircraft="helicopter", outcome="destroyed", count=2),
    ]
    for value in values:
        assert TRANSCODER.decode(TRANSCODER.encode(value)) == value


def test_a_value_refused_by_todays_rules_still_decodes() -> None:
    hts = uuid4()
    capture = stored(Capture(by=(hts,)))
    capture["_data_"]["taken_from"] = str(hts)  # an actor "capturing from itself": refused now
    restored = decoded(capture)
    assert isinstance(restored, Capture)
    assert restored.taken_from == hts
    assert restored.by == (hts,)

    early = stored(ValidTime(datetime(1950, 1, 1, tzinfo=UTC)))
    early["_data_"]["start"]["_data_"] = "1850-01-01T00:00:00+00:00"  # before 1900: refused now
    assert decoded(early).start.year == 1850  # type: ignore[attr-defined]


def test_enums_tuples_and_ids_come_back_typed() -> None:
    saa = uuid4()
    restored = decoded(stored(Source(outlet="Army", role="party", speaker_actor_id=saa)))
    assert isinstance(restored, Source)
    assert restored.role is SpeakerRole.PARTY
    assert restored.speaker_actor_id == saa
    loss = decoded(stored(AircraftLoss(aircraft="jet", outcome="damaged")))
    assert loss.outcome is AircraftOutcome.DAMAGED  # type: ignore[attr-defined]
    time = decoded(stored(ValidTime(datetime(2024, 12, 5, tzinfo=UTC), "day")))
    assert time.precision is TimePrecision.DAY  # type: ignore[attr-defined]


def test_a_field_added_since_the_event_was_stored_gets_its_default() -> None:
    source = stored(Source(outlet="Wire", quote="q"))
    del source["_data_"]["speaker_actor_id"]  # as if stored before the field existed
    restored = decoded(source)
    assert isinstance(restored, Source)
    assert restored.speaker_actor_id is None
