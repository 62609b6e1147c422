"""Input types shared by queries and subscriptions: areas and filters."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.graphql import ids
from api.graphql.types.common import AssessmentTier, ClaimStatus, IncidentKind, PlaceKind
from domain.errors import InvalidInput
from readmodel import queries as q


@strawberry.input(description="A bounding box, or a centre and radius in kilometres.")
class AreaInput:
    min_latitude: float | None = None
    min_longitude: float | None = None
    max_latitude: float | None = None
    max_longitude: float | None = None
    latitude: float | None = None
    longitude: float | None = None
    radius_km: float | None = None

    def bbox(self) -> q.BBox | None:
        corners = (self.min_latitude, self.min_longitude, self.max_latitude, self.max_longitude)
        if any(c is None for c in corners):
            return None
        return (corners[0], corners[1], corners[2], corners[3])  # type: ignore[return-value]

    def near(self) -> q.Near | None:
        if self.latitude is None or self.longitude is None or self.radius_km is None:
            return None
        return (self.latitude, self.longitude, self.radius_km)


def area_filters(area: AreaInput | None) -> dict[str, object]:
    """The query filters of an area; a half-given box or circle is refused, not ignored."""
    if area is None:
        return {}
    box = (area.min_latitude, area.min_longitude, area.max_latitude, area.max_longitude)
    circle = (area.latitude, area.longitude, area.radius_km)
    for given in (box, circle):
        if any(v is not None for v in given) and any(v is None for v in given):
            raise InvalidInput(
                "an area is all four bounds of a box and/or a latitude, longitude and radiusKm",
                field="area",
            )
    if all(v is None for v in box + circle):
        raise InvalidInput("an area needs a box or a circle", field="area")
    return {"bbox": area.bbox(), "near": area.near()}


@strawberry.input(description="Filters for the incident feed; all given must hold.")
class IncidentFilter:
    kinds: list[IncidentKind] | None = strawberry.field(
        default=None,
        description="Default: every kind but ASSESSMENT (assessments are observations of a "
        "state, not events: ask for them by kind or by tier).",
    )
    statuses: list[ClaimStatus] | None = None
    tiers: list[AssessmentTier] | None = strawberry.field(
        default=None, description="Only assessments of these tiers."
    )
    min_fatalities: int | None = strawberry.field(
        default=None, description="Only incidents reporting at least this many deaths."
    )
    actor: str | None = strawberry.field(default=None, description="Slug or id.")
    place: str | None = strawberry.field(default=None, description="Slug or id.")
    area: AreaInput | None = None
    governorate: str | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None

    def feed_args(self) -> dict[str, object]:
        return {
            "kinds": self.kinds,
            "statuses": self.statuses,
            "tiers": self.tiers,
            "min_fatalities": self.min_fatalities,
            "actor": None if self.actor is None else ids.actor_ref(self.actor),
            "place": None if self.place is None else ids.place_ref(self.place),
            "governorate": self.governorate,
            "valid_from": self.occurred_from,
            "valid_to": self.occurred_to,
            **area_filters(self.area),
        }


@strawberry.input(description="Which places a control map or change list covers.")
class PlaceFilter:
    area: AreaInput | None = None
    governorate: str | None = None
    kinds: list[PlaceKind] | None = None
    controller: str | None = strawberry.field(
        default=None, description="Only places this actor (slug or id) holds."
    )
    assessed: bool | None = strawberry.field(
        default=None,
        description="true: only places whose state rests only on assessments; false: only "
        "those resting on at least one reported incident (changes: judged by the later state).",
    )

    def map_args(self) -> dict[str, object]:
        return {
            "governorate": self.governorate,
            "kinds": self.kinds,
            "controller": None if self.controller is None else ids.actor_ref(self.controller),
            "assessed": self.assessed,
            **area_filters(self.area),
        }
