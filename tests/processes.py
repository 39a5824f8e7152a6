"""Processes a fixture starts: each in its own session (so its process group holds every child it
forks), stopped as a group, and never left behind by a fixture that fails.

`spawn()` starts one; `Spawned.wait_until` waits for a real readiness signal (a probe such as a port
that accepts, a line in its output, or READY=1 over the sd_notify protocol), failing at once when the
process exits first and after a generous deadline otherwise. Use it as a context manager, or call
`stop()` in a `finally`: either way a readiness that fails kills the whole group before the error
reaches pytest. Every group still alive is killed at session finish and at interpreter exit too.
"""

from __future__ import annotations

import atexit
import os
import select
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType

from originguard.notify import NotifyListener

# Start-up under load (two CPU-bound processes beside the suite, a cold bytecode cache) takes a few
# seconds; a deadline is for a process that will never be ready, so it is generous rather than tight.
READY_DEADLINE = 60.0
STOP_GRACE = 15.0  # SIGTERM, then this long for a graceful exit, then SIGKILL
POLL = 0.02

_LIVE: dict[int, Spawned] = {}  # pgid -> the process that leads it


class NotReady(AssertionError):
    """A process that exited before it was ready, or was not ready by the deadline."""


class Notify(NotifyListener):
    """The product's own supervisor end of sd_notify(3), waited on with a timeout."""

    def __init__(self) -> None:
        super().__init__("test")

    def wait(self, timeout: float) -> bool:
        """Read what arrives within `timeout`; True once READY=1 was received."""
        if not self.ready and select.select([self.socket], [], [], max(0.0, timeout))[0]:
            self.drain()
        return self.ready


class Spawned:
    """One started process, leader of its own process group; its output goes to `log`."""

    def __init__(
        self,
        args: Sequence[str],
        log: Path,
        *,
        err: Path | None = None,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        notify: bool = False,
    ) -> None:
        self.args = list(args)
        self.log = log
        self.notify = Notify() if notify else None
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        if self.notify is not None:
            full_env["NOTIFY_SOCKET"] = self.notify.address
        self.err = err
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as sink, (err or Path(os.devnull)).open("wb") as err_sink:
            self.process = subprocess.Popen(
                self.args,
                cwd=cwd,
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT if err is None else err_sink,
                start_new_session=True,
            )
        self.pgid = self.process.pid  # a session leader leads its own process group
        _LIVE[self.pgid] = self

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        """What it printed so far (stdout and stderr, or stdout alone when stderr has a file of its own)."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def errors(self) -> str:
        """Its stderr when that has a file of its own."""
        return self.err.read_text(errors="replace") if self.err is not None and self.err.exists() else ""

    def wait_until(self, ready: Callable[[], bool], what: str, deadline: float = READY_DEADLINE) -> None:
        """Poll `ready()` until it holds; raise NotReady (after stopping the group) when the process
        exits first or `deadline` seconds pass. Waits on the signal itself, never for time to pass."""
        end = time.monotonic() + deadline
        while True:
            try:
                if ready():
                    return
            except BaseException:  # a probe that fails outright (or ^C): the group goes with it
                self.stop()
                raise
            code = self.process.poll()
            if code is not None:
                self._fail(f"exited with code {code} before {what}")
            left = end - time.monotonic()
            if left <= 0:
                self._fail(f"not {what} within {deadline:.0f}s")
            # Block on the notify socket when there is one (READY=1 wakes us at once), else poll.
            if self.notify is not None:
                self.notify.wait(min(POLL * 5, left))
            else:
                time.sleep(min(POLL, left))

    def wait_ready(self, deadline: float = READY_DEADLINE) -> None:
        """Wait for READY=1 over sd_notify (the component says it once every listener is bound)."""
        assert self.notify is not None, "spawn(..., notify=True) sets NOTIFY_SOCKET"
        notify = self.notify
        self.wait_until(lambda: notify.wait(0), "ready (READY=1)", deadline)

    def wait_for_output(self, needle: str, deadline: float = READY_DEADLINE) -> str:
        """Wait until `needle` appears in the output; return the output so far."""
        self.wait_until(lambda: needle in self.output(), f"printing {needle!r}", deadline)
        return self.output()

    def _fail(self, why: str) -> None:
        self.stop()
        raise NotReady(
            f"{' '.join(self.args)}: {why}; its output:\n{(self.output() + self.errors())[-4000:]}"
        )

    def stop(self, grace: float = STOP_GRACE) -> int | None:
        """Stop the leader as a user would (SIGTERM: it stops its own children), then whatever of its
        group is left (SIGTERM, then SIGKILL after `grace` seconds); return once no member is alive.
        Returns the leader's exit code."""
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                with suppress(subprocess.TimeoutExpired):
                    self.process.wait(grace)
            if group_alive(self.pgid):  # a leader that would not stop, or workers it left behind
                signal_group(self.pgid, signal.SIGTERM)
                if not _wait_group_gone(self.pgid, grace):
                    signal_group(self.pgid, signal.SIGKILL)
            if self.process.poll() is None:
                self.process.wait(grace)
            if not _wait_group_gone(self.pgid, grace):
                raise AssertionError(
                    f"process group {self.pgid} survived SIGKILL: {group_members(self.pgid)}"
                )
            return self.process.returncode
        finally:
            _LIVE.pop(self.pgid, None)
            if self.notify is not None:
                self.notify.close()
                self.notify = None

    def __enter__(self) -> Spawned:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


spawn = Spawned  # `spawn(args, log, ...)` reads as what it does at the call sites


@contextmanager
def running(
    args: Sequence[str],
    log: Path,
    ready: Callable[[Spawned], None],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    notify: bool = False,
) -> Iterator[Spawned]:
    """Start, wait with `ready(spawned)`, yield, and stop the group however the block ends."""
    spawned = spawn(args, log, cwd=cwd, env=env, notify=notify)
    try:
        ready(spawned)
        yield spawned
    finally:
        spawned.stop()


def signal_group(pgid: int, signum: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def group_members(pgid: int) -> list[int]:
    """Pids of the live (not zombie) processes whose process group is `pgid`, read from /proc."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after the last ')'.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry))
    return members


def group_alive(pgid: int) -> bool:
    return bool(group_members(pgid))


def _wait_group_gone(pgid: int, within: float) -> bool:
    end = time.monotonic() + within
    while group_alive(pgid):
        if time.monotonic() >= end:
            return False
        time.sleep(POLL)
    return True


def live_groups() -> list[int]:
    """Process groups the helpers started and have not stopped yet."""
    return list(_LIVE)


def kill_leftovers(only: Iterable[int] | None = None) -> list[int]:
    """Safety net (session finish, interpreter exit): SIGKILL every group the helpers started and
    did not stop (or those of `only`); the pgids it killed."""
    left = []
    for pgid, spawned in list(_LIVE.items()):
        if only is not None and pgid not in only:
            continue
        left.append(pgid)
        signal_group(pgid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            spawned.process.wait(STOP_GRACE)
        _wait_group_gone(pgid, STOP_GRACE)
        _LIVE.pop(pgid, None)
    return left


atexit.register(kill_leftovers)
