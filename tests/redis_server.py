"""A real redis-server for tests: a free 127.0.0.1 port, no persistence, stop and restart on that port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

READY_TIMEOUT = 10.0


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
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The redis:// URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._process is not None and self._process.poll() is None

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
        self._process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_ready()

    def stop(self) -> None:
        """Kill the server (SIGKILL: an outage, not a clean shutdown) and wait for it to exit."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait(READY_TIMEOUT)
        self._process = None

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

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                log = (self.workdir / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"redis-server exited with {self._process.returncode}: {log}")
            try:
                if self.command("PING").startswith(b"+PONG"):
                    return
            except OSError:
                pass
            time.sleep(0.01)  # polling the port, as CONTRIBUTING.md asks, not a fixed sleep
        self.stop()
        raise RuntimeError(f"redis-server did not answer PING on port {self.port} in {READY_TIMEOUT}s")


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
