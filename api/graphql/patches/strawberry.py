"""strawberry-graphql (0.341): what the API relies on beyond its public API.

- ``MaskErrors._process_result`` is overridden (``FastErrorCheck``): Strawberry asks
  ``isinstance(result, <runtime-checkable Protocol>)``, which cost more than the rest of
  delivering a subscription item to one of a thousand sockets (py-spy, bench "append →
  subscriber receipt"); looking for ``errors`` is enough.
- ``ValidationCache.on_validate`` validates unconditionally, so a document refused before
  validation (api.graphql.complexity) must be refused inside a subclass of it.
- A graphql-transport-ws handler's socket is written to directly (``write_frame``) by shared
  live streams (api.live.fanout): each frame is encoded once for all members, and Strawberry's
  ``send_message`` would encode it again per socket.
- The handler's ``run_operation``, ``handle_subscribe`` and ``handle``, and the view's
  ``execute_single``, ``process_result`` and ``__call__``, are overridden by api.graphql.view
  with the signatures tests/unit/test_library_patches.py checks.
"""

from __future__ import annotations

from typing import Any

from strawberry.extensions import MaskErrors


class FastErrorCheck(MaskErrors):
    """MaskErrors with ``_process_result`` that looks for ``errors`` by attribute."""

    def _process_result(self, result: object) -> None:
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]


async def write_frame(handler: Any, text: str) -> None:
    """Write an already-encoded graphql-transport-ws frame to the handler's socket."""
    await handler.websocket.ws.send_text(text)
