"""The executor every operation runs on: Strawberry's, with one leak of graphql-core stopped.

graphql-core 3.3 runs each subscription event on a shallow copy of the subscription's
executor (``build_per_event_executor``). The copy shares the memo of collected subfields,
which is keyed by the identity of field lists built afresh for every event, so a subscription
kept every event's entries for as long as its socket lived: about 4 KB per delivered item,
for ever (found by tests/e2e/test_subscription_reliability.py's memory test with a live
reader). Each event now starts with an empty memo; within one event it still memoizes list
items, which is what it is for.
"""

from __future__ import annotations

from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class FrontlineExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        return executor
