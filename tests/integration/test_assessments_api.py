"""Assessments through the GraphQL schema: recorded (alone and in a batch), corrected, shown
on control states and maps with their flags, and left out of the incident feed unless asked
for. Each test works on places of its own, registered here."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.graphql_client import ask, codes, data
from tests.support.in_process import InProcess

pytestmark = pytest.mark.slow

ASSESS = """mutation ($places: [String!]!, $status: AssessedStatus!, $holders: [String!]!,
                      $at: DateTime!, $tier: AssessmentTier = ASSESSED, $key: String) {
  recordAssessment(
    incident: {occurredAt: $at, precision: DAY, places: $places, idempotencyKey: $key,
               sources: [{outlet: "Mapper", role: INDEPENDENT, quote: "as of that day"}]},
    details: {status: $status, holders: $holders, tier: $tier}) {
    id position incident { kind details { ... on AssessmentDetails {
      status tier holders { slug } } } } } }"""
CAPTURE = """mutation ($places: [String!]!, $by: [String!]!, $at: DateTime!) { recordCapture(
  incident: {occurredAt: $at, precision: DAY, places: $places,
             sources: [{outlet: "Wire", quote: "taken"}]},
  details: {by: $by}) { id position } }"""
STATE = """query ($p: String!, $t: DateTime, $k: Int) {
  controlAt(place: $p, asOf: $t, knownAtPosition: $k) {
    status assessed abandoned controllers { slug }
    evidence { kind details { ... on AssessmentDetails { status tier } } } } }"""


def register(api: InProcess, *slugs: str) -> None:
    for slug in slugs:
        data(
            api,
            f"""mutation {{ registerPlace(input: {{slug: "{slug}", name: "{slug.title()}",
                kind: VILLAGE, latitude: 35.3, longitude: 36.6, country: "Syria",
                governorate: "Assessed"}}) {{ position }} }}""",
            api.writer_key,
        )


def assess(api: InProcess, places: list[str], status: str, holders: list[str], at: str,
           **extra: Any) -> dict[str, Any]:  # fmt: skip
    payload: dict[str, Any] = data(
        api, ASSESS, api.writer_key, places=places, status=status, holders=holders, at=at,
        **extra,
    )["recordAssessment"]  # fmt: skip
    return payload


def state(api: InProcess, place: str, at: str, known: int | None = None) -> Any:
    api.wait_projected()  # read this test's writes
    return data(api, STATE, p=place, t=at, k=known)["controlAt"]


def test_an_assessment_sets_a_place_s_state_and_says_so(api: InProcess) -> None:
    register(api, "as-halfaya")
    written = assess(api, ["as-halfaya"], "HELD", ["syrian-arab-army"], "2024-11-26T00:00:00+03:00")
    assert written["incident"] == {
        "kind": "ASSESSMENT",
        "details": {"status": "HELD", "tier": "ASSESSED",
                    "holders": [{"slug": "syrian-arab-army"}]},
    }  # fmt: skip
    assert state(api, "as-halfaya", "2024-11-25T12:00:00+03:00") is None  # unknown before
    now = state(api, "as-halfaya", "2024-12-01T12:00:00+03:00")
    assert now == {
        "status": "HELD",
        "assessed": True,
        "abandoned": False,
        "controllers": [{"slug": "syrian-arab-army"}],
        "evidence": [{"kind": "ASSESSMENT", "details": {"status": "HELD", "tier": "ASSESSED"}}],
    }

    data(api, CAPTURE, api.writer_key, places=["as-halfaya"], by=["hts"],
         at="2024-12-02T00:00:00+03:00")  # fmt: skip
    taken = state(api, "as-halfaya", "2024-12-03T12:00:00+03:00")
    assert (taken["status"], taken["assessed"], taken["controllers"]) == (
        "HELD", False, [{"slug": "hts"}],
    )  # fmt: skip


def test_contested_between_parties_and_abandoned_are_told_apart(api: InProcess) -> None:
    register(api, "as-contested", "as-abandoned")
    at = "2024-11-28T00:00:00+03:00"
    assess(api, ["as-contested"], "CONTESTED", ["hts", "syrian-arab-army"], at)
    assess(api, ["as-abandoned"], "CONTESTED", [], at)
    contested = state(api, "as-contested", "2024-11-29T00:00:00Z")
    abandoned = state(api, "as-abandoned", "2024-11-29T00:00:00Z")
    assert (contested["status"], contested["abandoned"]) == ("CONTESTED", False)
    assert {c["slug"] for c in contested["controllers"]} == {"hts", "syrian-arab-army"}
    assert (abandoned["status"], abandoned["abandoned"], abandoned["controllers"]) == (
        "CONTESTED", True, [],
    )  # fmt: skip
    # A contesting party does not hold the place: no "held by" filter finds it.
    api.wait_projected()
    held = data(api, '{ actor(ref: "hts") { placesHeld { slug } } }')["actor"]["placesHeld"]
    assert "as-contested" not in {p["slug"] for p in held}


def test_an_unknown_assessment_and_a_bad_one(api: InProcess) -> None:
    register(api, "as-unknown")
    assess(api, ["as-unknown"], "UNKNOWN", [], "2024-11-27T00:00:00Z")
    blank = state(api, "as-unknown", "2024-11-28T00:00:00Z")
    assert (blank["status"], blank["controllers"], blank["assessed"]) == ("UNKNOWN", [], True)
    for status, holders in (("HELD", []), ("CONTESTED", ["hts"]), ("UNKNOWN", ["hts"])):
        body = ask(api, ASSESS, api.writer_key, places=["as-unknown"], status=status,
                   holders=holders, at="2024-11-27T00:00:00Z")  # fmt: skip
        assert codes(body) == ["INVALID_INPUT"], body
        assert body["errors"][0]["extensions"]["field"] == "holders"


def test_a_retracted_assessment_counts_no_more_but_knownat_before_still_shows_it(
    api: InProcess,
) -> None:
    register(api, "as-retracted")
    written = assess(api, ["as-retracted"], "HELD", ["hts"], "2024-11-27T00:00:00Z")
    retracted = data(
        api,
        """mutation ($id: ID!) { retract(correction: {incident: $id}, reason: "wrong map") {
             position } }""",
        api.writer_key,
        id=written["id"],
    )["retract"]
    at = "2024-11-28T00:00:00Z"
    assert state(api, "as-retracted", at) is None
    before = state(api, "as-retracted", at, known=retracted["position"] - 1)
    assert before["controllers"] == [{"slug": "hts"}]


def test_a_confirmed_capture_outranks_a_later_assessment_at_the_same_time(api: InProcess) -> None:
    register(api, "as-tie")
    at = "2024-12-01T00:00:00+03:00"
    capture = data(api, CAPTURE, api.writer_key, places=["as-tie"], by=["hts"], at=at)
    assess(api, ["as-tie"], "HELD", ["syrian-arab-army"], at)
    assert state(api, "as-tie", at)["controllers"] == [{"slug": "syrian-arab-army"}]
    data(
        api,
        """mutation ($id: ID!) { confirm(correction: {incident: $id},
             source: {outlet: "Geolocated video", role: INDEPENDENT}) { position } }""",
        api.writer_key,
        id=capture["recordCapture"]["id"],
    )
    assert state(api, "as-tie", at)["controllers"] == [{"slug": "hts"}]


def test_assessments_are_in_batches_and_out_of_the_feed_unless_asked_for(api: InProcess) -> None:
    register(api, "as-feed-a", "as-feed-b")
    item = """{{assessment: {{incident: {{occurredAt: "2024-11-26T00:00:00Z", places: ["{p}"],
               sources: [{{outlet: "Mapper"}}]}}, details: {{status: HELD,
               holders: ["syrian-arab-army"], tier: {tier}}}}}}}"""
    batch = data(
        api,
        f"""mutation {{ recordBatch(commands: [
              {item.format(p="as-feed-a", tier="CLAIMED")},
              {item.format(p="as-feed-b", tier="CONFIRMED")}]) {{ id }} }}""",
        api.writer_key,
    )["recordBatch"]
    ids = {b["id"] for b in batch}
    feed = "query ($f: IncidentFilter) { incidents(first: 100, filter: $f) { nodes { id } } }"

    api.wait_projected()

    def found(filter_: dict[str, Any] | None) -> set[str]:
        nodes = data(api, feed, f=filter_)["incidents"]["nodes"]
        return {n["id"] for n in nodes} & ids

    assert found(None) == set()  # events only, by default
    assert found({"kinds": ["ASSESSMENT"]}) == ids
    assert len(found({"tiers": ["CONFIRMED"]})) == 1
    assert found({"tiers": ["ASSESSED"]}) == set()
    assert found({"kinds": ["CAPTURE"], "tiers": ["CONFIRMED"]}) == set()


def test_maps_filter_by_assessed_and_geojson_carries_the_flags(api: InProcess) -> None:
    register(api, "as-map")
    assess(api, ["as-map"], "CONTESTED", [], "2024-11-26T00:00:00Z")
    api.wait_projected()
    where = '{governorate: "Assessed", assessed: true}'
    page = data(
        api,
        f"""{{ controlMap(first: 100, asOf: "2024-12-20T00:00:00Z", where: {where})
                  {{ nodes {{ place {{ slug }} state {{ assessed }} }} }} }}""",
    )["controlMap"]
    slugs = {n["place"]["slug"] for n in page["nodes"]}
    assert "as-map" in slugs
    assert all(n["state"]["assessed"] for n in page["nodes"])
    reported = data(api, """{ controlMap(first: 100, asOf: "2024-12-20T00:00:00Z",
                      where: {assessed: false}) { nodes { place { slug } } } }""")  # fmt: skip
    assert "as-map" not in {n["place"]["slug"] for n in reported["controlMap"]["nodes"]}
    raw = data(api, """{ controlMapGeoJson(asOf: "2024-12-20T00:00:00Z",
                 where: {governorate: "Assessed"}) }""")["controlMapGeoJson"]  # fmt: skip
    collection = raw if isinstance(raw, dict) else json.loads(raw)
    feature = next(f for f in collection["features"] if f["id"] == "as-map")
    flags = ("status", "assessed", "abandoned", "country")
    assert {k: feature["properties"][k] for k in flags} == {
        "status": "contested", "assessed": True, "abandoned": True, "country": "Syria",
    }  # fmt: skip
