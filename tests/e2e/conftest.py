"""The whole stack from `originguard up`, as a user starts it, in a fresh directory."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processes import READY_DEADLINE, spawn
from tests.support import port_closed

STACK_PORTS = (8080, 8443, 8081, 8444, 9443, 9000, 9901, 9911, 9912, 5353)
STACK_DEADLINE = 2 * READY_DEADLINE


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
    up = spawn([sys.executable, "-m", "originguard", "up"], cwd / "up.out", cwd=cwd)
    with up:  # SIGTERM to `up`, then the whole group: its gate, edges, DNS router and demo app
        # The banner is printed once every child said READY=1; the CRS loads in several processes.
        banner = up.wait_for_output("originguard is up", deadline=STACK_DEADLINE)
        yield Stack(cwd, up.process, banner)
