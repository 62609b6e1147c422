"""Rows of ``log_entries``: every event of the log as a client follows it.

Each row carries the event's type and aggregate and a correction's own fields: its reason,
its source, who disputes, and for an amendment the values before and after. The incident as
it stood at the entry's position is in ``incident_versions`` (written beside it), so an entry
read from the database and one read from a subscription's ring are the same item.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.values import ValidTime
from readmodel.events import LoggedEvent
from readmodel.jsonable import dumps

#: What an amendment may revise beyond the time and places (domain.incidents.Revision).
REVISABLE = ("details", "actor_ids", "sources", "summary", "fatalities")


@dataclass(frozen=True)
class Amendable:
    """An incident's values an amendment may change, as they stood before it."""

    valid_time: ValidTime
    place_ids: tuple[UUID, ...]
    revisable: dict[str, Any]

    @classmethod
    def of(cls, incident: Any) -> Amendable:
        revisable = {name: getattr(incident, name) for name in REVISABLE}
        return cls(incident.valid_time, incident.place_ids, revisable)


def entry_record(logged: LoggedEvent, before: Amendable | None = None) -> tuple[Any, ...]:
    """The ``log_entries`` row of ``logged`` (see readmodel.writer.ENTRY_COLUMNS);
    ``before`` is what an amendment changed, as it stood before it."""
    event = logged.event
    meta = getattr(event, "meta", None)
    source = getattr(event, "source", None)
    amended_from = amended_to = None
    if logged.name == "Incident.Amended" and before is not None:
        places = before.place_ids if event.place_ids is None else tuple(event.place_ids)
        old = _amendable(before.valid_time, before.place_ids)
        new = _amendable(event.valid_time or before.valid_time, places)
        revision = getattr(event, "revision", None)
        for name in REVISABLE:
            value = None if revision is None else getattr(revision, name)
            if value is not None:  # revised: the old and the new value of each field
                old[name], new[name] = before.revisable[name], value
                if name == "details":
                    old["kind"], new["kind"] = before.revisable[name].kind, value.kind
            elif revision is not None and name in revision.cleared:
                old[name], new[name] = before.revisable[name], None
        amended_from, amended_to = dumps(old), dumps(new)
    return (
        logged.position,
        logged.recorded_at,
        logged.name,
        event.originator_id,
        event.originator_version,
        None if meta is None else meta.recorded_by,
        getattr(event, "reason", None),
        None if source is None else dumps(source),
        getattr(event, "disputed_by", None),
        amended_from,
        amended_to,
    )


def _amendable(valid_time: ValidTime, place_ids: tuple[Any, ...]) -> dict[str, Any]:
    """What an amendment may change: the valid time and the places."""
    return {
        "occurred_at": valid_time.start,
        "occurred_until": valid_time.end,
        "precision": valid_time.precision,
        "place_ids": list(place_ids),
    }
