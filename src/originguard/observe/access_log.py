"""Access logs as JSON lines (orjson), buffered and flushed by the component's clock.

Callers pass plain fields; no header values are logged, so a secret header cannot leak here.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import IO, Any

import orjson


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
        self.enabled = self._out is not None  # read per request: an attribute, not a property

    def write(self, record: dict[str, Any]) -> None:
        """Log one record; `time` is added here (ISO 8601, UTC, milliseconds)."""
        if self._out is None:
            return
        now = time.time()
        record["time"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
        self._out.write(orjson.dumps(record) + b"\n")
        self._pending += 1
        if self._pending >= 256:
            self.flush()

    def flush(self) -> None:
        if self._out is not None and self._pending:
            self._out.flush()
            self._pending = 0

    def close(self) -> None:
        self.flush()
        if self._out is not None and self._out is not sys.stdout.buffer:
            self._out.close()
