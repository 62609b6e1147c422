"""What frontline/http_server.py relies on in uvicorn's httptools protocol (not a public API), and
the bounds it builds from the settings. A uvicorn release that moves a hook fails here in a
second instead of silently dropping a limit (pyproject.toml pins the range)."""

from __future__ import annotations

import inspect
from importlib.metadata import version

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from frontline.config import Settings
from frontline.http_server import BoundedHttpToolsProtocol, bounded_protocol, uvicorn_options

HOOKS = {
    "connection_made": ["self", "transport"],
    "connection_lost": ["self", "exc"],
    "data_received": ["self", "data"],
    "on_url": ["self", "url"],
    "on_header": ["self", "name", "value"],
    "on_headers_complete": ["self"],
    "on_body": ["self", "body"],
    "on_message_complete": ["self"],
}


def test_the_hooks_the_bounds_use_are_uvicorn_s_own() -> None:
    for name, parameters in HOOKS.items():
        hook = getattr(HttpToolsProtocol, name)
        assert list(inspect.signature(hook).parameters) == parameters, name
        assert getattr(BoundedHttpToolsProtocol, name) is not hook, f"{name} is not overridden"


def test_the_attributes_the_bounds_read_are_set_by_uvicorn() -> None:
    protocol = inspect.getsource(HttpToolsProtocol)
    for attribute in ("self.loop =", "self.transport =", "self.cycle ="):
        assert attribute in protocol, attribute
    cycle = inspect.getsource(RequestResponseCycle)
    for attribute in ("self.more_body =", "self.response_complete ="):
        assert attribute in cycle, attribute


def test_uvicorn_is_the_release_the_patch_was_written_for() -> None:
    assert version("uvicorn").startswith("0.54.")


def test_the_server_gets_every_bound_from_the_settings() -> None:
    settings = Settings(
        max_header_bytes=1234,
        head_timeout_seconds=3.5,
        keepalive_seconds=7,
        max_connections=99,
        max_body_bytes=4321,
    )
    options = uvicorn_options(settings)
    protocol = options["http"]
    assert issubclass(protocol, BoundedHttpToolsProtocol)
    assert (protocol.max_head_bytes, protocol.head_timeout) == (1234, 3.5)
    assert options["limit_concurrency"] == 99
    assert options["timeout_keep_alive"] == 7
    assert options["ws_max_size"] == 4321
    assert bounded_protocol(Settings()).max_head_bytes == 16 * 1024
