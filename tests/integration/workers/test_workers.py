"""Two edge workers on one port (SO_REUSEPORT): both serve, a dead one is replaced, purges reach both."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from originguard.config.values import HostPort
from originguard.http.limits import Limits
from originguard.http.server import HttpServer
from originguard.secrets import write_secret_file
from tests.origin_app import ScriptedOrigin
from tests.support import LoopThread, exchange, port_closed, request, wait_for

CONFIG = """
secrets: {{origin-verify: {{file: {tmp}/secret}}, admin-token: {{file: {tmp}/token}}}}
edges:
  - {{name: edge-w, region: local, http: 127.0.0.1:{http}, admin: 127.0.0.1:{admin}, workers: 2}}
distribution:
  viewer_protocol_policy: allow-all
  access_log: null
  admin_token: {{secret: admin-token}}
  origins:
    - id: app
      address: "{origin}"
      protocol_policy: http-only
      custom_headers: {{X-Origin-Verify: {{secret: origin-verify}}}}
  default_behavior: {{origin: app, ttl: {{min: 0, default: 60, max: 600}}}}
"""


def free_ports(count: int) -> list[int]:
    import socket

    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for sock in sockets:
        sock.close()
    return ports


@pytest.fixture
def workers(
    tmp_path: Path, loop_thread: LoopThread
) -> Iterator[tuple[int, int, ScriptedOrigin, subprocess.Popen[bytes]]]:
    origin = ScriptedOrigin()

    async def start() -> tuple[HttpServer, HostPort]:
        server = HttpServer(origin, Limits())
        return server, await server.listen(HostPort("127.0.0.1", 0))

    server, address = loop_thread.run(start())
    write_secret_file(tmp_path / "secret", ["k3v9q2m7x4c8b1z6l0h5d2f9g7j3p8t1w4r6y0u2"])
    write_secret_file(tmp_path / "token", ["workertoken0123456789abcdefghijklmnopq"])
    http, admin, _ = free_ports(3)
    while not port_closed(admin + 1):
        http, admin, _ = free_ports(3)
    (tmp_path / "edge.yaml").write_text(CONFIG.format(tmp=tmp_path, http=http, admin=admin, origin=address))
    process = subprocess.Popen(
        [sys.executable, "-m", "originguard", "edge", "-c", str(tmp_path / "edge.yaml"), "--name", "edge-w"],
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    wait_for(lambda: not port_closed(admin) and not port_closed(admin + 1), timeout=20)
    yield http, admin, origin, process
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(15)
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
