"""The read API through the schema (the wire is tests/e2e's), against the bundled sample (the
seed article on Hama)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.support.graphql_client import ask, codes, data, incident
from tests.support.in_process import InProcess

pytestmark = pytest.mark.slow


DEC_1 = "2024-12-01T12:00:00+03:00"
NOV_30 = "2024-11-30T00:00:00+03:00"
DEC_6 = "2024-12-06T00:00:00+03:00"
HAMA_AREA = "{minLatitude: 35.10, minLongitude: 36.60, maxLatitude: 35.20, maxLongitude: 36.80}"
HAMA_CIRCLE = "{latitude: 35.1318, longitude: 36.7578, radiusKm: 5}"
VILLAGES = {"erze", "al-wahshiyya", "kafrtun", "yadgun"}


def slugs(actors: list[dict[str, str]]) -> set[str]:
    return {a["slug"] for a in actors}


def control_map(api: InProcess, where: str = "", first: int = 100, after: str = "") -> dict:
    args = f'first: {first}, asOf: "{DEC_1}"'
    args += f", where: {where}" if where else ""
    args += f', after: "{after}"' if after else ""
    query = f"""{{ controlMap({args}) {{
        edges {{ cursor node {{ place {{ slug }}
          state {{ status inferred controllers {{ slug }} }} }} }}
        pageInfo {{ hasNextPage endCursor }} }} }}"""
    result: dict = data(api, query)["controlMap"]
    return result


def map_slugs(api: InProcess, where: str) -> set[str]:
    return {e["node"]["place"]["slug"] for e in control_map(api, where)["edges"]}


# -- control at a place --------------------------------------------------------------------


def test_hama_is_held_now_by_hts_led_forces_with_sourced_evidence(api: InProcess) -> None:
    state = data(
        api,
        """{ controlAt(place: "hama") { status disputed validFrom
             controllers { slug } evidence { kind sources { outlet quote } } } }""",
    )["controlAt"]
    assert state["status"] == "HELD"
    assert slugs(state["controllers"]) == {"hts", "military-operations-command"}
    assert state["validFrom"].startswith("2024-12-04T21:00:00")  # 5 Dec, 00:00 in UTC+3
    sources = [s for e in state["evidence"] for s in e["sources"]]
    assert any("Hama has fallen" in (s["quote"] or "") for s in sources)


def test_on_1_dec_2024_hama_was_still_held_by_the_army_as_inferred(api: InProcess) -> None:
    state = data(
        api,
        f'{{ controlAt(place: "hama", asOf: "{DEC_1}") '
        "{ status inferred controllers { slug } } }",
    )["controlAt"]
    assert state == {
        "status": "HELD",
        "inferred": True,
        "controllers": [{"slug": "syrian-arab-army"}],
    }


def test_known_at_before_the_sample_was_recorded_knows_nothing(api: InProcess) -> None:
    result = data(
        api,
        '{ controlAt(place: "hama", knownAt: "2024-12-04T12:00:00+03:00") { status } }',
    )
    assert result["controlAt"] is None


def test_known_at_before_a_retraction_still_shows_the_retracted_capture(api: InProcess) -> None:
    """Record a capture, retract it; asked as known between the two, the capture holds."""
    data(
        api,
        """mutation { registerPlace(input: {slug: "knownat-town", name: "Knownat Town",
             kind: TOWN, latitude: 35.0, longitude: 36.0, country: "Syria"}) { position } }""",
        key=api.writer_key,
    )
    recorded = data(
        api,
        f"""mutation {{ recordCapture(incident: {
            incident("2024-12-07T10:00:00+03:00", ["knownat-town"])
        }, details: {{by: ["hts"]}}) {{ id position }} }}""",
        key=api.writer_key,
    )["recordCapture"]
    retracted = data(
        api,
        """mutation ($id: ID!) { retract(correction: {incident: $id}, reason: "fabricated") {
             position incident { history { type position recordedAt } } } }""",
        key=api.writer_key,
        id=recorded["id"],
    )["retract"]
    history = retracted["incident"]["history"]
    assert [h["type"] for h in history] == ["Recorded", "Retracted"]
    recorded_at = datetime.fromisoformat(history[0]["recordedAt"])
    query = """query ($k: DateTime) { fresh(position: %d) {
        controlAt(place: "knownat-town", asOf: "2024-12-08T00:00:00+03:00", knownAt: $k) {
          status controllers { slug } } } }"""
    ask_at = query % retracted["position"]

    def at(known_at: datetime | None) -> dict | None:
        k = None if known_at is None else known_at.isoformat()
        state: dict | None = data(api, ask_at, k=k)["fresh"]["controlAt"]
        return state

    assert at(None) is None  # retracted: it no longer counts
    assert at(recorded_at) == {"status": "HELD", "controllers": [{"slug": "hts"}]}
    assert at(recorded_at - timedelta(microseconds=1)) is None  # not yet recorded


def test_hamas_control_history_is_the_army_then_hts_led_forces(api: InProcess) -> None:
    history = data(
        api,
        """{ controlHistory(place: "hama") { status validFrom validTo inferred
             controllers { slug } } }""",
    )["controlHistory"]
    assert [slugs(h["controllers"]) for h in history] == [
        {"syrian-arab-army"},
        {"hts", "military-operations-command"},
    ]
    assert history[0]["validFrom"] is None
    assert history[0]["inferred"] is True
    assert history[0]["validTo"] == history[1]["validFrom"]
    assert history[1]["validTo"] is None


# -- the control map -----------------------------------------------------------------------


def test_control_map_on_1_dec_2024_shows_aleppo_taken_and_hama_still_held(api: InProcess) -> None:
    edges = control_map(api)["edges"]
    by_slug = {e["node"]["place"]["slug"]: e["node"]["state"] for e in edges}
    assert slugs(by_slug["aleppo"]["controllers"]) == {"anti-regime-factions"}
    assert slugs(by_slug["hama"]["controllers"]) == {"syrian-arab-army"}
    for village in VILLAGES:
        assert slugs(by_slug[village]["controllers"]) == {"syrian-arab-army"}
    assert by_slug["homs"] is None  # anticipated, never a fact
    assert by_slug["damascus"] is None


def test_control_map_filters_by_bounding_box(api: InProcess) -> None:
    assert map_slugs(api, f"{{area: {HAMA_AREA}}}") == {
        "hama",
        "hama-military-airport",
        *VILLAGES,
    }


def test_control_map_filters_by_radius_around_a_point(api: InProcess) -> None:
    assert map_slugs(api, f"{{area: {HAMA_CIRCLE}}}") == {"hama", "hama-military-airport"}


def test_control_map_filters_by_governorate_kind_and_controller(api: InProcess) -> None:
    assert map_slugs(api, '{governorate: "Aleppo"}') == {"aleppo"}
    assert map_slugs(api, "{kinds: [VILLAGE]}") == VILLAGES
    assert map_slugs(api, '{controller: "anti-regime-factions"}') == {"aleppo"}
    assert map_slugs(api, '{controller: "syrian-arab-army", kinds: [CITY]}') == {"hama"}


def test_half_an_area_is_refused_rather_than_ignored(api: InProcess) -> None:
    body = ask(api, "{ controlMap(first: 5, where: {area: {minLatitude: 35}}) { __typename } }")
    assert codes(body) == ["INVALID_INPUT"]


def test_control_map_pages_with_cursors_through_every_place(api: InProcess) -> None:
    everything = [e["node"]["place"]["slug"] for e in control_map(api)["edges"]]
    seen: list[str] = []
    after = ""
    while True:
        page = control_map(api, first=3, after=after)
        seen += [e["node"]["place"]["slug"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == everything
    assert len(everything) >= 10


@pytest.mark.parametrize("first", [0, -1, 101, 1000])
def test_control_map_page_size_must_be_1_to_100(api: InProcess, first: int) -> None:
    body = ask(api, f"{{ controlMap(first: {first}) {{ pageInfo {{ hasNextPage }} }} }}")
    assert codes(body) == ["INVALID_PAGE_SIZE"]


@pytest.mark.parametrize(
    "query",
    [
        "{ places(first: 101) { __typename } }",
        '{ places(first: 101, search: "hama") { __typename } }',
        "{ actors(first: 101) { __typename } }",
        "{ incidents(first: 101) { __typename } }",
        "{ log(first: 101) { __typename } }",
        '{ place(ref: "hama") { incidents(first: 101) { __typename } } }',
        '{ actor(ref: "hts") { incidents(first: 101) { __typename } } }',
    ],
)
def test_every_paged_list_refuses_more_than_100_items(api: InProcess, query: str) -> None:
    assert codes(ask(api, query)) == ["INVALID_PAGE_SIZE"]


def test_control_map_as_geojson_is_a_feature_collection_in_lon_lat_order(api: InProcess) -> None:
    geo = data(api, f'{{ controlMapGeoJson(asOf: "{DEC_1}") }}')["controlMapGeoJson"]
    assert geo["type"] == "FeatureCollection"
    features = {f["properties"]["slug"]: f for f in geo["features"]}
    hama = features["hama"]
    assert hama["type"] == "Feature"
    assert hama["geometry"] == {"type": "Point", "coordinates": [36.7578, 35.1318]}
    assert hama["properties"]["controllers"] == ["syrian-arab-army"]
    assert features["homs"]["properties"]["status"] == "unknown"
    for feature in geo["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert -180 <= lon <= 180
        assert -90 <= lat <= 90


def test_changes_between_30_nov_and_6_dec_list_every_hand_over(api: InProcess) -> None:
    changes = data(
        api,
        f"""{{ changes(from: "{NOV_30}", to: "{DEC_6}") {{ place {{ slug }}
             before {{ controllers {{ slug }} }} after {{ controllers {{ slug }} }} }} }}""",
    )["changes"]
    by_slug = {c["place"]["slug"]: c for c in changes}
    assert {"aleppo", "hama", *VILLAGES} <= set(by_slug)
    assert slugs(by_slug["hama"]["before"]["controllers"]) == {"syrian-arab-army"}
    assert slugs(by_slug["hama"]["after"]["controllers"]) == {"hts", "military-operations-command"}
    assert "damascus" not in by_slug


# -- places, actors, global ids ------------------------------------------------------------


def test_places_search_matches_aliases_and_node_round_trips_the_global_id(api: InProcess) -> None:
    found = data(api, '{ places(first: 5, search: "Hamah") { nodes { id slug } } }')
    first = found["places"]["nodes"][0]
    assert first["slug"] == "hama"
    node = data(
        api,
        "query ($id: ID!) { node(id: $id) { __typename id ... on Place { slug name } } }",
        id=first["id"],
    )["node"]
    assert node == {"__typename": "Place", "id": first["id"], "slug": "hama", "name": "Hama"}


def test_actors_search_finds_hts_by_its_former_name(api: InProcess) -> None:
    found = data(api, '{ actors(first: 5, search: "nusra") { nodes { id slug } } }')
    hts = found["actors"]["nodes"][0]
    assert hts["slug"] == "hts"
    node = data(
        api, "query ($id: ID!) { node(id: $id) { ... on Actor { slug kind } } }", id=hts["id"]
    )["node"]
    assert node == {"slug": "hts", "kind": "ARMED_GROUP"}


def test_an_incident_round_trips_through_node_and_incident(api: InProcess) -> None:
    first = data(api, "{ incidents(first: 1) { nodes { id kind } } }")["incidents"]["nodes"][0]
    by_node = data(
        api, "query ($id: ID!) { node(id: $id) { ... on Incident { kind } } }", id=first["id"]
    )["node"]
    by_incident = data(api, "query ($id: ID!) { incident(id: $id) { id kind } }", id=first["id"])[
        "incident"
    ]
    assert by_node["kind"] == first["kind"] == by_incident["kind"]
    assert by_incident["id"] == first["id"]


def test_a_place_id_is_not_an_incident_id(api: InProcess) -> None:
    place = data(api, '{ place(ref: "hama") { id } }')["place"]
    body = ask(api, "query ($id: ID!) { incident(id: $id) { id } }", id=place["id"])
    assert codes(body) == ["INVALID_ID"]


# -- the incident feed ---------------------------------------------------------------------


def feed(api: InProcess, first: int, after: str | None, log_order: bool, flt: str = "") -> dict:
    query = """query ($first: Int!, $after: String, $logOrder: Boolean!) {
        incidents(first: $first, after: $after, logOrder: $logOrder %s) {
          edges { cursor node { id kind occurredAt recordedPosition } }
          pageInfo { hasNextPage endCursor } } }""" % (f", filter: {flt}" if flt else "")
    page: dict = data(api, query, first=first, after=after, logOrder=log_order)["incidents"]
    return page


@pytest.mark.parametrize("log_order", [False, True])
def test_the_incident_feed_pages_without_gaps_or_duplicates(
    api: InProcess, log_order: bool
) -> None:
    everything = [e["node"]["id"] for e in feed(api, 100, None, log_order)["edges"]]
    seen: list[str] = []
    after = None
    while True:
        page = feed(api, 4, after, log_order)
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == everything
    assert len(everything) >= 17


def test_the_recent_feed_is_latest_first_and_the_log_feed_is_in_record_order(
    api: InProcess,
) -> None:
    recent = [e["node"] for e in feed(api, 100, None, False)["edges"]]
    logged = [e["node"] for e in feed(api, 100, None, True)["edges"]]
    assert [n["occurredAt"] for n in recent] == sorted(
        (n["occurredAt"] for n in recent), reverse=True
    )
    positions = [n["recordedPosition"] for n in logged]
    assert positions == sorted(positions)


def test_a_cursor_of_one_order_is_refused_by_the_other(api: InProcess) -> None:
    cursor = feed(api, 1, None, False)["pageInfo"]["endCursor"]
    query = "query ($a: String) { incidents(first: 1, after: $a, logOrder: true) { __typename } }"
    body = ask(api, query, a=cursor)
    assert codes(body) == ["INVALID_CURSOR"]


def test_the_feed_filters_by_kind_place_actor_and_window(api: InProcess) -> None:
    helicopters = feed(api, 100, None, False, '{kinds: [AIRCRAFT_LOSS], place: "hama"}')
    assert len(helicopters["edges"]) == 2
    aleppo = feed(api, 100, None, False, '{place: "aleppo"}')
    assert [e["node"]["kind"] for e in aleppo["edges"]] == ["CAPTURE"]
    by_russia = feed(api, 100, None, False, '{actor: "russian-aerospace-forces"}')
    assert {e["node"]["kind"] for e in by_russia["edges"]} == {"AIR_STRIKE"}
    window = '{occurredFrom: "2024-12-01T00:00:00+03:00", occurredTo: "2024-12-02T00:00:00+03:00"}'
    kinds = {e["node"]["kind"] for e in feed(api, 100, None, False, window)["edges"]}
    assert "CAPTURE" in kinds  # Aleppo, 1 Dec
    in_aleppo = feed(api, 100, None, False, '{governorate: "Aleppo"}')
    assert len(in_aleppo["edges"]) == 1


def test_the_helicopters_are_told_apart_by_their_details(api: InProcess) -> None:
    nodes = data(
        api,
        """{ incidents(first: 10, filter: {kinds: [AIRCRAFT_LOSS]}) { nodes {
             details { ... on AircraftLossDetails { aircraft outcome count
               operator { slug } claimedBy { slug } origin { slug } } } } } }""",
    )["incidents"]["nodes"]
    details = sorted((n["details"] for n in nodes), key=lambda d: d["outcome"])
    assert [d["outcome"] for d in details] == ["DESTROYED", "EMERGENCY_LANDING"]
    for d in details:
        assert d["aircraft"] == "helicopter"
        assert d["operator"] == {"slug": "syrian-arab-army"}
        assert d["origin"] == {"slug": "hama-military-airport"}


def test_the_anticipated_homs_offensive_is_a_claim_not_a_control_change(api: InProcess) -> None:
    result = data(
        api,
        """{ incidents(first: 5, filter: {kinds: [ANTICIPATED_OPERATION]}) { nodes {
               places { slug } details { ... on AnticipatedOperationDetails {
                 description objective { slug } actor { slug } } } } }
             controlAt(place: "homs") { status } }""",
    )
    [offensive] = result["incidents"]["nodes"]
    assert offensive["places"] == [{"slug": "homs"}]
    assert offensive["details"]["objective"] == {"slug": "homs"}
    assert result["controlAt"] is None


# -- the raw log ---------------------------------------------------------------------------


def test_the_raw_log_pages_by_position_without_gaps(api: InProcess) -> None:
    positions: list[int] = []
    after = None
    while True:
        page = data(
            api,
            """query ($after: String) { log(first: 7, after: $after) {
                 edges { cursor node { position recordedAt type aggregateId data } }
                 pageInfo { hasNextPage endCursor } } }""",
            after=after,
        )["log"]
        positions += [e["node"]["position"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert positions == list(range(1, len(positions) + 1))
    assert len(positions) >= 32


def test_the_log_names_each_event_and_its_aggregate(api: InProcess) -> None:
    first = data(api, "{ log(first: 1) { nodes { type aggregateId data } } }")["log"]
    entry = first["nodes"][0]
    assert entry["type"] == "Place.Registered"
    node = data(api, "query ($id: ID!) { node(id: $id) { __typename } }", id=entry["aggregateId"])
    assert node["node"] == {"__typename": "Place"}


def test_a_log_cursor_that_is_not_a_position_is_refused(api: InProcess) -> None:
    assert codes(ask(api, '{ log(first: 1, after: "abc") { __typename } }')) == ["INVALID_CURSOR"]


# -- actors: gains, losses, aircraft -------------------------------------------------------


def test_hts_gained_hama_between_30_nov_and_6_dec(api: InProcess) -> None:
    result = data(
        api,
        f"""{{ hts: actor(ref: "hts") {{ gainsAndLosses(from: "{NOV_30}", to: "{DEC_6}") {{
               gained {{ place {{ slug }} }}
               lost {{ place {{ slug }} }} }} }}
             army: actor(ref: "syrian-arab-army") {{ gainsAndLosses(from: "{NOV_30}",
               to: "{DEC_6}") {{ gained {{ place {{ slug }} }}
               lost {{ place {{ slug }} }} }} }} }}""",
    )
    hts = result["hts"]["gainsAndLosses"]
    assert [g["place"]["slug"] for g in hts["gained"]] == ["hama"]
    assert hts["lost"] == []
    army = result["army"]["gainsAndLosses"]
    assert {g["place"]["slug"] for g in army["lost"]} == {"hama", *VILLAGES}
    assert army["gained"] == []


def test_aircraft_tallies_count_both_helicopters_against_the_army(api: InProcess) -> None:
    result = data(
        api,
        """{ army: actor(ref: "syrian-arab-army") { aircraft { lostTotal downedTotal
               lost { outcome count } } }
             rebels: actor(ref: "anti-regime-factions") { aircraft { lostTotal downedTotal } } }""",
    )
    army = result["army"]["aircraft"]
    assert army["lostTotal"] == 2
    assert army["downedTotal"] == 0
    lost = {o["outcome"]: o["count"] for o in army["lost"]}
    assert lost["DESTROYED"] == 1
    assert lost["EMERGENCY_LANDING"] == 1
    assert result["rebels"]["aircraft"] == {"lostTotal": 0, "downedTotal": 2}


def test_occurrence_span_is_when_the_first_and_the_last_standing_incident_began(
    api: InProcess,
) -> None:
    span = data(api, "{ occurrenceSpan { first last } }")["occurrenceSpan"]
    every_kind = (
        "[CAPTURE, WITHDRAWAL, AIRCRAFT_LOSS, CLASH, ADVANCE, AIR_STRIKE, STRIKE, STATEMENT,"
        " ANTICIPATED_OPERATION, ASSESSMENT, OTHER]"
    )
    fields = "nodes { occurredAt status }"
    query = f"{{ incidents(first: 100, filter: {{kinds: {every_kind}}}) {{ {fields} }} }}"
    feed = data(api, query)["incidents"]["nodes"]
    # Retracted incidents do not count: a mistyped date, retracted, must not stretch it.
    started = sorted(
        datetime.fromisoformat(n["occurredAt"]) for n in feed if n["status"] != "RETRACTED"
    )
    assert len(feed) < 100  # the whole sample
    assert datetime.fromisoformat(span["first"]) == started[0]
    assert datetime.fromisoformat(span["last"]) == started[-1]
