"""JSON in and out: orjson, with JSON that PostgreSQL already encoded spliced in as it is."""

from __future__ import annotations

import json

import orjson


class EncodedJSON:
    """A JSON value already encoded as text (e.g. built by PostgreSQL), for a ``JSON`` field:
    ``encode`` writes it into the response without parsing it and encoding it again."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"EncodedJSON({self.text[:40]!r}...)"


def decode(data: str | bytes) -> object:
    """A request (HTTP body, GET parameter or WebSocket message) parsed by orjson. Its refusals
    are ``json.JSONDecodeError`` (a 400, or graphql-transport-ws' 4400), whatever the
    interpreter: nesting beyond 1,024 levels (the json module's limit moves with the C stack
    from one Python to the next, and a RecursionError is not a decode error), invalid UTF-8
    and lone surrogates, which no later step could encode."""
    return orjson.loads(data)


def encode(data: object) -> str:
    """``data`` as compact JSON text (what Strawberry's ``json.dumps`` writes, except that
    non-ASCII is written as UTF-8 rather than escaped)."""
    try:
        return orjson.dumps(data, default=_orjson_default).decode()
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits inside a JSON value
        return json.dumps(data, separators=(",", ":"), default=_json_default)


def _orjson_default(value: object) -> object:
    if isinstance(value, EncodedJSON):
        return orjson.Fragment(value.text)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _json_default(value: object) -> object:
    if isinstance(value, EncodedJSON):
        return json.loads(value.text)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
