"""Two edge workers on one port (SO_REUSEPORT): both serve, a dead one is replaced, purges reach both."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from originguard.config.values import HostPort
from originguard.http.limits import Limits
from originguard.http.server import HttpServer
from originguard.secrets import write_secret_file
from tests.integration.workers.harness import start_workers
from tests.origin_app import ScriptedOrigin
from tests.support import LoopThread, exchange, request, wait_for


@pytest.fixture
def workers(
    tmp_path: Path, loop_thread: LoopThread
) -> Iterator[tuple[int, int, ScriptedOrigin, subprocess.Popen[bytes]]]:
    origin = ScriptedOrigin()

    async def start() -> tuple[HttpServer, HostPort]:
        server = HttpServer(origin, Limits())
        return server, await server.listen(HostPort("127.0.0.1", 0))

    server, address = loop_thread.run(start())
    try:
        write_secret_file(tmp_path / "secret", ["k3v9q2m7x4c8b1z6l0h5d2f9g7j3p8t1w4r6y0u2"])
        write_secret_file(tmp_path / "token", ["workertoken0123456789abcdefghijklmnopq"])
        http, admin, edge = start_workers(tmp_path, address)
        with edge:  # stops the parent and both workers, whatever the test did
            yield http, admin, origin, edge.process
    finally:
        loop_thread.run(server.shutdown(1))


def served_by(admin: int) -> float:
    raw = exchange(admin, b"GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    return sum(float(v) for v in re.findall(rb"originguard_edge_requests_total\{[^}]*\} ([0-9.e+]+)", raw))


def worker_pids(parent: int) -> set[int]:
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    return {int(pid) for pid in children}


def test_both_workers_serve_a_dead_one_is_replaced_and_purges_reach_both(workers) -> None:  # type: ignore[no-untyped-def]
    http, admin, origin, process = workers
    for _ in range(60):
        assert request(http, b"GET /page HTTP/1.1\r\nHost: w\r\nConnection: close\r\n\r\n").status == 200
    assert served_by(admin) > 0 and served_by(admin + 1) > 0, "the kernel spreads connections over both"
    assert origin.hits[b"/page"] == 2, "each worker has its own cache: one fill each"
    token = b"workertoken0123456789abcdefghijklmnopq"
    body = json.dumps({"paths": ["/page"]}).encode()
    answer = exchange(
        admin,
        b"POST /invalidations HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer "
        + token
        + b"\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body),
    )
    assert b'"invalidated": 2' in answer, answer
    for _ in range(60):
        request(http, b"GET /page HTTP/1.1\r\nHost: w\r\nConnection: close\r\n\r\n")
    assert origin.hits[b"/page"] == 4, "both workers missed after the purge"
    before = worker_pids(process.pid)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: len(worker_pids(process.pid) - {victim}) == 2, timeout=15)
    for _ in range(20):
        assert request(http, b"GET /page HTTP/1.1\r\nHost: w\r\nConnection: close\r\n\r\n").status == 200
