"""The whole stack from `originguard up`, as a user starts it, in a fresh directory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import port_closed

STACK_PORTS = (8080, 8443, 8081, 8444, 9443, 9000, 9901, 9911, 9912, 5353)


@dataclass
class Stack:
    cwd: Path
    process: subprocess.Popen[bytes]
    banner: str

    @property
    def state(self) -> Path:
        return self.cwd / ".originguard"

    @property
    def config(self) -> Path:
        return self.state / "originguard.yaml"

    def originguard(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "originguard", *args],
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def reload(self) -> None:
        self.process.send_signal(signal.SIGHUP)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    busy = [p for p in STACK_PORTS if not port_closed(p)]
    if busy:
        pytest.fail(f"the embedded default needs these ports free: {busy}")
    cwd = tmp_path_factory.mktemp("stack")
    out = cwd / "up.out"
    with out.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "originguard", "up"],
            cwd=cwd,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    deadline = time.monotonic() + 60
    while b"originguard is up" not in out.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"originguard up did not come up:\n{out.read_text()[-3000:]}")
        time.sleep(0.2)
    yield Stack(cwd, process, out.read_text())
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
