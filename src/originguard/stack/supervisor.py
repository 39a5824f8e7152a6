"""Supervise child processes: restart a crashed child with backoff, forward SIGHUP, stop cleanly.

Children are `originguard <component>` processes, so each one is exactly what a user would run
by hand; the supervisor only starts, watches and signals them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from originguard.stack.plan import ChildSpec

log = logging.getLogger("originguard.up")

BACKOFF_START = 0.5
BACKOFF_MAX = 30.0
STABLE_AFTER = 30.0  # a child up this long has its backoff reset


@dataclass
class Child:
    spec: ChildSpec
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0
    backoff: float = BACKOFF_START
    started_at: float = 0.0
    watcher: asyncio.Task[None] | None = field(default=None, repr=False)


class Supervisor:
    """Runs children until `stop()`; pid files under `run_dir` let other commands signal them."""

    def __init__(self, specs: list[ChildSpec], run_dir: Path, *, executable: list[str] | None = None) -> None:
        self.children = [Child(spec) for spec in specs]
        self.run_dir = run_dir
        self.executable = executable or [sys.executable, "-m", "originguard"]
        self.stopping = False
        self.loop = asyncio.get_running_loop()

    async def start(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for child in self.children:
            await self._spawn(child)
            child.watcher = self.loop.create_task(self._watch(child))

    def signal_all(self, signum: int) -> None:
        for child in self.children:
            if child.process is not None and child.process.returncode is None:
                child.process.send_signal(signum)

    async def stop(self, grace: float = 10.0) -> None:
        """SIGTERM every child (graceful), SIGKILL what is left after `grace` seconds."""
        self.stopping = True
        for child in self.children:
            if child.watcher is not None:
                child.watcher.cancel()
        self.signal_all(signal.SIGTERM)
        running = [c.process for c in self.children if c.process is not None and c.process.returncode is None]
        try:
            await asyncio.wait_for(asyncio.gather(*(p.wait() for p in running)), grace)
        except TimeoutError:
            for process in running:
                if process.returncode is None:
                    process.kill()
        for child in self.children:
            (self.run_dir / f"{child.spec.name}.pid").unlink(missing_ok=True)

    async def _spawn(self, child: Child) -> None:
        child.process = await asyncio.create_subprocess_exec(*self.executable, *child.spec.args)
        child.started_at = self.loop.time()
        (self.run_dir / f"{child.spec.name}.pid").write_text(f"{child.process.pid}\n")

    async def _watch(self, child: Child) -> None:
        while not self.stopping:
            assert child.process is not None
            code = await child.process.wait()
            if self.stopping:
                return
            uptime = self.loop.time() - child.started_at
            if uptime > STABLE_AFTER:
                child.backoff = BACKOFF_START
            log.error(
                "%s exited with code %s after %.1fs; restarting in %.1fs",
                child.spec.name,
                code,
                uptime,
                child.backoff,
            )
            await asyncio.sleep(child.backoff)
            child.backoff = min(child.backoff * 2, BACKOFF_MAX)
            child.restarts += 1
            await self._spawn(child)


def read_pids(run_dir: Path) -> dict[str, int]:
    """Pids of a running stack's children (for `secret rotate` and friends)."""
    pids: dict[str, int] = {}
    for path in run_dir.glob("*.pid"):
        try:
            pid = int(path.read_text().strip())
            os.kill(pid, 0)
        except (ValueError, ProcessLookupError, PermissionError):
            continue
        pids[path.stem] = pid
    return pids
