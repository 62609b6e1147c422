"""Domain values as JSON for jsonb columns (UUIDs and datetimes as ISO strings)."""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Final
from uuid import UUID

import orjson


def plain(value: Any) -> Any:
    """Recursively turn dataclasses, tuples, UUIDs, enums and datetimes into JSON values."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _default(value: Any) -> Any:
    # Called by the C encoder only for what JSON lacks (str enums and tuples it handles).
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return _as_fields(value)  # a dataclass as its fields, as ``dumps`` writes it


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_default)


def dumps(value: Any) -> str:
    """The same JSON values as ``json.dumps(plain(value))`` (for jsonb, which keeps values,
    not text), written by orjson: it writes ids, instants, enums and tuples itself, where
    the C encoder called back into Python for each (a sixth of a rebuild, cProfile). A
    dataclass is written as its fields (``_as_fields``), not as orjson would, from its
    ``__dict__``: a ``cached_property`` once read lives there too (``ValidTime.earliest``),
    and would make the same value's JSON depend on what read it first. Anything orjson
    refuses (an integer beyond 64 bits) goes to the C encoder."""
    try:
        return orjson.dumps(value, default=_as_fields, option=_PASSTHROUGH).decode()
    except orjson.JSONEncodeError:
        return _ENCODER.encode(value)


_PASSTHROUGH: Final = orjson.OPT_PASSTHROUGH_DATACLASS
_FIELDS: dict[type, tuple[str, ...]] = {}


def _as_fields(value: Any) -> dict[str, Any]:
    kind = type(value)
    names = _FIELDS.get(kind)
    if names is None:
        if not is_dataclass(value) or isinstance(value, type):
            raise TypeError(f"{kind.__name__} is not JSON serialisable")
        names = _FIELDS[kind] = tuple(f.name for f in fields(value))
    return {name: getattr(value, name) for name in names}
