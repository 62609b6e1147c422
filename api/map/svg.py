"""The control map drawn as SVG on the server (``GET /map.svg``), for articles and bots: the
country outlines, every place as a dot in its holder's colour, a legend and a date line.

Pure: features (controlMapGeoJson's) and outlines in, text out. Web Mercator, like the page's
Leaflet map, so a picture of the page's view lines up with it. Dots follow the page's key
(api/map/markers.js, held together by tests/unit/test_map_key.py): held filled in the
holder's colour; contested outlined in the second party's, dashed; abandoned hollow and
dashed; unknown small and grey; uncertain faded, inferred dotted, assessment-only hollow in
the holder's colour, disputed ringed in black.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final
from xml.sax.saxutils import escape, quoteattr

from api.colors import NOBODY
from api.map.outlines import Outline

#: Pixels a legend row takes; the legend lists at most this many actors (then "and N more").
LEGEND_ROW: Final = 18
LEGEND_ACTORS: Final = 12
_MAX_LAT: Final = 85.0511  # Web Mercator's edge
_COLOR: Final = re.compile(r"#[0-9A-Fa-f]{6}")
# Characters XML 1.0 forbids (C0 controls but tab and newlines, surrogates, U+FFFE/FFFF):
# a name holding one would make the whole picture unreadable, so they are dropped.
_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


#: Characters of a name a picture shows.
NAME_CHARS: Final = 80


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


def _text(value: str) -> str:
    return escape(_NOT_XML.sub("", value))


def _attr(value: str) -> str:
    return quoteattr(_NOT_XML.sub("", value))


@dataclass(frozen=True, slots=True)
class Frame:
    """The area drawn (west, south, east, north in degrees) on a canvas of width × height."""

    west: float
    south: float
    east: float
    north: float
    width: int
    height: int

    def _y(self, lat: float) -> float:
        lat = max(-_MAX_LAT, min(_MAX_LAT, lat))
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    def project(self, lon: float, lat: float) -> tuple[float, float]:
        """Pixel coordinates, keeping the aspect of Mercator (the frame is letterboxed)."""
        top, bottom = self._y(self.north), self._y(self.south)
        span_x = math.radians(self.east - self.west) or 1e-9
        span_y = (top - bottom) or 1e-9
        scale = min(self.width / span_x, self.height / span_y)
        left = (self.width - span_x * scale) / 2
        upper = (self.height - span_y * scale) / 2
        return (
            left + math.radians(lon - self.west) * scale,
            upper + (top - self._y(lat)) * scale,
        )

    def overlaps(self, bbox: tuple[float, float, float, float]) -> bool:
        west, south, east, north = bbox
        return (
            west <= self.east and east >= self.west and south <= self.north and north >= self.south
        )


@dataclass(frozen=True, slots=True)
class Dot:
    radius: float
    fill: str
    fill_opacity: float
    stroke: str
    stroke_opacity: float
    stroke_width: float
    dash: str | None
    ring: bool  # a black ring around it: disputed


def safe_color(value: object) -> str:
    """A colour as stored ("#RRGGBB"), else grey: only a colour ever reaches an attribute
    (a log restored from a file is not checked again)."""
    return value if isinstance(value, str) and _COLOR.fullmatch(value) else NOBODY


def dot_of(props: dict[str, Any]) -> Dot:
    """How one place is drawn, from its GeoJSON properties: the page's key
    (api/map/markers.js styleOf), field for field."""
    colors = [safe_color(c) for c in props.get("colors") or []]
    first = colors[0] if colors else NOBODY
    status = props.get("status")
    radius, fill, opacity, stroke, width, dash = 7.0, first, 0.9, "#333333", 1.5, None
    stroke_opacity = 1.0
    if status == "contested" and props.get("abandoned"):
        fill, stroke, width, dash = "#FFFFFF", "#555555", 2.5, "4 3"
    elif status == "contested":
        stroke = colors[1] if len(colors) > 1 else "#333333"
        width, dash = 4.0, "4 3"
    elif status != "held":
        radius, fill, opacity, stroke = 4.0, NOBODY, 0.6, "#777777"
    if props.get("assessed"):
        stroke, fill, width = fill, "#FFFFFF", 4.0
    if props.get("inferred"):
        dash = "1 3"
    if props.get("uncertain"):
        opacity, stroke_opacity = 0.35, 0.5
    ring = bool(props.get("disputed"))
    return Dot(radius, fill, opacity, stroke, stroke_opacity, width, dash, ring)


def render(
    features: Sequence[dict[str, Any]],
    outlines: Iterable[Outline],
    frame: Frame,
    caption: str,
    *,
    more: bool = False,
) -> str:
    """The SVG document. ``caption`` is the date line; ``more``: ``features`` are the first
    of more places than are drawn."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{frame.width}" height="{frame.height}" '
        f'viewBox="0 0 {frame.width} {frame.height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{frame.width}" height="{frame.height}" fill="#DFE8EF"/>',
        '<g class="outlines" fill="#F7F5EF" stroke="#8A8A8A" stroke-width="0.8">',
        *_outline_paths(outlines, frame),
        "</g>",
        '<g class="places">',
        *_dots(features, frame),
        "</g>",
        *_legend(features, frame),
        *_caption(caption, frame, len(features), more),
        "</svg>",
    ]
    return "\n".join(parts)


def _outline_paths(outlines: Iterable[Outline], frame: Frame) -> Iterable[str]:
    for outline in outlines:
        if not frame.overlaps(outline.bbox):
            continue
        commands: list[str] = []
        for polygon in outline.polygons:
            for ring in polygon:
                commands.append(_ring_path(ring, frame))
        yield f"<path d={quoteattr(''.join(commands))}><title>{_text(outline.name)}</title></path>"


def _ring_path(ring: Sequence[tuple[float, float]], frame: Frame) -> str:
    """One ring, dropping points within half a pixel of the last one kept: a world-wide
    outline drawn small stays a few kilobytes, not the outline's every vertex."""
    kept: list[str] = []
    last: tuple[float, float] | None = None
    for lon, lat in ring:
        x, y = frame.project(lon, lat)
        if last is not None and abs(x - last[0]) < 0.5 and abs(y - last[1]) < 0.5:
            continue
        kept.append(f"{x:.1f},{y:.1f}")
        last = (x, y)
    return ("M" + "L".join(kept) + "Z") if len(kept) > 2 else ""


def _dots(features: Sequence[dict[str, Any]], frame: Frame) -> Iterable[str]:
    for feature in features:
        props = feature["properties"]
        lon, lat = feature["geometry"]["coordinates"]
        x, y = frame.project(lon, lat)
        if not (0 <= x <= frame.width and 0 <= y <= frame.height):
            continue
        dot = dot_of(props)
        dash = f' stroke-dasharray="{dot.dash}"' if dot.dash else ""
        # A dot's title: its name and how many hold it (the legend names them), each name cut
        # to NAME_CHARS, so a dot costs a bounded number of bytes whatever the names.
        names = props.get("controllerNames") or []
        holders = (
            _short(names[0]) + (f" and {len(names) - 1} more" if len(names) > 1 else "")
            if names
            else props.get("status", "")
        )
        yield (
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{dot.radius}" fill="{dot.fill}" '
            f'fill-opacity="{dot.fill_opacity}" stroke="{dot.stroke}" '
            f'stroke-opacity="{dot.stroke_opacity}" stroke-width="{dot.stroke_width}"{dash} '
            f"data-slug={_attr(props['slug'])} data-status={_attr(props.get('status', ''))}>"
            f"<title>{_text(_short(props['name']))}: {_text(holders)}</title></circle>"
        )
        if dot.ring:
            yield (
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{dot.radius + 3.5}" fill="none" '
                'stroke="#000000" stroke-width="1.5" class="disputed"/>'
            )


def _legend(features: Sequence[dict[str, Any]], frame: Frame) -> Iterable[str]:
    holders: dict[str, tuple[str, str]] = {}
    for feature in features:
        props = feature["properties"]
        for slug, name, color in zip(
            props.get("controllers") or [], props.get("controllerNames") or [],
            props.get("colors") or [], strict=False,
        ):  # fmt: skip
            holders[slug] = (name, color)
    rows = sorted(holders.values())
    shown = rows[:LEGEND_ACTORS]
    more = len(rows) - len(shown)
    height = LEGEND_ROW * (len(shown) + (1 if more else 0) + 1) + 8
    yield '<g class="legend" transform="translate(10,10)">'
    yield f'<rect width="230" height="{height}" fill="#FFFFFF" fill-opacity="0.85" stroke="#999"/>'
    yield f'<text x="8" y="{LEGEND_ROW - 4}" font-weight="bold">Who holds what</text>'
    for i, (name, color) in enumerate(shown, start=1):
        y = LEGEND_ROW * i + 8
        yield f'<circle cx="14" cy="{y}" r="5" fill="{safe_color(color)}" stroke="#333"/>'
        yield f'<text x="26" y="{y + 4}">{_text(_short(name))}</text>'
    if more:
        yield f'<text x="8" y="{LEGEND_ROW * (len(shown) + 1) + 12}">and {more} more</text>'
    yield "</g>"


def _caption(caption: str, frame: Frame, drawn: int, more: bool) -> Iterable[str]:
    count = f"the first {drawn:,} places by name (more not drawn)" if more else f"{drawn} places"
    text = f"{caption} · {count} · Frontline"
    y = frame.height - 10
    yield (
        f'<rect x="0" y="{y - 16}" width="{frame.width}" height="26" fill="#FFFFFF" '
        'fill-opacity="0.8"/>'
    )
    yield f'<text class="date-line" x="10" y="{y}">{_text(text)}</text>'
