"""A real redis-server for tests: a free 127.0.0.1 port, no persistence, stop and restart on that port."""

from __future__ import annotations

import shutil
import signal
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.processes import READY_DEADLINE, Spawned, signal_group, spawn

READY_TIMEOUT = READY_DEADLINE  # generous: it answers in milliseconds, slower only under load


class RedisServer:
    """One redis-server process in `workdir`; `stop()` and `start()` keep the port (outage tests)."""

    def __init__(self, workdir: Path, executable: str = "redis-server") -> None:
        found = shutil.which(executable)
        if found is None:
            raise RuntimeError(f"{executable} not found: run `make debs` (installs Debian's redis-server)")
        self.executable = found
        self.workdir = workdir
        # redis-server cannot report a kernel-chosen port back, so take a free one and keep it:
        # an outage test must restart the server where the clients already point.
        self.port = free_port()
        self._spawned: Spawned | None = None

    @property
    def url(self) -> str:
        """The redis:// URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._spawned is not None and self._spawned.process.poll() is None

    def start(self) -> None:
        """Start the server and return once it answers PING."""
        if self.running:
            return
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = [
            self.executable,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.workdir),
            "--protected-mode",
            "yes",
            "--logfile",
            str(self.workdir / "redis.log"),
        ]
        self._spawned = spawn(args, self.workdir / "redis.out")  # its own process group, as every fixture's
        try:
            self._spawned.wait_until(self._answers_ping, f"answering PING on port {self.port}", READY_TIMEOUT)
        except BaseException:
            self._spawned = None  # wait_until stopped it
            raise

    def stop(self) -> None:
        """Kill the server (SIGKILL: an outage, not a clean shutdown) and wait for it to exit."""
        if self._spawned is None:
            return
        signal_group(self._spawned.pgid, signal.SIGKILL)
        self._spawned.stop()  # reaps it and checks that nothing of its group is left
        self._spawned = None

    def restart(self) -> None:
        """Stop and start on the same port; the data is gone, as after a real crash without persistence."""
        self.stop()
        self.start()

    def command(self, *args: str) -> bytes:
        """Send one command over a raw socket and return the raw RESP reply (for readiness and scans)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2.0) as conn:
            parts = [f"*{len(args)}\r\n".encode()]
            for arg in args:
                data = arg.encode()
                parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
            conn.sendall(b"".join(parts))
            return conn.recv(65536)

    def _answers_ping(self) -> bool:
        try:
            return self.command("PING").startswith(b"+PONG")
        except OSError:
            return False


def free_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_server_fixture(scope: str = "function") -> Callable[..., Iterator[RedisServer]]:
    """Make a pytest fixture yielding a started `RedisServer` (fails, not skips, without redis-server)."""

    @pytest.fixture(scope=scope)  # type: ignore[call-overload, misc]
    def fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
        server = RedisServer(tmp_path_factory.mktemp("redis"))
        server.start()
        try:
            yield server
        finally:
            server.stop()

    return fixture  # type: ignore[no-any-return]
