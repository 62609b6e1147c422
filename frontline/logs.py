"""How the processes log: text for a terminal, or one JSON object a line
(``FRONTLINE_LOG_FORMAT=json``) for a log collector, each line with the id of the request or
socket it was written for (``api.middleware.REQUEST_ID``), uvicorn's access log included."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Final

import orjson

from api.middleware import REQUEST_ID

TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FORMATS: Final = ("text", "json")


class JsonFormatter(logging.Formatter):
    """A record as ``{"time", "level", "logger", "message"[, "request_id"][, "exception"]}``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            line["request_id"] = request_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure(log_format: str, *, verbose: bool) -> None:
    """The root logger's one handler, on stderr, in ``log_format`` ("text" or "json")."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    logging.captureWarnings(True)  # warnings too, in the same format
