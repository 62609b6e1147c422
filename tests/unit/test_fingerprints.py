"""Idempotency fingerprints never change: a retry of a request recorded by an earlier release
must still match it. The golden log (tests/golden/log.ndjson) stores the fingerprint of every
keyed sample incident; today's code must compute the same ones from the same commands."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from uuid import UUID

from domain import commands as c
from frontline.sample import parse_sample, read_sample

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "log.ndjson"


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
    computed = {x.key: c.fingerprint(x) for x in commands if x.key in stored}
    assert computed == stored


def test_fields_added_to_a_command_later_leave_the_fingerprints_of_requests_without_them() -> None:
    amend = c.Amend(UUID(int=7), "it was Yadgun", places=(UUID(int=8),), key="k")
    # The fingerprint as it was computed before Amend could revise details, actors, sources,
    # summary, fatalities and provenance: over the fields it had then.
    fields_then = ("incident", "reason", "valid_time", "places", "source", "key")
    payload = {name: c.canonical(getattr(amend, name)) for name in fields_then}
    text = json.dumps({"command": "Amend", **payload}, sort_keys=True)
    assert c.fingerprint(amend) == hashlib.sha256(text.encode()).hexdigest()
    assert c.fingerprint(replace(amend, fatalities=3)) != c.fingerprint(amend)


def test_an_emptied_list_is_a_request_of_its_own() -> None:
    amend = c.Amend(UUID(int=7), "no co-actors left", key="k")
    assert c.fingerprint(replace(amend, actors=())) != c.fingerprint(amend)
    assert c.fingerprint(replace(amend, clear=())) == c.fingerprint(amend)
