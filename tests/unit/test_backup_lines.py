"""The bounds of reading a backup (frontline.backup): lines no longer than a limit, and the
last whole line of a file an append may have cut short."""

from __future__ import annotations

import io
import json

import pytest

from frontline.backup import BackupError, bounded_lines, last_event


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


def position(data: bytes, **bounds: int) -> tuple[int | None, int]:
    found, end = last_event(io.BytesIO(data), **bounds)
    return (None if found is None else found["position"]), end


def test_the_last_whole_line_gives_the_event_to_append_after() -> None:
    whole = event(1) + event(2)
    assert position(b"") == (None, 0)
    assert position(whole) == (2, len(whole))
    cut = whole + event(3)[:20]
    assert position(cut) == (2, len(whole))
    assert position(event(1)[:20]) == (None, 0)  # one line cut short: nothing whole yet


def test_a_last_line_longer_than_the_limit_is_refused() -> None:
    data = event(1) + event(2, pad=500)
    with pytest.raises(BackupError, match="longer than 400 bytes"):
        position(data, max_line=400)


@pytest.mark.parametrize("data", [b"hello\n", event(1) + b"not json\n"])
def test_a_file_that_does_not_end_with_an_event_is_refused(data: bytes) -> None:
    with pytest.raises(BackupError, match="not an exported event"):
        position(data)


@pytest.mark.parametrize("data", [b'{"some": "json"}', b"x" * 100])
def test_a_file_without_a_whole_line_that_is_no_export_is_refused(data: bytes) -> None:
    """--append must not empty a file given by mistake (it would cut it to its last line)."""
    with pytest.raises(BackupError, match="not an export"):
        position(data)
