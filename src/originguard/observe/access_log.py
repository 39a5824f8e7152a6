"""Access logs as JSON lines (orjson), buffered, flushed every second and on error lines.

Lines are written into a 64 KiB buffer (no system call per request); a timer on the component's
loop flushes what is pending once a second, so an operator tailing the file is at most a second
behind, and a line for a failed request (status 500 and up) is flushed at once. Callers pass
plain fields; no header values are logged, so a secret header cannot leak here.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import IO, Any, Final

import orjson

FLUSH_INTERVAL: Final = 1.0  # seconds: how far behind a tailing operator may be
ERROR_STATUS: Final = 500  # a line with this status or above is flushed as it is written


class AccessLog:
    """Appends one JSON object per line to a file, stdout (`-`) or nowhere (None)."""

    def __init__(self, destination: str | None) -> None:
        self._out: IO[bytes] | None
        if destination is None:
            self._out = None
        elif destination == "-":
            self._out = sys.stdout.buffer
        else:
            Path(destination).parent.mkdir(parents=True, exist_ok=True)
            self._out = open(destination, "ab", buffering=64 * 1024)  # noqa: SIM115 - lives with the process
        self._pending = 0
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._interval = FLUSH_INTERVAL
        self.enabled = self._out is not None  # read per request: an attribute, not a property

    def start_flushing(self, loop: asyncio.AbstractEventLoop, interval: float = FLUSH_INTERVAL) -> None:
        """Flush what is pending every `interval` seconds on `loop` until `close`."""
        if self._out is None or self._timer is not None:
            return
        self._loop = loop
        self._interval = interval
        self._timer = loop.call_later(interval, self._flush_periodically)

    def _flush_periodically(self) -> None:
        self.flush()
        if self._loop is not None:
            self._timer = self._loop.call_later(self._interval, self._flush_periodically)

    def write(self, record: dict[str, Any]) -> None:
        """Log one record; `time` is added here (ISO 8601, UTC, milliseconds)."""
        if self._out is None:
            return
        now = time.time()
        record["time"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
        self._out.write(orjson.dumps(record) + b"\n")
        self._pending += 1
        status = record.get("status")
        if isinstance(status, int) and status >= ERROR_STATUS:
            self.flush()

    def flush(self) -> None:
        """Hand what is buffered to the file (one write system call)."""
        if self._out is not None and self._pending:
            self._out.flush()
            self._pending = 0

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._loop = self._timer = None
        self.flush()
        if self._out is not None and self._out is not sys.stdout.buffer:
            self._out.close()
