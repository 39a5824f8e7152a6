"""The access log reaches its file within a second, and at once for a failed request."""

from __future__ import annotations

import asyncio
from pathlib import Path

from originguard.observe.access_log import AccessLog


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines()


def test_a_failed_request_line_is_in_the_file_as_soon_as_it_is_written(tmp_path: Path) -> None:
    log = AccessLog(str(tmp_path / "access.log"))
    log.write({"status": 200})
    assert lines(tmp_path / "access.log") == [], "ordinary lines wait in the buffer: no write per request"
    log.write({"status": 502, "reason": "target refused"})
    assert len(lines(tmp_path / "access.log")) == 2
    log.close()


def test_buffered_lines_are_flushed_by_the_loop_timer_without_more_traffic(tmp_path: Path) -> None:
    path = tmp_path / "access.log"

    async def scenario() -> int:
        log = AccessLog(str(path))
        log.start_flushing(asyncio.get_running_loop(), interval=0.05)
        for status in (200, 404, 304):
            log.write({"status": status})
        deadline = asyncio.get_running_loop().time() + 5.0
        while len(lines(path)) < 3 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)  # polling the file, not waiting a fixed time
        found = len(lines(path))
        log.close()
        return found

    assert asyncio.run(scenario()) == 3
