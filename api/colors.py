"""Actors' colours on maps (the page's markers and /map.svg): the one someone gave an actor,
else a default from its rank in registration order (``rm.actors.color_rank``).

The palette is Paul Tol's "muted" scheme, chosen to stay distinct under the common kinds of
colour blindness. Ranking by registration keeps a colour stable (a new actor never shifts an
earlier one's) and makes the first nine actors of a log distinct; past nine they repeat, and
``registerActor(color:)`` sets one where two neighbours clash.
"""

from __future__ import annotations

from typing import Final

PALETTE: Final = (
    "#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE",
    "#882255", "#44AA99", "#999933", "#AA4499",
)  # fmt: skip
#: A place nobody holds, or whose holder is unknown.
NOBODY: Final = "#BBBBBB"


def actor_color(color: str | None, color_rank: int) -> str:
    """The colour to draw an actor in."""
    return color or PALETTE[color_rank % len(PALETTE)]
