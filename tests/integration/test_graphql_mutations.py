"""The write API through the schema (the wire is tests/e2e's): every mutation, corrections,
idempotency, atomicity, read-your-writes and typed refusals that write nothing."""

from __future__ import annotations

import pytest

from tests.support.graphql_client import SOURCE, ask, codes, data, head, incident
from tests.support.in_process import InProcess

pytestmark = pytest.mark.slow


WHEN = "2024-12-06T10:00:00+03:00"
PAYLOAD = "{ id position version replayed incident { kind recordedBy places { slug } } }"

# One recording mutation per incident kind: (mutation, details literal, expected kind).
RECORDINGS = [
    ("recordCapture", '{by: ["hts"], takenFrom: "syrian-arab-army"}', "CAPTURE"),
    ("recordWithdrawal", '{actor: "syrian-arab-army", redeployment: true}', "WITHDRAWAL"),
    (
        "recordAircraftLoss",
        '{aircraft: "helicopter", outcome: DAMAGED, operator: "syrian-arab-army"}',
        "AIRCRAFT_LOSS",
    ),
    ("recordClash", '{parties: ["hts", "syrian-arab-army"]}', "CLASH"),
    ("recordAdvance", '{actor: "hts", objective: "homs", direction: "south"}', "ADVANCE"),
    ("recordAirStrike", '{by: "russian-aerospace-forces", target: "a convoy"}', "AIR_STRIKE"),
    ("recordStatement", '{speaker: "A spokesman", quote: "We hold the line."}', "STATEMENT"),
    (
        "recordAnticipatedOperation",
        '{description: "An offensive on Homs"}',
        "ANTICIPATED_OPERATION",
    ),
]


def record(api: InProcess, mutation: str, details: str, places: list[str], key: str) -> dict:
    query = f"""mutation {{ {mutation}(incident: {incident(WHEN, places, key)},
                 details: {details}) {PAYLOAD} }}"""
    payload: dict = data(api, query, key=api.writer_key)[mutation]
    return payload


def capture(api: InProcess, place: str, key: str) -> dict:
    return record(api, "recordCapture", '{by: ["hts"]}', [place], key)


def register_place(api: InProcess, slug: str) -> None:
    data(
        api,
        f"""mutation {{ registerPlace(input: {{slug: "{slug}", name: "{slug.title()}",
             kind: TOWN, latitude: 35.5, longitude: 36.5, country: "Syria",
             governorate: "Hama"}}) {{ position }} }}""",
        key=api.writer_key,
    )


@pytest.mark.parametrize(("mutation", "details", "kind"), RECORDINGS)
def test_every_incident_kind_records_and_returns_its_position(
    api: InProcess, mutation: str, details: str, kind: str
) -> None:
    before = head(api)
    payload = record(api, mutation, details, ["hama-governorate"], f"kinds/{mutation}")
    assert payload["position"] > before
    assert payload["position"] == head(api)
    assert payload["version"] == 1
    assert payload["replayed"] is False
    assert payload["incident"]["kind"] == kind
    assert payload["incident"]["places"] == [{"slug": "hama-governorate"}]


def test_registering_a_place_and_an_actor_returns_their_positions(api: InProcess) -> None:
    result = data(
        api,
        """mutation {
             p: registerPlace(input: {slug: "talbiseh", name: "Talbiseh", kind: TOWN,
               latitude: 34.84, longitude: 36.73, country: "Syria", governorate: "Homs",
               aliases: ["Talbisah"]}) { id position replayed place { slug aliases } }
             a: registerActor(input: {slug: "e2e-brigade", name: "E2E Brigade",
               kind: ARMED_GROUP, side: "opposition", coalitions: ["military-operations-command"]})
               { id position replayed actor { slug coalitions { slug } } } }""",
        key=api.writer_key,
    )
    assert result["a"]["position"] == result["p"]["position"] + 1
    assert result["p"]["place"] == {"slug": "talbiseh", "aliases": ["Talbisah"]}
    assert result["a"]["actor"]["coalitions"] == [{"slug": "military-operations-command"}]


def test_a_written_incident_names_the_writer_key_that_recorded_it(api: InProcess) -> None:
    payload = capture(api, "hama-governorate", "recorded-by/1")
    assert payload["incident"]["recordedBy"].startswith("test writer (key ")


def test_provenance_shows_every_correction_in_order(api: InProcess) -> None:
    recorded = capture(api, "hama-governorate", "provenance/1")
    incident_id = recorded["id"]
    corrections = [
        'corroborate(correction: {incident: $id}, source: {outlet: "Second Outlet"})',
        'dispute(correction: {incident: $id}, source: {outlet: "Army Spokesman", role: PARTY},'
        ' disputedBy: "syrian-arab-army", reason: "denied")',
        'confirm(correction: {incident: $id}, source: {outlet: "Third Outlet"})',
        'amend(correction: {incident: $id}, amendment: {reason: "a day later",'
        ' occurredAt: "2024-12-07T00:00:00+03:00", precision: DAY})',
        'retract(correction: {incident: $id}, reason: "the report was withdrawn")',
    ]
    statuses = []
    positions = [recorded["position"]]
    for correction in corrections:
        name = correction.partition("(")[0]
        payload = data(
            api,
            f"mutation ($id: ID!) {{ {correction} {{ position version incident {{ status }} }} }}",
            key=api.writer_key,
            id=incident_id,
        )[name]
        positions.append(payload["position"])
        statuses.append(payload["incident"]["status"])
    assert statuses == ["CORROBORATED", "DISPUTED", "CONFIRMED", "CONFIRMED", "RETRACTED"]
    history = data(
        api,
        """query ($id: ID!) { incident(id: $id) { version history { type position recordedBy
             reason occurredAt source { outlet } disputedBy { slug } } } }""",
        id=incident_id,
    )["incident"]
    entries = history["history"]
    assert [e["type"] for e in entries] == [
        "Recorded", "Corroborated", "Disputed", "Confirmed", "Amended", "Retracted",
    ]  # fmt: skip
    assert [e["position"] for e in entries] == positions == sorted(positions)
    assert history["version"] == 6
    assert entries[1]["source"] == {"outlet": "Second Outlet"}
    assert entries[2]["disputedBy"] == {"slug": "syrian-arab-army"}
    assert entries[2]["reason"] == "denied"
    assert entries[4]["occurredAt"].startswith("2024-12-07T00:00:00")
    assert entries[5]["reason"] == "the report was withdrawn"
    assert all(e["recordedBy"].startswith("test writer") for e in entries)


def test_a_retry_with_the_same_idempotency_key_replays_the_first_write(api: InProcess) -> None:
    first = capture(api, "hama-governorate", "retry/1")
    before = head(api)
    again = capture(api, "hama-governorate", "retry/1")
    assert again["replayed"] is True
    assert (again["id"], again["position"], again["version"]) == (
        first["id"], first["position"], first["version"],
    )  # fmt: skip
    assert head(api) == before


def test_a_different_request_under_a_used_key_is_refused(api: InProcess) -> None:
    capture(api, "hama-governorate", "reuse/1")
    before = head(api)
    body = ask(
        api,
        f"""mutation {{ recordCapture(incident: {incident(WHEN, ["homs"], "reuse/1")},
             details: {{by: ["hts"]}}) {{ position }} }}""",
        key=api.writer_key,
    )
    assert codes(body) == ["IDEMPOTENCY_KEY_REUSED"]
    assert head(api) == before


def test_a_correction_retried_with_its_key_is_recorded_once(api: InProcess) -> None:
    recorded = capture(api, "hama-governorate", "retry-correction/1")
    query = """mutation ($id: ID!) { corroborate(correction: {incident: $id,
        idempotencyKey: "retry-correction/corroborate"}, source: {outlet: "Again"}) {
        position version replayed } }"""
    first = data(api, query, key=api.writer_key, id=recorded["id"])["corroborate"]
    again = data(api, query, key=api.writer_key, id=recorded["id"])["corroborate"]
    assert first["replayed"] is False
    assert again["replayed"] is True
    assert (again["position"], again["version"]) == (first["position"], first["version"])


def test_a_stale_expected_version_is_a_conflict_and_writes_nothing(api: InProcess) -> None:
    recorded = capture(api, "hama-governorate", "conflict/1")
    data(
        api,
        'mutation ($id: ID!) { corroborate(correction: {incident: $id}, source: {outlet: "B"}) '
        "{ version } }",
        key=api.writer_key,
        id=recorded["id"],
    )
    before = head(api)
    body = ask(
        api,
        """mutation ($id: ID!) { retract(correction: {incident: $id, expectedVersion: 1},
             reason: "stale view") { position } }""",
        key=api.writer_key,
        id=recorded["id"],
    )
    assert codes(body) == ["CONFLICT"]
    assert head(api) == before


def test_a_batch_is_recorded_whole_at_consecutive_positions(api: InProcess) -> None:
    result = data(
        api,
        f"""mutation {{ recordBatch(commands: [
             {{registerPlace: {{slug: "batch-town", name: "Batch Town", kind: TOWN,
               latitude: 35.3, longitude: 36.6, country: "Syria"}}}},
             {{capture: {{incident: {incident(WHEN, ["batch-town"])},
               details: {{by: ["hts"]}}}}}}]) {{ id position }} }}""",
        key=api.writer_key,
    )["recordBatch"]
    assert result[1]["position"] == result[0]["position"] + 1
    state = data(
        api,
        f'{{ fresh(position: {result[1]["position"]}) {{ controlAt(place: "batch-town") '
        "{ controllers { slug } } } }",
    )
    assert state["fresh"]["controlAt"]["controllers"] == [{"slug": "hts"}]


def test_a_batch_with_one_bad_command_writes_nothing(api: InProcess) -> None:
    before = head(api)
    body = ask(
        api,
        f"""mutation {{ recordBatch(commands: [
             {{registerActor: {{slug: "batch-ghost", name: "Ghost", kind: OTHER}}}},
             {{capture: {{incident: {incident(WHEN, ["nowhere-at-all"])},
               details: {{by: ["batch-ghost"]}}}}}}]) {{ position }} }}""",
        key=api.writer_key,
    )
    assert codes(body) == ["UNKNOWN_PLACE"]
    assert head(api) == before
    assert data(api, '{ actor(ref: "batch-ghost") { slug } }')["actor"] is None


def test_fresh_reads_a_write_at_once(api: InProcess) -> None:
    register_place(api, "fresh-town")
    payload = capture(api, "fresh-town", "fresh/1")
    result = data(
        api,
        """query ($p: Int!) { fresh(position: $p) {
             controlAt(place: "fresh-town") { status controllers { slug } } } }""",
        p=payload["position"],
    )
    assert result["fresh"]["controlAt"] == {"status": "HELD", "controllers": [{"slug": "hts"}]}


def test_fresh_gives_up_with_stale_for_a_position_far_ahead(api: InProcess) -> None:
    body = ask(api, '{ fresh(position: 99999999, timeoutMs: 200) { place(ref: "hama") { slug } } }')
    assert codes(body) == ["STALE"]


BAD_INPUTS = [
    pytest.param(
        f'recordCapture(incident: {incident(WHEN, ["atlantis"])}, details: {{by: ["hts"]}})',
        "UNKNOWN_PLACE",
        id="unknown-place",
    ),
    pytest.param(
        f'recordCapture(incident: {incident(WHEN, ["hama"])}, details: {{by: ["nobody-known"]}})',
        "UNKNOWN_ACTOR",
        id="unknown-actor",
    ),
    pytest.param(
        'registerPlace(input: {slug: "bad-latitude", name: "Bad", kind: TOWN, latitude: 123,'
        ' longitude: 36, country: "Syria"})',
        "INVALID_COORDINATES",
        id="latitude-123",
    ),
    pytest.param(
        f"recordCapture(incident: {incident('2099-01-01T00:00:00+00:00', ['hama'])},"
        ' details: {by: ["hts"]})',
        "INVALID_TIME",
        id="future-time",
    ),
    pytest.param(
        f"recordCapture(incident: {incident('2024-12-05T10:00:00', ['hama'])},"
        ' details: {by: ["hts"]})',
        "INVALID_TIME",
        id="naive-time",
    ),
    pytest.param(
        'recordCapture(incident: {occurredAt: "2024-12-05T10:00:00+03:00", places: ["hama"],'
        ' sources: []}, details: {by: ["hts"]})',
        "MISSING_SOURCE",
        id="no-source",
    ),
    pytest.param(
        'registerActor(input: {slug: "no-name", name: "  ", kind: OTHER})',
        "INVALID_INPUT",
        id="empty-name",
    ),
    pytest.param(
        'recordCapture(incident: {occurredAt: "2024-12-05T10:00:00+03:00", places: ["hama"],'
        f' sources: [{SOURCE}], summary: "{"x" * 6000}"}}, details: {{by: ["hts"]}})',
        "INVALID_INPUT",
        id="oversized-summary",
    ),
    pytest.param(
        'corroborate(correction: {incident: "not-an-id"}, source: {outlet: "X"})',
        "INVALID_ID",
        id="garbage-id",
    ),
    pytest.param(
        f'recordCapture(incident: {incident(WHEN, ["Not A Slug!"])}, details: {{by: ["hts"]}})',
        "INVALID_ID",
        id="garbage-place-ref",
    ),
]


@pytest.mark.parametrize(("mutation", "code"), BAD_INPUTS)
def test_bad_input_gets_a_typed_error_and_writes_nothing(
    api: InProcess, mutation: str, code: str
) -> None:
    before = head(api)
    name = mutation.partition("(")[0]
    body = ask(api, f"mutation {{ {mutation} {{ position }} }}", key=api.writer_key)
    assert codes(body) == [code], body
    assert body["data"] is None or body["data"].get(name) is None
    assert head(api) == before


def test_a_datetime_that_is_not_one_is_refused_before_execution(api: InProcess) -> None:
    body = ask(
        api,
        f"mutation {{ recordCapture(incident: {incident('yesterday', ['hama'])},"
        ' details: {by: ["hts"]}) { position } }',
        key=api.writer_key,
    )
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
