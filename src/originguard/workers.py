"""Several worker processes per component: one port shared with SO_REUSEPORT, a parent that
restarts dead workers and forwards SIGHUP/SIGTERM (the nginx master/worker shape).

Worker i serves the viewer ports with every other worker and its own admin API on admin port + i;
worker 0 fans invalidations out to its siblings, so a purge reaches every worker's cache.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
from pathlib import Path
from typing import Literal

from originguard.notify import notify_ready
from originguard.runtime import install_uvloop
from originguard.supervision.children import ChildSpec
from originguard.supervision.supervisor import Supervisor, supervise

MAX_WORKERS = 64


def resolve_workers(value: int | Literal["auto"]) -> int:
    """`auto` is one worker per core; anything else is taken as is (bounded)."""
    count = (os.cpu_count() or 1) if value == "auto" else int(value)
    return max(1, min(count, MAX_WORKERS))


def run_workers(args: list[str], count: int) -> None:
    """Run `originguard <args> --worker i` for i in 0..count-1 until SIGTERM/SIGINT."""
    install_uvloop()

    async def main() -> None:
        specs = [ChildSpec(f"worker-{i}", (*args, "--worker", str(i))) for i in range(count)]
        with tempfile.TemporaryDirectory(prefix="originguard-workers-") as run_dir:
            supervisor = Supervisor(specs, Path(run_dir), executable=[sys.executable, "-m", "originguard"])
            loop = asyncio.get_running_loop()
            stop = asyncio.Event()
            loop.add_signal_handler(signal.SIGTERM, stop.set)
            loop.add_signal_handler(signal.SIGINT, stop.set)
            loop.add_signal_handler(signal.SIGHUP, lambda: supervisor.signal_all(signal.SIGHUP))
            # Ready (to `up` or systemd) once every worker has bound its listeners.
            await supervise(supervisor, stop, notify_ready)

    asyncio.run(main())
