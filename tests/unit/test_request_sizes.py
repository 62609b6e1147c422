"""The request decoder's size bounds (api.graphql.encoding): strings and lists no input takes
are refused while the request is parsed, except an admin's long strings over HTTP (a whole
file for importAcled; api.access.ReadGate sets LONG_STRINGS)."""

from __future__ import annotations

import json

import pytest

from api.graphql.encoding import LONG_STRINGS, MAX_LIST, MAX_STRING, OversizedValue, decode


def body(value: object) -> str:
    return json.dumps({"query": "{ x }", "variables": {"v": value}})


def test_a_string_longer_than_any_input_is_refused() -> None:
    assert decode(body("x" * MAX_STRING)) is not None
    with pytest.raises(OversizedValue, match="over 10,000 characters"):
        decode(body("x" * (MAX_STRING + 1)))


def test_a_websocket_subscribe_is_held_to_the_same_bound() -> None:
    message = json.dumps({"type": "subscribe", "payload": {"variables": {"v": "x" * 20_000}}})
    with pytest.raises(OversizedValue):
        decode(message)


def test_an_admins_long_strings_pass_but_lists_stay_bounded() -> None:
    token = LONG_STRINGS.set(True)
    try:
        assert decode(body("x" * 1_000_000))
        with pytest.raises(OversizedValue, match="over 1,000 items"):
            decode(body(["x"] * (MAX_LIST + 1)))
    finally:
        LONG_STRINGS.reset(token)
    with pytest.raises(OversizedValue):
        decode(body("x" * 1_000_000))
