"""The bounds of reading a backup (frontline.backup): lines no longer than a limit, and the
last whole line of a file an append may have cut short."""

from __future__ import annotations

import io
import json

import pytest

from frontline.backup import BackupError, bounded_lines, last_position


def event(position: int, pad: int = 0) -> bytes:
    line = {
        "position": position,
        "recorded_at": "2024-12-05T11:02:03+00:00",
        "originator_id": "00000000-0000-0000-0000-000000000001",
        "originator_version": position,
        "topic": "t",
        "state": "x" * pad,
    }
    return json.dumps(line).encode() + b"\n"


def test_lines_within_the_limit_are_read_and_a_longer_one_is_refused_unread() -> None:
    short, long = event(1), event(2, pad=500)
    assert list(bounded_lines(io.BytesIO(short + short), max_line=400)) == [short, short]
    lines = bounded_lines(io.BytesIO(short + long + short), max_line=400)
    assert next(lines) == short
    with pytest.raises(BackupError, match="line 2 is longer than 400 bytes"):
        next(lines)


def test_the_last_whole_line_gives_the_position_to_append_after() -> None:
    whole = event(1) + event(2)
    assert last_position(io.BytesIO(b"")) == (0, 0)
    assert last_position(io.BytesIO(whole)) == (2, len(whole))
    cut = whole + event(3)[:20]
    assert last_position(io.BytesIO(cut)) == (2, len(whole))
    assert last_position(io.BytesIO(event(1)[:20])) == (0, 0)


def test_a_last_line_longer_than_the_limit_is_refused() -> None:
    data = event(1) + event(2, pad=500)
    with pytest.raises(BackupError, match="longer than 400 bytes"):
        last_position(io.BytesIO(data), max_line=400)


def test_a_file_that_does_not_end_with_an_event_is_refused() -> None:
    with pytest.raises(BackupError, match="not an exported event"):
        last_position(io.BytesIO(b"hello\n"))
