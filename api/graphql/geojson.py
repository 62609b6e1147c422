"""A control map as GeoJSON (RFC 7946): one Point feature per place."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from readmodel import queries as q


def feature_collection(
    entries: list[q.PlaceControl], actors: Mapping[UUID, q.ActorRow]
) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [_feature(e, actors) for e in entries]}


def _feature(entry: q.PlaceControl, actors: Mapping[UUID, q.ActorRow]) -> dict[str, Any]:
    place, state = entry.place, entry.state
    holders = [actors[a] for a in state.controllers if a in actors] if state else []
    return {
        "type": "Feature",
        "id": place.slug,
        # GeoJSON orders coordinates longitude first.
        "geometry": {"type": "Point", "coordinates": [place.longitude, place.latitude]},
        "properties": {
            "slug": place.slug,
            "name": place.name,
            "kind": place.kind.value,
            "governorate": place.governorate,
            "status": state.status.value if state else "unknown",
            "controllers": [a.slug for a in holders],
            "controllerNames": [a.name for a in holders],
            "sides": sorted({a.side for a in holders if a.side}),
            "since": state.valid_from.isoformat() if state and state.valid_from else None,
            "disputed": bool(state and state.disputed),
            "inferred": bool(state and state.inferred),
            "uncertain": bool(state and state.uncertain),
        },
    }
