"""graphql-core (3.3): the one private attribute the API touches.

A subscription runs each event on a shallow copy of the subscription's executor
(``build_per_event_executor``). The copy shares ``_relevant_sub_fields``, a memo of collected
subfields keyed by the identity of field lists that are built afresh for every event, so a
subscription kept every event's entries for as long as its socket lived: about 4 KB per
delivered item, for ever (found by tests/e2e/test_subscription_reliability.py's memory test;
not reported upstream yet). Each event's executor gets a memo of its own; within one event it
still memoises list items, which is what it is for.
"""

from __future__ import annotations

from typing import Any


def fresh_subfield_memo(executor: Any) -> None:
    """Give a per-event executor a subfield memo of its own (see the module's docstring)."""
    executor._relevant_sub_fields = {}
