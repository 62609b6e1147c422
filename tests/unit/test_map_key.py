"""The map's key is written twice — the page's markers (api/map/markers.js, in the browser)
and the server's picture (api/map/svg.py) — so here the two draw every state with every
combination of flags, and must agree field for field. Node.js runs the page's own file
(`scripts/ensure-node`, run by `make test`, installs it)."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from api.map.svg import NOBODY, dot_of

MARKERS_JS = Path(__file__).resolve().parents[2] / "api" / "map" / "markers.js"
FLAGS = ("uncertain", "inferred", "disputed", "assessed")
STATES: list[dict[str, Any]] = [
    {"status": "held", "colors": ["#117733"]},
    {"status": "held", "colors": ["#117733", "#332288"]},
    {"status": "contested", "colors": ["#117733", "#CC6677"]},
    {"status": "contested", "colors": ["#117733"]},
    {"status": "contested", "abandoned": True, "colors": []},
    {"status": "unknown", "colors": []},
    {"status": "held", "colors": ['#fff" onload="x']},  # not a colour: drawn grey
]
CASES = [
    {**state, **dict.fromkeys(flags, True)}
    for state in STATES
    for n in range(len(FLAGS) + 1)
    for flags in itertools.combinations(FLAGS, n)
]
JS = """
const key = require(process.argv[1]);
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(cases.map((p) => key.styleOf(p))));
"""


def page_styles(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("the map's key test needs Node.js: run scripts/ensure-node (make test does)")
    done = subprocess.run(
        [node, "-e", JS, str(MARKERS_JS)], input=json.dumps(cases), capture_output=True,
        text=True, check=True, timeout=30,
    )  # fmt: skip
    styles: list[dict[str, Any]] = json.loads(done.stdout)
    return styles


def as_dot(style: dict[str, Any]) -> tuple[Any, ...]:
    return (
        style["radius"], style["fillColor"], style["fillOpacity"], style["color"],
        style["opacity"], style["weight"], style["dashArray"], style["ring"],
    )  # fmt: skip


def test_the_page_and_the_picture_draw_every_state_and_flag_alike() -> None:
    for case, style in zip(CASES, page_styles(CASES), strict=True):
        dot = dot_of(case)
        expected = (
            dot.radius, dot.fill, dot.fill_opacity, dot.stroke, dot.stroke_opacity,
            dot.stroke_width, dot.dash, dot.ring,
        )  # fmt: skip
        assert as_dot(style) == expected, case


def test_every_combination_of_flags_looks_different_from_the_others() -> None:
    held = [c for c in CASES if c["status"] == "held" and c["colors"] == ["#117733"]]
    looks = {as_dot(s) for s in page_styles(held)}
    assert len(looks) == len(held) == 2 ** len(FLAGS)


def test_what_is_not_a_colour_is_drawn_grey() -> None:
    [style] = page_styles([STATES[-1]])
    assert style["fillColor"] == NOBODY
    assert dot_of(STATES[-1]).fill == NOBODY
