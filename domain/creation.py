"""An aggregate's "created" event without the aggregate: what ``cls(**kwargs)`` appends to
its pending events, built as eventsourcing's ``BaseAggregate._create`` builds it, and the
aggregate built from it again when something needs it after all (``built``).

The one place the domain reaches into eventsourcing's internals (the tables of created
event classes and ``create_id`` parameters its metaclass keeps, and how ``_create`` fills
an event in). Pinned with eventsourcing ~=9.5.6 in pyproject.toml;
tests/unit/test_library_patches.py fails if the event built here differs from the
library's.
"""

from __future__ import annotations

from typing import Any, TypeAlias, cast

from eventsourcing.domain import (
    Aggregate,
    CanInitAggregate,
    _annotations_mention_id,
    _coerce_args_to_kwargs,
    _create_id_param_names,
    _created_event_classes,
)
from eventsourcing.utils import get_topic

#: A created event (``Incident.Recorded`` and the like).
Created: TypeAlias = CanInitAggregate[Any]


def created(cls: type[Aggregate], kwargs: dict[str, Any]) -> Created:
    """The event ``cls(**kwargs)`` would append: the same id (``cls.create_id``), version,
    topic and attributes, and a timestamp taken now."""
    (event_class,) = _created_event_classes[cls]
    kwargs = _coerce_args_to_kwargs(
        cls.__init__, (), kwargs, expects_id=cls in _annotations_mention_id
    )
    names = _create_id_param_names[cls]
    return event_class(  # type: ignore[call-arg]
        originator_topic=get_topic(cls),
        originator_id=cls.create_id(**{k: v for k, v in kwargs.items() if k in names}),
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
