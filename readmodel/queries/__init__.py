"""SQL queries over the read models (asyncpg), for the GraphQL layer.

Every function takes an asyncpg connection or pool and answers from indexed ``rm`` tables;
none replays the log. Times must be timezone-aware. ``as_of`` is valid time (the world at
T); ``known_at`` is record time (only what Frontline had recorded by K; None = everything).
Bad arguments raise ``domain.errors.InvalidInput`` subclasses, like commands do.
"""

from readmodel.queries.actors import (
    aircraft_tally,
    gains_and_losses,
    incidents_of_actor,
    places_held,
)
from readmodel.queries.catalog import (
    find_actors,
    find_places,
    get_actor,
    get_actor_by_slug,
    get_place,
    get_place_by_slug,
    list_actors,
    list_places,
)
from readmodel.queries.control import (
    changes_between,
    control_at,
    control_history,
    control_map,
    control_map_geojson,
    known_position,
)
from readmodel.queries.incidents import (
    FeedOrder,
    InvalidCursor,
    feed_cursor,
    get_incident,
    incident_feed,
    occurrence_span,
)
from readmodel.queries.rows import (
    ActorRow,
    AircraftTally,
    Change,
    ControlState,
    GainsAndLosses,
    IncidentRow,
    PlaceControl,
    PlaceRow,
)
from readmodel.queries.sql import BBox, Known, Near

__all__ = [
    "ActorRow",
    "AircraftTally",
    "BBox",
    "Change",
    "ControlState",
    "FeedOrder",
    "GainsAndLosses",
    "IncidentRow",
    "InvalidCursor",
    "Known",
    "Near",
    "PlaceControl",
    "PlaceRow",
    "aircraft_tally",
    "changes_between",
    "control_at",
    "control_history",
    "control_map",
    "control_map_geojson",
    "feed_cursor",
    "find_actors",
    "find_places",
    "gains_and_losses",
    "get_actor",
    "get_actor_by_slug",
    "get_incident",
    "get_place",
    "get_place_by_slug",
    "incident_feed",
    "incidents_of_actor",
    "known_position",
    "list_actors",
    "list_places",
    "occurrence_span",
    "places_held",
]

from readmodel.queries.batch import actors_by_id, incidents_by_id, places_by_id

__all__ += ["actors_by_id", "incidents_by_id", "places_by_id"]
