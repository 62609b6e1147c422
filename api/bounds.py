"""The default of every bound a request or socket is held to (README "Limits"): one place, read
by the API's modules and by the running system's settings (frontline.config), which may
override each from the environment."""

from __future__ import annotations

from typing import Final

# A query document: fields nested below the operation, lexer tokens, aliases, estimated cost.
MAX_DEPTH: Final = 12
MAX_TOKENS: Final = 4_000
MAX_ALIASES: Final = 30
MAX_QUERY_COST: Final = 50_000
REQUEST_TIMEOUT_SECONDS: Final = 10.0
STATEMENT_TIMEOUT_MS: Final = 5_000
MAX_BODY_BYTES: Final = 1024 * 1024
MAX_RESPONSE_BYTES: Final = 16 * 1024 * 1024
MAX_HEADER_BYTES: Final = 16 * 1024
HEAD_TIMEOUT_SECONDS: Final = 10.0
KEEPALIVE_SECONDS: Final = 5
MAX_CONNECTIONS: Final = 2_048
MAX_SOCKETS: Final = 1_024
WS_MESSAGES_PER_SECOND: Final = 20.0
MAX_OPERATIONS_PER_SOCKET: Final = 25
MAX_SOCKETS_PER_KEY: Final = 100
SUBSCRIPTION_BUFFER: Final = 1_024
