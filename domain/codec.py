"""How value objects are stored inside events (JSON via eventsourcing's transcoder).

Shared by the write side (the application) and the read side (the projector decodes with the
same transcoder), so both agree on every event's shape.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
    UUIDAsHex,
)

from domain.details import DETAIL_TYPES
from domain.values import Coordinates, RequestMeta, Source, ValidTime


class DataclassAsDict(Transcoding):
    """A frozen dataclass as a dict of its fields; nested values are transcoded in turn.

    Decoding goes back through the constructor, which coerces JSON lists and strings to
    tuples and enums.
    """

    def __init__(self, cls: type[Any]) -> None:
        self.type = cls
        self.name = cls.__name__

    def encode(self, obj: Any) -> dict[str, Any]:
        return {f.name: getattr(obj, f.name) for f in fields(obj)}

    def decode(self, data: dict[str, Any]) -> Any:
        return self.type(**data)


VALUE_TYPES: tuple[type[Any], ...] = (Coordinates, ValidTime, Source, RequestMeta, *DETAIL_TYPES)


def register_value_transcodings(transcoder: JSONTranscoder) -> None:
    for cls in VALUE_TYPES:
        transcoder.register(DataclassAsDict(cls))


def make_transcoder() -> JSONTranscoder:
    """The transcoder the application uses, for readers that have no application."""
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    register_value_transcodings(transcoder)
    return transcoder
