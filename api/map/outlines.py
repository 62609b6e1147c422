"""Country outlines for the map's offline base layer, from the ``countryinfo`` wheel.

The wheel keeps one JSON file a country, each with a GeoJSON FeatureCollection under
``geoJSON``; we read those files as data (none of its code is imported) and merge them once
into one FeatureCollection. Coordinates are rounded to 3 decimals (about 100 m): the outlines
are a backdrop for places, and the rounding takes a third off the bytes every page load
fetches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any, Final

import orjson

PACKAGE: Final = "countryinfo"
DIGITS: Final = 3

Ring = list[tuple[float, float]]


@dataclass(frozen=True, slots=True)
class Outline:
    """One country: its name, ISO code, polygons as rings of (lon, lat), and bounding box."""

    name: str
    iso: str
    polygons: tuple[tuple[Ring, ...], ...]
    bbox: tuple[float, float, float, float]  # west, south, east, north


@cache
def outlines() -> tuple[Outline, ...]:
    """Every country the wheel outlines, by name."""
    found: list[Outline] = []
    for entry in (files(PACKAGE) / "data").iterdir():
        if not entry.name.endswith(".json"):
            continue
        info = json.loads(entry.read_text(encoding="utf-8"))
        for feature in (info.get("geoJSON") or {}).get("features", ()):
            outline = _outline(feature, info)
            if outline is not None:
                found.append(outline)
    if not found:
        raise RuntimeError(f"{PACKAGE} is installed without its outlines")
    return tuple(sorted(found, key=lambda o: o.name))


@cache
def outlines_geojson() -> bytes:
    """All outlines as one GeoJSON FeatureCollection (MultiPolygons), encoded once."""
    features = [
        {
            "type": "Feature",
            "id": o.iso or o.name,
            "properties": {"name": o.name, "iso": o.iso},
            "geometry": {
                "type": "MultiPolygon",
                "coordinates": [[list(map(list, ring)) for ring in p] for p in o.polygons],
            },
        }
        for o in outlines()
    ]
    return orjson.dumps({"type": "FeatureCollection", "features": features})


def _outline(feature: dict[str, Any], info: dict[str, Any]) -> Outline | None:
    geometry = feature.get("geometry") or {}
    if geometry.get("type") == "Polygon":
        raw = [geometry["coordinates"]]
    elif geometry.get("type") == "MultiPolygon":
        raw = geometry["coordinates"]
    else:
        return None
    polygons = tuple(tuple(_ring(ring) for ring in polygon) for polygon in raw)
    points = [point for polygon in polygons for ring in polygon for point in ring]
    if not points:
        return None
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    name = (feature.get("properties") or {}).get("name") or info.get("name") or ""
    iso = str(feature.get("id") or (info.get("ISO") or {}).get("alpha3") or "")
    return Outline(str(name), iso, polygons, (min(lons), min(lats), max(lons), max(lats)))


def _ring(ring: list[list[float]]) -> Ring:
    return [(round(float(p[0]), DIGITS), round(float(p[1]), DIGITS)) for p in ring]
