"""Stored events decode whatever today's checks say: a log written under yesterday's rules
must always replay (domain/codec.py restores value objects without validating them)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, UUIDAsHex

from domain import commands as c
from domain.application import Frontline
from domain.codec import make_transcoder, register_value_transcodings
from domain.details import AircraftLoss, Capture
from domain.identity import actor_id, incident_id, place_id
from domain.values import Coordinates, RequestMeta, Source, ValidTime
from domain.vocabulary import AircraftOutcome, SpeakerRole, TimePrecision
from frontline.acled import map_row, read_acled, read_deletions
from frontline.acled_plan import Planner
from frontline.sample import parse_sample, read_sample

TRANSCODER = make_transcoder()
ACLED = Path(__file__).resolve().parents[3] / "frontline" / "sample" / "acled"
NOW = datetime(2026, 1, 2, tzinfo=UTC)


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


def library_transcoder() -> JSONTranscoder:
    """eventsourcing's own JSONTranscoder with Frontline's transcodings: the reference."""
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    register_value_transcodings(transcoder)
    return transcoder


def every_kind_of_event() -> list[tuple[str, dict[str, Any]]]:
    """The states of every event the sample and the ACLED fixture (rows, revisions,
    deletions) record, and of a correction of each kind, as the mapper hands them over."""
    acled = Frontline(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    planner = Planner(file="acled.csv")
    for name in ("syria-2024-11.csv", "syria-2024-11-revisions.csv"):
        with (ACLED / name).open(encoding="utf-8", newline="") as lines:
            rows = list(read_acled(lines))
        for step in planner.rows([(r, map_row(r, NOW)) for r in rows]):
            acled.execute_batch(step.commands)
    with (ACLED / "syria-2024-11-deletions.csv").open(encoding="utf-8", newline="") as lines:
        for step in planner.deletions(list(read_deletions(lines))):
            acled.execute_batch(step.commands)
    app = Frontline(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.execute_batch(parse_sample(read_sample()))
    incident = incident_id("sample/hama-captured")
    source = Source("Wire", url="https://example.org/x", published_at=NOW, speaker="A",
                    speaker_actor_id=actor_id("hts"))  # fmt: skip
    app.execute_batch([
        c.Corroborate(incident, source, key="a"),
        c.Dispute(incident, source, disputed_by=actor_id("hts"), reason="no", key="b"),
        c.Confirm(incident, source),
        c.Amend(incident, "moved", places=(place_id("hama"),), actors=(), summary="s"),
        c.Retract(incident, "wrong", source=source),
    ])  # fmt: skip
    states = []
    for each in (acled, app):
        for stored_event in each.recorder.select_notifications(start=1, limit=100_000):
            state = dict(vars(each.mapper.to_domain_event(stored_event)))
            del state["originator_id"], state["originator_version"]
            states.append((stored_event.topic.rpartition(".")[2], state))
    return states


def test_orjson_writes_the_librarys_json_for_every_kind_of_event() -> None:
    states = every_kind_of_event()
    assert {name for name, _ in states} >= {
        "Registered", "Recorded", "Corroborated", "Disputed", "Confirmed", "Amended", "Retracted",
    }  # fmt: skip
    reference = library_transcoder()
    for _, state in states:
        assert TRANSCODER.encode(state) == reference.encode(state), state


def test_what_orjson_cannot_hold_is_written_by_the_library() -> None:
    value = {"big": 2**70, "at": datetime(2024, 12, 5, tzinfo=UTC)}
    assert TRANSCODER.encode(value) == library_transcoder().encode(value)
    assert TRANSCODER.decode(TRANSCODER.encode(value)) == value
