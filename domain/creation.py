"""An aggregate's "created" event without the aggregate: what ``cls(**kwargs)`` appends to
its pending events, built as eventsourcing's ``BaseAggregate._create`` builds it, and the
aggregate built from it again when something needs it after all (``built``).

The one place the domain reaches into eventsourcing's internals (the tables of created
event classes its metaclass keeps, and how ``_create`` fills
an event in). Pinned with eventsourcing ~=9.5.6 in pyproject.toml;
tests/unit/test_library_patches.py fails if the event built here differs from the
library's.
"""

from __future__ import annotations

from typing import Any, TypeAlias, cast
from uuid import UUID

from eventsourcing.domain import (
    Aggregate,
    CanInitAggregate,
    _annotations_mention_id,
    _coerce_args_to_kwargs,
    _created_event_classes,
)
from eventsourcing.utils import get_topic

#: A created event (``Incident.Recorded`` and the like).
Created: TypeAlias = CanInitAggregate[Any]


def created(cls: type[Aggregate], aggregate_id: UUID, kwargs: dict[str, Any]) -> Created:
    """The event ``cls(**kwargs)`` would append: the same version, topic and attributes, a
    timestamp taken now, and ``aggregate_id``, which must be what ``cls.create_id`` makes of
    ``kwargs`` (the caller has it already: computing it again was a twentieth of an import's
    write path)."""
    (event_class,) = _created_event_classes[cls]
    kwargs = _coerce_args_to_kwargs(
        cls.__init__, (), kwargs, expects_id=cls in _annotations_mention_id
    )
    return event_class(  # type: ignore[call-arg]
        originator_topic=get_topic(cls),
        originator_id=aggregate_id,
        originator_version=cls.INITIAL_VERSION,
        timestamp=event_class.create_timestamp(),
        **kwargs,
    )


def built(event: Created) -> Aggregate:
    """The aggregate ``event`` creates, with the event pending (as ``cls(**kwargs)``
    leaves it)."""
    aggregate = cast(Aggregate, event.mutate(None))
    aggregate.pending_events.append(event)
    return aggregate
