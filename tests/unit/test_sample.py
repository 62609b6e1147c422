"""The bundled sample (the Dec 2024 Hama reports): it parses, loads atomically and
idempotently, and records what the article says."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.actors import Actor
from domain.application import Frontline
from domain.commands import RecordIncident, RegisterActor, RegisterPlace
from domain.details import AircraftLoss, AnticipatedOperation, Capture, Statement, Withdrawal
from domain.identity import actor_id, incident_id, place_id
from domain.incidents import Incident
from domain.places import Place
from domain.vocabulary import (
    ActorKind,
    AircraftOutcome,
    IncidentKind,
    PlaceKind,
    SpeakerRole,
    TimePrecision,
)
from frontline.sample import SampleError, load_sample, parse_sample, read_sample

SYRIA = timedelta(hours=3)


def make_app() -> Frontline:
    return Frontline(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


@pytest.fixture
def app() -> Frontline:
    return make_app()


@pytest.fixture
def loaded(app: Frontline) -> Frontline:
    load_sample(app)
    return app


@pytest.fixture
def data() -> dict[str, Any]:
    return read_sample()


def incident(app: Frontline, key: str) -> Incident:
    return app.get_incident(incident_id(key))


def place(app: Frontline, slug: str) -> Place:
    found = app.get(place_id(slug))
    assert isinstance(found, Place)
    return found


def actor(app: Frontline, slug: str) -> Actor:
    found = app.get(actor_id(slug))
    assert isinstance(found, Actor)
    return found


# -- parsing and loading ----------------------------------------------------------------------


def test_bundled_sample_parses_places_then_actors_then_incidents(data: dict[str, Any]) -> None:
    commands = parse_sample(data)
    kinds = [type(c) for c in commands]
    places, actors = kinds.count(RegisterPlace), kinds.count(RegisterActor)
    assert places == len(data["places"])
    assert actors == len(data["actors"])
    assert kinds.count(RecordIncident) == len(data["incidents"])
    assert kinds == sorted(kinds, key=[RegisterPlace, RegisterActor, RecordIncident].index)


def test_every_incident_has_a_key_and_cites_a_quoted_source(data: dict[str, Any]) -> None:
    incidents = [c for c in parse_sample(data) if isinstance(c, RecordIncident)]
    assert all(c.key and c.key.startswith("sample/") for c in incidents)
    assert len({c.key for c in incidents}) == len(incidents)
    for command in incidents:
        assert command.sources, command.key
        assert all(s.quote for s in command.sources), command.key


def test_load_appends_every_command_once(app: Frontline, data: dict[str, Any]) -> None:
    appended = load_sample(app)
    assert appended == len(parse_sample(data))
    assert app.head_position() == appended


def test_loading_twice_appends_nothing_the_second_time(app: Frontline) -> None:
    load_sample(app)
    head = app.head_position()
    assert load_sample(app) == 0
    assert app.head_position() == head


def test_load_from_a_path_with_places_out_of_order(
    app: Frontline, data: dict[str, Any], tmp_path: Path
) -> None:
    shuffled = copy.deepcopy(data)
    shuffled["places"].reverse()  # children (airport, villages) before their parents
    shuffled["actors"].reverse()
    path = tmp_path / "sample.json"
    path.write_text(json.dumps(shuffled), encoding="utf-8")
    assert load_sample(app, path) == len(parse_sample(data))
    assert place(app, "hama-military-airport").parent_id == place_id("hama")


def test_a_bad_record_writes_nothing(app: Frontline, data: dict[str, Any], tmp_path: Path) -> None:
    broken = copy.deepcopy(data)
    # Valid JSON and a valid command, refused only when executed: the batch is atomic.
    broken["incidents"][-1]["valid_time"] = {"start": "2999-01-01T00:00:00+03:00"}
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(Exception, match="future"):
        load_sample(app, path)
    assert app.head_position() == 0


# -- errors name the record ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["incidents"][0].update(colour="red"),
            r"incidents\[0\] 'sample/hama-captured'.*colour",
        ),
        (
            lambda d: d["incidents"][0]["details"].update(by_whom=["hts"]),
            r"sample/hama-captured.*by_whom",
        ),
        (
            lambda d: d["incidents"][1].update(kind="massacre"),
            r"incidents\[1\].*unknown kind 'massacre'",
        ),
        (
            lambda d: d["incidents"][0].update(places=["atlantis"]),
            r"sample/hama-captured.*unknown place 'atlantis'",
        ),
        (lambda d: d["incidents"][0]["details"].update(by=["nobody"]), r"unknown actor 'nobody'"),
        (
            lambda d: d["incidents"][0]["sources"][0].update(source="rumour"),
            r"unknown source 'rumour'",
        ),
        (lambda d: d["incidents"][0].pop("key"), r"incidents\[0\].*idempotency 'key'"),
        (
            lambda d: d["incidents"][0].update(sources=[]),
            r"sample/hama-captured.*at least one source",
        ),
        (
            lambda d: d["places"][0].update(population=1),
            r"places\[0\] 'hama-governorate'.*population",
        ),
        (lambda d: d["places"][1].update(kind="metropolis"), r"places\[1\] 'hama'.*'metropolis'"),
        (
            lambda d: d["actors"][2].update(kind="militia"),
            r"actors\[2\] 'anti-regime-factions'.*'militia'",
        ),
        (lambda d: d["places"][2].update(slug="Hama Airport"), r"places\[2\] 'Hama Airport'.*slug"),
        (
            lambda d: d["actors"][0].update(flag="x"),
            r"actors\[0\] 'military-operations-command'.*flag",
        ),
        (lambda d: d["sources"]["article"].update(role="gossip"), r"sources\['article'\]"),
        (
            lambda d: d["incidents"][0]["valid_time"].update(start="2024-12-05T00:00:00"),
            r"sample/hama-captured.*UTC offset",
        ),
        (lambda d: d.update(extra=1), r"unknown key.*'extra'.* in sample"),
    ],
)
def test_malformed_records_are_named(data: dict[str, Any], change: Any, message: str) -> None:
    broken = copy.deepcopy(data)
    change(broken)
    with pytest.raises(SampleError, match=message):
        parse_sample(broken)


def test_duplicate_keys_are_refused(data: dict[str, Any]) -> None:
    broken = copy.deepcopy(data)
    broken["incidents"][1]["key"] = broken["incidents"][0]["key"]
    with pytest.raises(SampleError, match="used twice"):
        parse_sample(broken)


# -- what the article says -------------------------------------------------------------------


def test_hama_captured_by_hts_from_the_army_on_5_december(loaded: Frontline) -> None:
    hama = incident(loaded, "sample/hama-captured")
    assert isinstance(hama.details, Capture)
    assert actor_id("hts") in hama.details.by
    assert hama.details.taken_from == actor_id("syrian-arab-army")
    assert hama.place_ids == (place_id("hama"),)
    assert hama.valid_time.precision is TimePrecision.DAY
    assert hama.valid_time.start.date() == date(2024, 12, 5)
    assert hama.valid_time.start.utcoffset() == SYRIA
    roles = {s.role for s in hama.sources}
    assert {SpeakerRole.INDEPENDENT, SpeakerRole.PARTY} <= roles


def test_army_withdraws_and_redeploys_to_the_outskirts(loaded: Frontline) -> None:
    withdrawal = incident(loaded, "sample/hama-army-withdraws")
    assert isinstance(withdrawal.details, Withdrawal)
    assert withdrawal.details.actor == actor_id("syrian-arab-army")
    assert withdrawal.details.redeployment
    assert withdrawal.details.to_description == "the outskirts of Hama"
    assert withdrawal.sources[0].channel == "written_statement"


def test_clashes_since_27_november_are_a_range(loaded: Frontline) -> None:
    clashes = incident(loaded, "sample/clashes-since-nov-27")
    assert clashes.kind is IncidentKind.CLASH
    assert clashes.valid_time.precision is TimePrecision.RANGE
    assert clashes.valid_time.start.date() == date(2024, 11, 27)


def test_russian_air_support_for_the_regime(loaded: Frontline) -> None:
    strike = incident(loaded, "sample/russian-air-support")
    assert strike.kind is IncidentKind.AIR_STRIKE
    assert strike.details.by == actor_id("russian-aerospace-forces")  # type: ignore[attr-defined]
    assert strike.details.in_support_of == actor_id("syrian-arab-army")  # type: ignore[attr-defined]
    assert actor(loaded, "russian-aerospace-forces").kind is ActorKind.FOREIGN_MILITARY


def test_helicopters_destroyed_and_forced_to_land_from_hama_airport(loaded: Frontline) -> None:
    outcomes = set()
    for key in ("sample/helicopter-shot-down", "sample/helicopter-emergency-landing"):
        loss = incident(loaded, key).details
        assert isinstance(loss, AircraftLoss)
        assert loss.origin == place_id("hama-military-airport")
        assert loss.aircraft == "helicopter"
        outcomes.add(loss.outcome)
    assert outcomes == {AircraftOutcome.DESTROYED, AircraftOutcome.EMERGENCY_LANDING}


def test_four_villages_west_of_hama_each_captured(loaded: Frontline) -> None:
    hama = place(loaded, "hama")
    for slug in ("erze", "al-wahshiyya", "kafrtun", "yadgun"):
        capture = incident(loaded, f"sample/{slug}-captured")
        assert capture.kind is IncidentKind.CAPTURE
        assert capture.place_ids == (place_id(slug),)
        village = place(loaded, slug)
        assert village.kind is PlaceKind.VILLAGE
        assert village.coordinates.longitude < hama.coordinates.longitude  # west of the city
    clash = incident(loaded, "sample/clash-west-of-hama")
    assert len(clash.place_ids) == 4


def test_advance_towards_the_airport_southwest_of_the_city(loaded: Frontline) -> None:
    advance = incident(loaded, "sample/advance-towards-hama-airport")
    assert advance.details.objective == place_id("hama-military-airport")  # type: ignore[attr-defined]
    airport, hama = place(loaded, "hama-military-airport"), place(loaded, "hama")
    assert airport.kind is PlaceKind.AIRBASE
    assert airport.parent_id == hama.id
    assert airport.coordinates.latitude < hama.coordinates.latitude
    assert airport.coordinates.longitude < hama.coordinates.longitude


def test_statements_keep_their_words(loaded: Frontline) -> None:
    ghani = incident(loaded, "sample/abdul-ghani-statement").details
    assert isinstance(ghani, Statement)
    assert ghani.channel == "x"
    assert "returned it to its rightful owners" in ghani.quote
    jolani = incident(loaded, "sample/jolani-video")
    assert isinstance(jolani.details, Statement)
    assert "no revenge" in jolani.details.quote
    assert jolani.details.speaker_actor == actor_id("hts")
    assert any(s.quote == "no revenge" for s in jolani.sources)


def test_aleppo_taken_on_1_december(loaded: Frontline) -> None:
    aleppo = incident(loaded, "sample/aleppo-captured")
    assert aleppo.kind is IncidentKind.CAPTURE
    assert aleppo.valid_time.precision is TimePrecision.DAY
    assert aleppo.valid_time.start.date() == date(2024, 12, 1)


def test_homs_offensive_is_only_anticipated(loaded: Frontline) -> None:
    homs = incident(loaded, "sample/homs-offensive-anticipated")
    assert isinstance(homs.details, AnticipatedOperation)
    assert homs.details.objective == place_id("homs")
    assert homs.sources[0].role is SpeakerRole.LOCAL_SOURCES


def test_places_and_actors(loaded: Frontline) -> None:
    assert "Kafr Tun" in place(loaded, "kafrtun").aliases
    assert "Hamah" in place(loaded, "hama").aliases
    assert place(loaded, "hama").parent_id == place_id("hama-governorate")
    assert place(loaded, "hama-governorate").kind is PlaceKind.REGION
    assert all(place(loaded, s).country == "Syria" for s in ("hama", "aleppo", "homs", "damascus"))
    hts = actor(loaded, "hts")
    assert "Nusra Front" in hts.aliases
    assert hts.coalition_ids == (actor_id("military-operations-command"),)
    assert actor(loaded, "military-operations-command").kind is ActorKind.COALITION
    assert actor(loaded, "syrian-arab-army").kind is ActorKind.STATE_FORCE
    assert {actor(loaded, s).side for s in ("hts", "anti-regime-factions")} == {"opposition"}
    assert actor(loaded, "syrian-arab-army").side == "government"


def test_every_loaded_incident_cites_a_source(loaded: Frontline, data: dict[str, Any]) -> None:
    for record in data["incidents"]:
        assert incident(loaded, record["key"]).sources, record["key"]
