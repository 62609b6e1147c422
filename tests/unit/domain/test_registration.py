"""Registering places and actors: slugs name them, and registering again is safe."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import uuid4

import pytest

from domain import commands as c
from domain.actors import Actor
from domain.errors import (
    AlreadyExists,
    InvalidCoordinates,
    InvalidInput,
    UnknownActor,
    UnknownPlace,
)
from domain.identity import actor_id, place_id
from domain.places import Place
from domain.values import Coordinates
from domain.vocabulary import ActorKind, PlaceKind

if TYPE_CHECKING:
    from domain.application import Frontline
    from tests.unit.domain.conftest import World


def _place(**overrides: Any) -> c.RegisterPlace:
    fields: dict[str, Any] = dict(
        slug="idlib", name="Idlib", kind=PlaceKind.CITY, coordinates=Coordinates(35.93, 36.63),
        country="Syria", governorate="Idlib",
    )  # fmt: skip
    fields.update(overrides)
    return c.RegisterPlace(**fields)


def _actor(**overrides: Any) -> c.RegisterActor:
    fields: dict[str, Any] = dict(slug="sna", name="Syrian National Army",
                                  kind=ActorKind.ARMED_GROUP, side="opposition")  # fmt: skip
    fields.update(overrides)
    return c.RegisterActor(**fields)


# -- places ---------------------------------------------------------------------------------


def test_a_place_is_registered_under_the_id_of_its_slug(app: Frontline) -> None:
    receipt = app.execute(_place(name="  Idlib ", aliases=("Idleb", "Idleb")))

    place = app.get(receipt.id)
    assert receipt.id == place_id("idlib")
    assert isinstance(place, Place)
    assert (place.slug, place.name, place.country, place.governorate) == (
        "idlib", "Idlib", "Syria", "Idlib",
    )  # fmt: skip
    assert place.kind is PlaceKind.CITY
    assert place.coordinates == Coordinates(35.93, 36.63)
    assert place.aliases == ("Idleb",)
    assert receipt.position == app.head_position() == 1


def test_a_place_may_sit_inside_a_registered_parent(world: World) -> None:
    airport = world.app.get(world.hama_airport)

    assert isinstance(airport, Place)
    assert airport.parent_id == world.hama


def test_a_place_whose_parent_is_unknown_is_refused(app: Frontline) -> None:
    before = app.head_position()

    with pytest.raises(UnknownPlace) as info:
        app.execute(_place(parent=uuid4()))

    assert info.value.code == "UNKNOWN_PLACE"
    assert app.head_position() == before


def test_an_actor_cannot_be_a_places_parent(world: World) -> None:
    with world.refused(UnknownPlace, "UNKNOWN_PLACE"):
        world.app.execute(_place(parent=world.hts))


def test_registering_a_place_again_identically_is_a_replay(world: World) -> None:
    receipt = world.app.execute(_place())
    head = world.app.head_position()

    again = world.app.execute(_place())

    assert (again.id, again.version, again.replayed, again.position) == (
        receipt.id, 1, True, None,
    )  # fmt: skip
    assert world.app.head_position() == head


def test_registering_a_place_again_with_a_new_alias_adds_it(app: Frontline) -> None:
    app.execute(_place(aliases=("Idleb",)))

    receipt = app.execute(_place(aliases=("Idleb", "Edlib", "Idlib")))

    place = app.get(receipt.id)
    assert isinstance(place, Place)
    assert place.aliases == ("Idleb", "Edlib")
    assert (receipt.version, receipt.replayed) == (2, False)
    assert [type(e).__name__ for e in app.history(receipt.id)] == ["Registered", "AliasesAdded"]


@pytest.mark.parametrize(
    "change",
    [
        {"name": "Idleb City"},
        {"kind": PlaceKind.TOWN},
        {"coordinates": Coordinates(35.0, 36.0)},
        {"country": "Turkey"},
        {"governorate": None},
    ],
)
def test_registering_an_existing_place_slug_with_other_details_is_refused(
    app: Frontline, change: dict[str, Any]
) -> None:
    app.execute(_place())
    before = app.head_position()

    with pytest.raises(AlreadyExists) as info:
        app.execute(_place(**change))

    assert info.value.code == "ALREADY_EXISTS"
    assert app.head_position() == before


@pytest.mark.parametrize(
    "slug", ["Hama", "hama--city", "-hama", "hama-", "hama city", "ḥamā", "", "a" * 101]
)
def test_a_bad_slug_is_refused(app: Frontline, slug: str) -> None:
    with pytest.raises(InvalidInput) as info:
        app.execute(_place(slug=slug))

    assert info.value.code == "INVALID_INPUT"
    assert info.value.field == "slug"
    assert app.head_position() == 0


def test_the_longest_slug_allowed_is_accepted(app: Frontline) -> None:
    receipt = app.execute(_place(slug="a" * 100))

    assert receipt.id == place_id("a" * 100)


@pytest.mark.parametrize(
    "change",
    [{"name": ""}, {"name": "   "}, {"name": "x" * 201}, {"country": ""},
     {"governorate": " "}, {"aliases": ("",)}, {"aliases": tuple(f"a{i}" for i in range(51))},
     {"kind": "castle"}],
)  # fmt: skip
def test_a_place_with_bad_fields_is_refused(app: Frontline, change: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as info:
        app.execute(_place(**change))

    assert info.value.code == "INVALID_INPUT"
    assert app.head_position() == 0


def test_a_name_of_exactly_two_hundred_characters_is_accepted(app: Frontline) -> None:
    receipt = app.execute(_place(name="x" * 200))

    place = app.get(receipt.id)
    assert isinstance(place, Place)
    assert place.name == "x" * 200


def test_a_place_without_coordinates_is_refused(app: Frontline) -> None:
    with pytest.raises(InvalidCoordinates) as info:
        app.execute(_place(coordinates=None))

    assert info.value.code == "INVALID_COORDINATES"
    assert app.head_position() == 0


# -- actors ---------------------------------------------------------------------------------


def test_an_actor_is_registered_under_the_id_of_its_slug(app: Frontline) -> None:
    receipt = app.execute(_actor(aliases=("SNA",)))

    actor = app.get(receipt.id)
    assert receipt.id == actor_id("sna")
    assert isinstance(actor, Actor)
    assert (actor.slug, actor.name, actor.side, actor.aliases) == (
        "sna", "Syrian National Army", "opposition", ("SNA",),
    )  # fmt: skip
    assert actor.kind is ActorKind.ARMED_GROUP
    assert actor.coalition_ids == ()


def test_places_and_actors_with_the_same_slug_are_different(app: Frontline) -> None:
    assert place_id("hama") != actor_id("hama")


def test_an_actor_may_belong_to_a_registered_coalition(world: World) -> None:
    hts = world.app.get(world.hts)

    assert isinstance(hts, Actor)
    assert hts.coalition_ids == (world.moc,)


def test_a_coalition_membership_naming_a_non_coalition_is_refused(world: World) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT") as info:
        world.app.execute(_actor(coalitions=(world.saa,)))
    assert info.value.field == "coalitions"


def test_a_coalition_membership_naming_an_unknown_actor_is_refused(world: World) -> None:
    with world.refused(UnknownActor, "UNKNOWN_ACTOR"):
        world.app.execute(_actor(coalitions=(uuid4(),)))


def test_registering_an_actor_again_with_a_new_coalition_joins_it(world: World) -> None:
    world.app.execute(_actor())

    receipt = world.app.execute(_actor(coalitions=(world.moc,)))

    sna = world.app.get(receipt.id)
    assert isinstance(sna, Actor)
    assert sna.coalition_ids == (world.moc,)
    assert (receipt.version, receipt.replayed) == (2, False)
    assert type(world.app.history(receipt.id)[-1]).__name__ == "JoinedCoalition"


def test_registering_an_actor_again_identically_is_a_replay(world: World) -> None:
    world.app.execute(_actor(coalitions=(world.moc,)))
    head = world.app.head_position()

    again = world.app.execute(_actor(coalitions=(world.moc,)))

    assert (again.replayed, again.position) == (True, None)
    assert world.app.head_position() == head


@pytest.mark.parametrize(
    "change",
    [{"name": "SNA"}, {"kind": ActorKind.COALITION}, {"side": "government"}, {"side": None}],
)
def test_registering_an_existing_actor_slug_with_other_details_is_refused(
    world: World, change: dict[str, Any]
) -> None:
    world.app.execute(_actor())

    with world.refused(AlreadyExists, "ALREADY_EXISTS"):
        world.app.execute(_actor(**change))


@pytest.mark.parametrize(
    "change",
    [{"slug": "SNA"}, {"name": ""}, {"name": "x" * 201}, {"side": ""}, {"kind": "militia"},
     {"coalitions": ("not-an-id",)}],
)  # fmt: skip
def test_an_actor_with_bad_fields_is_refused(app: Frontline, change: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as info:
        app.execute(_actor(**change))

    assert info.value.code == "INVALID_INPUT"
    assert app.head_position() == 0


def test_a_batch_of_registrations_with_one_bad_one_registers_nothing(app: Frontline) -> None:
    with pytest.raises(InvalidInput):
        app.execute_batch([_place(), _actor(), _actor(slug="bad slug")])

    assert app.head_position() == 0


def test_a_coalition_cannot_become_a_member_of_itself(world: World) -> None:
    with world.refused(InvalidInput, "INVALID_INPUT"):
        world.app.execute(
            c.RegisterActor("military-operations-command", "Military Operations Command",
                            ActorKind.COALITION, coalitions=(world.moc,))
        )  # fmt: skip


def test_registering_again_where_the_registration_is_not_remembered_still_compares(
    app: Frontline,
) -> None:
    """A batch first assumes that a registration it has not seen is new (it does not read
    it); when the place or actor was there already, the insert conflicts and the batch runs
    again, reading it: the same details replay, an alias is added, other details are
    refused, as if the first attempt had read it. ``known`` is forgotten each time, as by
    another process."""
    app.execute_batch([_place(), _actor()])
    head = app.head_position()

    app.known.clear()
    replays = app.execute_batch([_place(), _actor()])
    assert [r.replayed for r in replays] == [True, True]
    assert app.head_position() == head

    app.known.clear()
    with pytest.raises(AlreadyExists):
        app.execute_batch([_place(name="Idleb")])
    app.known.clear()
    with pytest.raises(AlreadyExists):
        app.execute_batch([_actor(kind=ActorKind.STATE_FORCE)])
    assert app.head_position() == head

    app.known.clear()
    app.execute(_place(aliases=("Idleb",)))
    place = app.get(place_id("idlib"))
    assert isinstance(place, Place)
    assert place.aliases == ("Idleb",)
    assert app.head_position() == head + 1


# -- map colours ----------------------------------------------------------------------------


def test_an_actor_registered_with_a_colour_keeps_it_upper_cased(app: Frontline) -> None:
    receipt = app.execute(_actor(color=" #cc6677 "))

    actor = app.get(receipt.id)
    assert isinstance(actor, Actor)
    assert actor.color == "#CC6677"
    assert [type(e).__name__ for e in app.history(receipt.id)] == ["Registered", "Recolored"]


def test_an_actor_registered_without_a_colour_has_none_of_its_own(app: Frontline) -> None:
    actor = app.get(app.execute(_actor()).id)

    assert isinstance(actor, Actor)
    assert actor.color is None
    assert [type(e).__name__ for e in app.history(actor.id)] == ["Registered"]


def test_registering_an_actor_again_with_a_colour_sets_it_and_the_same_colour_is_a_replay(
    world: World,
) -> None:
    world.app.execute(_actor())

    recolored = world.app.execute(_actor(color="#117733"))
    again = world.app.execute(_actor(color="#117733"))
    kept = world.app.execute(_actor())  # no colour given: the one it has stays

    actor = world.app.get(recolored.id)
    assert isinstance(actor, Actor)
    assert actor.color == "#117733"
    assert (recolored.version, recolored.replayed) == (2, False)
    assert (again.replayed, kept.replayed) == (True, True)


@pytest.mark.parametrize("color", ["red", "#12345", "#1234567", "#GGGGGG", "", "#12345G", 7])
def test_an_actor_with_a_colour_that_is_not_rrggbb_is_refused_and_nothing_is_written(
    world: World, color: Any
) -> None:
    head = world.app.head_position()

    with world.refused(InvalidInput, "INVALID_INPUT") as info:
        world.app.execute(_actor(color=color))

    assert info.value.field == "color"
    assert world.app.head_position() == head
