"""The Place aggregate: somewhere control can be held, lost or fought over."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.identity import place_id
from domain.values import Coordinates, clean_name, clean_names
from domain.vocabulary import PlaceKind


class Place(Aggregate):
    @staticmethod
    def create_id(slug: str) -> UUID:
        return place_id(slug)

    @event("Registered")
    def __init__(
        self,
        slug: str,
        name: str,
        kind: PlaceKind,
        coordinates: Coordinates,
        country: str,
        governorate: str | None,
        aliases: tuple[str, ...],
        parent_id: UUID | None,
    ) -> None:
        self.slug = slug
        self.name = name
        self.kind = PlaceKind(kind)
        self.coordinates = coordinates
        self.country = country
        self.governorate = governorate
        self.aliases = tuple(aliases)
        self.parent_id = parent_id

    def add_aliases(self, aliases: tuple[str, ...]) -> None:
        new = tuple(a for a in clean_names(aliases, "aliases") if a not in self.names)
        if new:
            self._add_aliases(aliases=new)

    @event("AliasesAdded")
    def _add_aliases(self, aliases: tuple[str, ...]) -> None:
        self.aliases = self.aliases + tuple(aliases)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def registration(self) -> dict[str, Any]:
        """The attributes a re-registration must match to count as the same request."""
        return {
            "slug": self.slug,
            "name": self.name,
            "kind": self.kind,
            "coordinates": self.coordinates,
            "country": self.country,
            "governorate": self.governorate,
            "parent_id": self.parent_id,
        }


def clean_place_fields(
    name: str, country: str, governorate: str | None, aliases: Any
) -> tuple[str, str, str | None, tuple[str, ...]]:
    return (
        clean_name(name, "name"),
        clean_name(country, "country"),
        None if governorate is None else clean_name(governorate, "governorate"),
        clean_names(aliases, "aliases"),
    )
