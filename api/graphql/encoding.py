"""JSON in and out: orjson, with JSON that PostgreSQL already encoded spliced in as it is."""

from __future__ import annotations

import json
from contextvars import ContextVar
from typing import Final

import orjson


class EncodedJSON:
    """A JSON value already encoded as text (e.g. built by PostgreSQL), for a ``JSON`` field:
    ``encode`` writes it into the response without parsing it and encoding it again."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"EncodedJSON({self.text[:40]!r}...)"


#: A string in a request's variables, and a list: no input the API takes is longer (texts are
#: at most 5,000 characters, batches at most 1,000 commands). A request's ``query`` is bounded
#: by the token limit instead.
MAX_STRING: Final = 10_000
MAX_LIST: Final = 1_000
#: Set for an admin's HTTP request (api.access.ReadGate): its strings are bounded by the body
#: limit only, so that importAcled can take a whole file. Never set for a WebSocket message.
LONG_STRINGS: ContextVar[bool] = ContextVar("long_strings", default=False)


class OversizedValue(json.JSONDecodeError):
    """A string or list in a request longer than any input takes."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "", 0)
        self.message = message


def decode(data: str | bytes) -> object:
    """A request (HTTP body, GET parameter or WebSocket message) parsed by orjson. Its refusals
    are ``json.JSONDecodeError`` (a 400, or graphql-transport-ws' 4400), whatever the
    interpreter: nesting beyond 1,024 levels (the json module's limit moves with the C stack
    from one Python to the next, and a RecursionError is not a decode error), invalid UTF-8
    and lone surrogates, which no later step could encode; and strings or lists longer than
    any input takes, which would otherwise be kept (and copied) for as long as an operation
    lives: 25 subscriptions with a 1 MB filter each once held 51 MB per socket."""
    value = orjson.loads(data)
    _check_sizes(value)
    return value


def _check_sizes(message: object) -> None:
    """Strings and lists of the inputs an operation works on and keeps: the variables of an
    HTTP body, or of a WebSocket subscribe's payload (the rest is read and dropped)."""
    holders = [message]
    if isinstance(message, dict) and isinstance(message.get("payload"), dict):
        holders.append(message["payload"])
    pending = [
        holder[key]
        for holder in holders
        if isinstance(holder, dict)
        if "variables" in holder
        for key in ("variables",)
    ]
    long_strings = LONG_STRINGS.get()
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if len(item) > MAX_STRING and not long_strings:
                raise OversizedValue(f"a string of the request is over {MAX_STRING:,} characters")
        elif isinstance(item, list):
            if len(item) > MAX_LIST:
                raise OversizedValue(f"a list of the request is over {MAX_LIST:,} items")
            pending += item
        elif isinstance(item, dict):
            pending += item.values()


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
