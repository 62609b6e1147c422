"""How value objects are stored inside events (JSON via eventsourcing's transcoder).

Shared by the write side (the application) and the read side (the projector decodes with the
same transcoder), so both agree on every event's shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, fields
from enum import Enum
from types import UnionType
from typing import Any, Final, Union, get_args, get_origin, get_type_hints
from uuid import UUID

import orjson
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
    UUIDAsHex,
)

from domain.details import DETAIL_TYPES
from domain.incidents import Revision
from domain.values import Coordinates, Provenance, RequestMeta, Source, ValidTime


class DataclassAsDict(Transcoding):
    """A frozen dataclass as a dict of its fields; nested values are transcoded in turn.

    Decoding does **not** go back through the constructor: a stored event was valid when it
    was recorded, and today's checks (``__post_init__``) must not decide whether an old log
    can be read (tighten one rule, and the projector, ``rebuild`` and ``import`` would stop
    at the first event it refuses). ``restore`` builds the object from its stored fields,
    coercing only what JSON cannot carry by its field types: enums, tuples, ids. It is also
    faster than validating (the rebuild spent about a fifth of its time there).
    """

    def __init__(self, cls: type[Any]) -> None:
        if any("__slots__" in vars(k) for k in cls.__mro__ if k is not object):
            raise TypeError(f"{cls.__name__}: restore fills an instance's __dict__ (no slots)")
        self.type = cls
        self.name = cls.__name__
        self.fields = _stored_fields(cls)
        self.names = tuple(f.name for f in fields(cls))

    def encode(self, obj: Any) -> dict[str, Any]:
        return {name: getattr(obj, name) for name in self.names}

    def decode(self, data: dict[str, Any]) -> Any:
        return restore(self.type, self.fields, data)


Coercer = Callable[[Any], Any]
#: A field as ``restore`` needs it: name, coercer, and a maker of its default (None: none).
StoredField = tuple[str, Coercer, Callable[[], Any] | None]


def restore(cls: type[Any], stored: tuple[StoredField, ...], data: dict[str, Any]) -> Any:
    """An instance of the dataclass ``cls`` from stored fields, without its checks. Fields
    missing from ``data`` (added to the class since the event was stored) get their
    defaults. ``stored`` is ``_stored_fields(cls)``, worked out once: ``dataclasses.fields``
    on every value was a tenth of a rebuild (cProfile)."""
    obj = object.__new__(cls)
    values = obj.__dict__  # frozen dataclasses without slots keep their fields here
    for name, coerce, default in stored:
        value = data.get(name, MISSING)
        if value is MISSING:
            if default is None:
                msg = f"stored {cls.__name__} has no {name!r}: it needs an upcaster"
                raise ValueError(msg)
            values[name] = default()
        else:
            values[name] = None if value is None else coerce(value)
    return obj


def _stored_fields(cls: type[Any]) -> tuple[StoredField, ...]:
    hints = get_type_hints(cls)
    found: list[StoredField] = []
    for f in fields(cls):
        default: Callable[[], Any] | None = None
        if f.default is not MISSING:
            default = _constant(f.default)
        elif f.default_factory is not MISSING:
            default = f.default_factory
        found.append((f.name, _coercer(hints[f.name]), default))
    return tuple(found)


def _constant(value: Any) -> Callable[[], Any]:
    return lambda: value


def _coercer(hint: Any) -> Coercer:
    """How a stored JSON value becomes a value of the type ``hint`` (None is kept apart)."""
    options = [a for a in get_args(hint) if a is not type(None)]
    if get_origin(hint) in (Union, UnionType) and len(options) == 1:
        return _coercer(options[0])
    if get_origin(hint) is tuple:
        item = _coercer(get_args(hint)[0])
        return lambda values: tuple(item(v) for v in values)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint
    if hint is UUID:
        return lambda value: value if isinstance(value, UUID) else UUID(str(value))
    if hint is float:
        return float
    return lambda value: value


VALUE_TYPES: tuple[type[Any], ...] = (
    Coordinates, ValidTime, Source, RequestMeta, Provenance, Revision, *DETAIL_TYPES,
)  # fmt: skip


def register_value_transcodings(transcoder: JSONTranscoder) -> None:
    for cls in VALUE_TYPES:
        transcoder.register(DataclassAsDict(cls))


class FrontlineTranscoder(JSONTranscoder):
    """eventsourcing's JSON, written by orjson. The same JSON as ``JSONTranscoder`` writes
    (``_type_``/``_data_`` for ids, instants and value objects; tests/unit/domain/test_codec.py
    compares them event by event), so every log written before decodes as it did, and
    ``decode`` is the library's. ``encode`` turns only what orjson cannot write as it is into
    plain values, by each value object's field types (``_plan``): a string, an enum or a tuple
    of strings (an ACLED row's provenance columns) goes to orjson untouched. The library's
    encoder called back into Python for every such value: a tenth of an ACLED import."""

    def __init__(self) -> None:
        super().__init__()
        self.plans: dict[type, Callable[[Any], Any]] = {}

    def encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(self._plain(obj))
        except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits: the library's JSON
            return super().encode(obj)

    def _plain(self, value: Any) -> Any:
        kind = type(value)
        if kind in _NATIVE:
            return value
        plan = self.plans.get(kind) or self._plan(kind)
        return plan(value)

    def _plan(self, kind: type) -> Callable[[Any], Any]:
        plain = self._plain
        plan: Callable[[Any], Any]
        if kind is tuple or kind is list:

            def plan(v: Any) -> Any:
                return [x if type(x) in _NATIVE else plain(x) for x in v]
        elif kind is dict:

            def plan(v: Any) -> Any:
                return {k: plain(x) for k, x in v.items()}
        elif isinstance(self.types.get(kind), DataclassAsDict):
            name = self.types[kind].name
            hints = get_type_hints(kind)
            # Each field, and whether orjson writes its type as it is (else plain() decides).
            plan_fields = tuple((f.name, _is_native(hints[f.name])) for f in fields(kind))

            def plan(v: Any) -> Any:
                data = {n: getattr(v, n) if native else plain(getattr(v, n))
                        for n, native in plan_fields}  # fmt: skip
                return {"_type_": name, "_data_": data}
        elif kind in self.types:
            transcoding = self.types[kind]

            def plan(v: Any) -> Any:
                return {"_type_": transcoding.name, "_data_": transcoding.encode(v)}
        elif issubclass(kind, str | int | float):  # enums: orjson writes their values

            def plan(v: Any) -> Any:
                return v
        else:
            return self._encode_obj  # raises the library's error for an unknown type
        self.plans[kind] = plan
        return plan


_NATIVE: Final = frozenset({str, int, float, bool, type(None)})


def _is_native(hint: Any) -> bool:
    """Whether every value of type ``hint`` is JSON orjson writes as the library would:
    text, numbers, enums, None, and tuples of them."""
    if get_origin(hint) in (Union, UnionType):
        return all(_is_native(a) for a in get_args(hint))
    if get_origin(hint) is tuple:
        return all(_is_native(a) for a in get_args(hint) if a is not Ellipsis)
    return hint in _NATIVE or (isinstance(hint, type) and issubclass(hint, Enum))


def make_transcoder() -> JSONTranscoder:
    """The transcoder the application uses (``Frontline.construct_transcoder``), and readers
    that have no application."""
    transcoder = FrontlineTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    register_value_transcodings(transcoder)
    return transcoder
