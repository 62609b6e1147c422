"""Idempotency fingerprints never change: a retry of a request recorded by an earlier release
must still match it. The golden log (tests/golden/log.ndjson) stores the fingerprint of every
keyed sample incident; today's code must compute the same ones from the same commands."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson

from domain import commands as c
from domain.values import Coordinates, Source, ValidTime
from domain.vocabulary import ActorKind, PlaceKind, TimePrecision
from frontline.acled import Mapped, map_row, read_acled
from frontline.acled_plan import _new_incident, _revise
from frontline.sample import parse_sample, read_sample

#: Values ``canonical`` keeps as they are (checked by exact type: a StrEnum is a str too).
PLAIN = frozenset({str, int, float, bool, type(None)})


def canonical(value: Any) -> Any:
    """The canonical form of a command's value as first written, walked in Python: a value
    object as its type's name and its fields with unset (``None``/empty) ones dropped, lists
    for tuples, instants in UTC, enums as their values, ids as text. ``fingerprint`` lets the
    encoder walk (``commands._canonical_object``) and must give the same digests."""
    kind = type(value)
    if kind in PLAIN:
        return value
    names = c.field_names(kind)
    if names:
        form = {name: canonical(getattr(value, name)) for name in names}
        return {"type": kind.__name__} | {k: v for k, v in form.items() if v not in (None, [])}
    if isinstance(value, list | tuple):
        return [v if type(v) in PLAIN else canonical(v) for v in value]
    return scalar(value)


def scalar(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, UUID):
        return str(value)
    return value


GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "log.ndjson"
ACLED_FIXTURE = Path(__file__).resolve().parents[2] / "frontline/sample/acled/syria-2024-11.csv"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def stored_fingerprints() -> dict[str, str]:
    found = {}
    for line in GOLDEN.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if not event["topic"].endswith("Incident.Recorded"):
            continue
        meta = json.loads(event["state"])["meta"]["_data_"]
        if meta["key"] and meta["key"].startswith("sample/"):
            found[meta["key"]] = meta["fingerprint"]
    return found


def test_the_sample_commands_fingerprint_as_the_golden_log_stored_them() -> None:
    stored = stored_fingerprints()
    commands = [x for x in parse_sample(read_sample()) if isinstance(x, c.RecordIncident)]
    assert len(stored) >= 10
    computed = {x.key: c.fingerprint_v1(x) for x in commands if x.key in stored}
    assert computed == stored
    assert all(c.same_request(stored[x.key], x) for x in commands if x.key in stored)


def test_todays_fingerprints_are_marked_and_never_change() -> None:
    """The second version's digests of three sample requests, as first computed: a change to
    the canonical form or to orjson's text that moves them breaks every stored retry."""
    commands = {x.key: x for x in parse_sample(read_sample()) if isinstance(x, c.RecordIncident)}
    assert {key: c.fingerprint(commands[key]) for key in V2_GOLDEN} == V2_GOLDEN


def test_a_request_matches_its_stored_fingerprint_in_either_version_and_no_other() -> None:
    first, second = [x for x in parse_sample(read_sample()) if isinstance(x, c.RecordIncident)][:2]
    for stored in (c.fingerprint(first), c.fingerprint_v1(first)):
        assert c.same_request(stored, first)
        assert not c.same_request(stored, second)
    assert not c.same_request(None, first)
    assert not c.same_request(c.V2 + c.fingerprint_v1(first)[2:], first)


def test_fields_added_to_a_command_later_leave_the_fingerprints_of_requests_without_them() -> None:
    amend = c.Amend(UUID(int=7), "it was Yadgun", places=(UUID(int=8),), key="k")
    # The fingerprint as it was computed before Amend could revise details, actors, sources,
    # summary, fatalities and provenance: over the fields it had then.
    fields_then = ("incident", "reason", "valid_time", "places", "source", "key")
    payload = {name: canonical(getattr(amend, name)) for name in fields_then}
    text = json.dumps({"command": "Amend", **payload}, sort_keys=True)
    assert c.fingerprint_v1(amend) == hashlib.sha256(text.encode()).hexdigest()
    now = {name: canonical(getattr(amend, name)) for name in fields_then}
    now_text = orjson.dumps({"command": "Amend", **now}, option=orjson.OPT_SORT_KEYS)
    assert c.fingerprint(amend) == c.V2 + hashlib.sha256(now_text).hexdigest()
    assert c.fingerprint(replace(amend, fatalities=3)) != c.fingerprint(amend)


def test_an_emptied_list_is_a_request_of_its_own() -> None:
    amend = c.Amend(UUID(int=7), "no co-actors left", key="k")
    assert c.fingerprint(replace(amend, actors=())) != c.fingerprint(amend)
    assert c.fingerprint(replace(amend, clear=())) == c.fingerprint(amend)


def reference_payload(command: c.Command) -> dict[str, object]:
    """What a fingerprint digests, by ``canonical``, walked in Python (``fingerprint`` lets
    the encoder walk instead, and must give the same digest)."""
    later = c._ADDED_LATER.get(type(command).__name__, {})
    payload = {
        name: canonical(getattr(command, name))
        for name in c.field_names(type(command))
        if name not in c._NOT_FINGERPRINTED and getattr(command, name) != later.get(name, c._UNSET)
    }
    return {"command": type(command).__name__, **payload}


def every_kind_of_command() -> list[c.Command]:
    """The sample's commands, every ACLED fixture row as a new incident and as a revision,
    and each kind of correction, with and without their optional fields."""
    commands = list(parse_sample(read_sample()))
    with ACLED_FIXTURE.open(encoding="utf-8", newline="") as lines:
        mapped = [m for m in (map_row(r, NOW) for r in read_acled(lines)) if isinstance(m, Mapped)]
    for m in mapped:
        commands.append(_new_incident(m, "hama", f"acled/{m.record_id}"))
        commands.append(_revise(m, "hama", f"acled/{m.record_id}", UUID(int=1)))
    source = Source("SOHR", url="https://example.org/a", published_at=NOW, quote="q",
                    speaker="X", speaker_actor_id=UUID(int=2))  # fmt: skip
    commands += [
        c.Corroborate(UUID(int=3), source, key="k1"),
        c.Dispute(UUID(int=3), source, disputed_by=UUID(int=4), reason="no", key="k2"),
        c.Dispute(UUID(int=3), Source("Y")),
        c.Confirm(UUID(int=3), source, key="k3", expected_version=2),
        c.Retract(UUID(int=3), "wrong", source=source, key="k4", recorded_by="me"),
        c.Amend(UUID(int=3), "moved", valid_time=ValidTime(NOW, TimePrecision.DAY), actors=()),
        c.RegisterPlace(
            "x",
            "X",
            PlaceKind.TOWN,
            Coordinates(1.5, 2.25),
            "Syria",
            aliases=("Ex",),
            parent=UUID(int=5),
        ),
        c.RegisterActor("a", "A", ActorKind.ARMED_GROUP, side="s", coalitions=(UUID(int=6),)),
    ]
    return commands


def test_the_fingerprint_is_the_canonical_forms_digest_for_every_kind_of_command() -> None:
    commands = every_kind_of_command()
    assert len(commands) > 60
    for command in commands:
        payload = reference_payload(command)
        text = json.dumps(payload, sort_keys=True).encode()
        assert c.fingerprint_v1(command) == hashlib.sha256(text).hexdigest(), command
        text = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
        assert c.fingerprint(command) == c.V2 + hashlib.sha256(text).hexdigest(), command


V2_GOLDEN = {
    "sample/hama-captured": "2:cd84a0ad3afad6593242da1efad654307b6056619da2ae9fb3a613ef4ac9273c",
    "sample/hama-army-withdraws": (
        "2:df0ae2a4bd17edb81e73b625fb349a4a14c814c7036c7a7db95646f0343a96f9"
    ),
    "sample/clashes-since-nov-27": (
        "2:b437667ea9867c38c5ae120e8ac2a5a8c150fff83b5038d2a122da6a04764baa"
    ),
}
