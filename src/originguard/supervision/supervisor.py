"""Supervise child processes: wait for each to report ready, restart a crash with backoff, forward
SIGHUP, stop cleanly.

Children are `originguard <component>` processes, so each one is exactly what a user would run by
hand. Each gets its own `NOTIFY_SOCKET` (see `originguard.notify`): a child is ready when it says
READY=1, which it does only once it has bound every listener itself. A child that exits before its
first READY=1 has failed to start: it is not restarted, and `wait_ready` raises with its reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from originguard.errors import OriginguardError
from originguard.notify import ENV, NotifyListener
from originguard.supervision.children import ChildSpec

log = logging.getLogger("originguard.up")

BACKOFF_START = 0.5
BACKOFF_MAX = 30.0
STABLE_AFTER = 30.0  # a child up this long has its backoff reset


class StartupError(OriginguardError):
    """A child exited before it was ready; names the child and the reason it reported."""


@dataclass
class Child:
    spec: ChildSpec
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0
    backoff: float = BACKOFF_START
    started_at: float = 0.0
    watcher: asyncio.Task[None] | None = field(default=None, repr=False)
    notify: NotifyListener | None = field(default=None, repr=False)
    started: bool = False  # reported ready at least once
    failed: str | None = None  # why it exited before its first READY=1


class Supervisor:
    """Runs children until `stop()`; pid files under `run_dir` let other commands signal them."""

    def __init__(self, specs: list[ChildSpec], run_dir: Path, *, executable: list[str] | None = None) -> None:
        self.children = [Child(spec) for spec in specs]
        self.run_dir = run_dir
        self.executable = executable or [sys.executable, "-m", "originguard"]
        self.stopping = False
        self.loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()

    async def start(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for child in self.children:
            child.notify = NotifyListener(child.spec.name)
            self.loop.add_reader(child.notify.socket.fileno(), self._on_notify, child)
            await self._spawn(child)
            child.watcher = self.loop.create_task(self._watch(child))

    async def wait_ready(self, timeout: float | None) -> list[str]:
        """Wait until every child reported ready; the names still pending when `timeout` ran out.

        Raises StartupError when a child exits before it was ever ready (a port held by another
        process, a bad file): the others keep running until the caller stops them.
        """
        deadline = None if timeout is None else self.loop.time() + timeout
        while True:
            failed = [c for c in self.children if c.failed is not None]
            if failed:
                raise StartupError("; ".join(f"{c.spec.name} did not start: {c.failed}" for c in failed))
            pending = [c.spec.name for c in self.children if not c.started]
            left = None if deadline is None else deadline - self.loop.time()
            if not pending or (left is not None and left <= 0):
                return pending
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

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
            if child.notify is not None:
                self.loop.remove_reader(child.notify.socket.fileno())
                child.notify.close()

    def _on_notify(self, child: Child) -> None:
        assert child.notify is not None
        if child.notify.drain():
            if child.notify.ready and not child.started:
                child.started = True
                log.info("%s is ready", child.spec.name)
            self._changed.set()

    async def _spawn(self, child: Child) -> None:
        assert child.notify is not None
        child.notify.ready = False
        child.notify.status = ""
        env = {**os.environ, ENV: child.notify.address}
        child.process = await asyncio.create_subprocess_exec(*self.executable, *child.spec.args, env=env)
        child.started_at = self.loop.time()
        (self.run_dir / f"{child.spec.name}.pid").write_text(f"{child.process.pid}\n")

    async def _watch(self, child: Child) -> None:
        while not self.stopping:
            assert child.process is not None and child.notify is not None
            code = await child.process.wait()
            if self.stopping:
                return
            self._on_notify(child)  # what it said just before exiting may still be queued
            if not child.started:
                child.failed = child.notify.status or f"exited with code {code} before it was ready"
                self._changed.set()
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


async def supervise(
    supervisor: Supervisor, stop: asyncio.Event, on_ready: Callable[[], None], ready_timeout: float = 30.0
) -> None:
    """Start every child, call `on_ready` once all reported ready, run until `stop` is set.

    A child that exits before it was ever ready stops the others and raises StartupError.
    """
    loop = asyncio.get_running_loop()

    async def announce() -> None:
        pending = await supervisor.wait_ready(ready_timeout)
        if pending:
            log.error("not ready after %.0fs: %s; still waiting", ready_timeout, ", ".join(pending))
            await supervisor.wait_ready(None)
        on_ready()

    await supervisor.start()
    announced = loop.create_task(announce())
    stopped = loop.create_task(stop.wait())
    try:
        await asyncio.wait({announced, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if announced.done():
            announced.result()
            await stopped
    finally:
        announced.cancel()
        stopped.cancel()
        await supervisor.stop()


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
