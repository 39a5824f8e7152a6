"""Gate operations with real servers: health checks, upstream failures, timeouts, reload, leaks."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import threading
import time
from pathlib import Path

from originguard.certs import CertFiles
from originguard.config import load_config
from originguard.config.values import HostPort
from originguard.gate.process import start_gate
from originguard.http.client import UpstreamPool
from originguard.secrets import write_secret_file
from tests.integration.gate.conftest import GateSetup, start_apps, write_gate_config
from tests.support import (
    LoopThread,
    client_tls,
    connect,
    exchange,
    read_all,
    read_response,
    request,
    wait_for,
)

OVERSIZED_TAIL = b"\r\nX-Big: " + b"a" * 17000 + b"\r\n\r\n"
NEW_VALUE = "n3wvalue0rotated0k3y0abcdefghijklmnopqrs"


def admitted(secret: str, path: str = "/x") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: gate.originguard.test\r\nX-Origin-Verify: {secret}\r\n\r\n".encode()


def test_killed_target_is_taken_out_gets_no_requests_and_comes_back(
    gate: GateSetup, loop_thread: LoopThread
) -> None:
    group = gate.handle.runtime.groups["app"]
    wait_for(lambda: all(t.healthy for t in group.targets))
    down_app, down_server = gate.apps[0], gate.app_servers[0]
    loop_thread.run(down_server.shutdown(0.5))
    wait_for(lambda: not group.targets[0].healthy, timeout=5)
    seen_before = down_app.requests_seen
    for _ in range(20):
        assert request(gate.port, admitted(gate.secret), tls=gate.tls).status == 200
    assert down_app.requests_seen == seen_before, "no request may reach a target while it is down"
    assert gate.apps[1].requests_seen >= 20

    async def restart() -> None:
        from originguard.http.limits import Limits
        from originguard.http.server import HttpServer

        server = HttpServer(down_app, Limits())
        await server.listen(gate.app_addresses[0])
        gate.app_servers[0] = server

    loop_thread.run(restart())
    wait_for(lambda: group.targets[0].healthy, timeout=5)
    for _ in range(10):
        request(gate.port, admitted(gate.secret), tls=gate.tls)
    assert down_app.requests_seen > seen_before


def test_target_refusing_connections_gives_502_and_a_hanging_target_504(
    tmp_path: Path, pki: dict[str, CertFiles], loop_thread: LoopThread, secret_file: tuple[Path, str]
) -> None:
    hanging = socket.socket()
    hanging.bind(("127.0.0.1", 0))
    hanging.listen(8)  # accepts (kernel backlog) but never answers
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()  # nothing listens here any more
    tls = client_tls(pki["ca"].certificate)
    for target, status in (
        (HostPort("127.0.0.1", closed_port), 502),
        (HostPort(*hanging.getsockname()), 504),
    ):
        config = write_gate_config(tmp_path, pki, secret_file[0], [target], health="null")
        handle = loop_thread.run(start_gate(load_config(config)))
        try:
            response = request(handle.listeners[0].port, admitted(secret_file[1]), tls=tls)
            assert response.status == status
            assert b"Traceback" not in response.raw and secret_file[1].encode() not in response.raw
        finally:
            loop_thread.run(handle.shutdown(1))
    hanging.close()


def test_slow_client_headers_time_out_with_408_while_others_are_served(
    impatient_gate: tuple[int, ssl.SSLContext],
) -> None:
    port, tls = impatient_gate
    slow = connect(port, tls=tls, timeout=5)
    slow.sendall(b"GET / HTTP/1.1\r\nHost: gate.originguard.test\r\n")  # never finishes the head
    started = time.monotonic()
    assert request(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", tls=tls).status == 403  # others served
    raw = read_all(slow)
    assert raw.startswith(b"HTTP/1.1 408 ")
    assert 0.9 <= time.monotonic() - started <= 4.0
    slow.close()


def test_graceful_shutdown_finishes_in_flight_requests_and_stops_accepting(gate: GateSetup) -> None:
    wait_for(lambda: all(t.healthy for t in gate.handle.runtime.groups["app"].targets))
    results: list[int] = []
    sock = connect(gate.port, tls=gate.tls)
    head = (
        "POST /slow HTTP/1.1\r\nHost: gate.originguard.test\r\n"
        f"X-Origin-Verify: {gate.secret}\r\nContent-Length: 4\r\n\r\nab"
    ).encode()
    sock.sendall(head)  # in flight: half a body sent

    def finish() -> None:
        time.sleep(0.5)
        sock.sendall(b"cd")
        results.append(read_response(sock).status)

    finisher = threading.Thread(target=finish)
    finisher.start()
    loop = gate.handle.runtime.pool.loop
    future = asyncio.run_coroutine_threadsafe(gate.handle.shutdown(5), loop)
    wait_for(lambda: all(s.draining for s, _ in gate.handle.servers.values()))
    finisher.join(5)
    future.result(10)
    assert results == [200]
    try:
        response = request(gate.port, admitted(gate.secret), tls=gate.tls)
        raise AssertionError(f"a stopped gate answered {response.status}")
    except OSError:
        pass


def test_reload_applies_new_rules_and_rotated_secret_values(gate: GateSetup, loop_thread: LoopThread) -> None:
    wait_for(lambda: all(t.healthy for t in gate.handle.runtime.groups["app"].targets))
    secret_path = Path(load_config(gate.config_path).config.secrets["origin-verify"].file or "")
    write_secret_file(secret_path, [gate.secret, NEW_VALUE])
    loop_thread.run(gate.handle.reload(load_config(gate.config_path)))
    assert request(gate.port, admitted(gate.secret), tls=gate.tls).status == 200
    assert request(gate.port, admitted(NEW_VALUE), tls=gate.tls).status == 200
    write_secret_file(secret_path, [NEW_VALUE])
    loop_thread.run(gate.handle.reload(load_config(gate.config_path)))
    assert request(gate.port, admitted(gate.secret), tls=gate.tls).status == 403


def test_secret_appears_in_no_log_line_error_body_or_metric(gate: GateSetup, loop_thread: LoopThread) -> None:
    wait_for(lambda: all(t.healthy for t in gate.handle.runtime.groups["app"].targets))
    secret = gate.secret.encode()
    seen = [
        request(gate.port, admitted(gate.secret), tls=gate.tls).raw,
        request(gate.port, admitted(gate.secret.upper()), tls=gate.tls).raw,
        exchange(gate.port, admitted(gate.secret).replace(b"GET", b"G@T"), tls=gate.tls),
        exchange(gate.port, admitted(gate.secret)),  # plain HTTP to the TLS port
        exchange(
            gate.port,
            admitted(gate.secret).replace(b"\r\n\r\n", b"\r\nX-Big: " + b"a" * 17000 + b"\r\n\r\n"),
            tls=gate.tls,
        ),
    ]
    gate.handle.runtime.access_log.flush()
    admin = gate.handle.admin
    assert admin is not None
    metrics = exchange(admin.port, b"GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    targets = exchange(admin.port, b"GET /targets HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    log_text = gate.log_path.read_bytes()
    assert b"originguard_gate_requests_total" in metrics
    assert log_text.count(b"\n") >= 5
    for blob in [*seen, metrics, targets, log_text, repr(gate.handle.loaded).encode()]:
        assert secret not in blob and secret.upper() not in blob
    records = [json.loads(line) for line in log_text.splitlines()]
    assert {r["status"] for r in records} >= {200, 403, 400, 431}


def test_idempotent_request_is_retried_when_a_reused_connection_was_closed_by_the_target(
    loop_thread: LoopThread,
) -> None:
    """The keep-alive race: the target closes a pooled connection just as the next request arrives."""
    accepted: list[int] = []

    async def scenario() -> tuple[list[int], int, int]:
        from originguard.http.client import Upstream

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accepted.append(1)
            served = 0
            while await reader.readuntil(b"\r\n\r\n"):
                if served == 1:  # the second request on this connection: close without answering
                    writer.close()
                    return
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                served += 1

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        pool = UpstreamPool(idle_timeout=60)
        upstream = Upstream("127.0.0.1", port)
        statuses = []
        for path in (b"/a", b"/b"):
            response = await pool.request(upstream, b"GET", path, [(b"Host", b"t")])
            await response.read_all()
            statuses.append(response.status)
        pool.close()
        server.close()
        return statuses, len(accepted), port

    statuses, connections, _ = loop_thread.run(scenario())
    assert statuses == [200, 200], "the GET was replayed on a fresh connection"
    assert connections == 2


def test_stalled_body_gets_408_and_idle_keep_alive_is_closed(
    tmp_path: Path, pki: dict[str, CertFiles], loop_thread: LoopThread, secret_file: tuple[Path, str]
) -> None:
    apps, servers, addresses = start_apps(loop_thread, 1)
    config = write_gate_config(
        tmp_path, pki, secret_file[0], addresses, health="null", body_timeout="1s", keepalive_timeout="1s"
    )
    handle = loop_thread.run(start_gate(load_config(config)))
    tls = client_tls(pki["ca"].certificate)
    port = handle.listeners[0].port
    try:
        stalled = connect(port, tls=tls, timeout=5)
        stalled.sendall(
            f"POST /upload HTTP/1.1\r\nHost: gate.originguard.test\r\nX-Origin-Verify: {secret_file[1]}\r\n"
            "Content-Length: 100\r\n\r\nonly-part-of-it".encode()
        )
        started = time.monotonic()
        raw = read_all(stalled)
        assert raw.startswith(b"HTTP/1.1 408 ") and 0.9 <= time.monotonic() - started <= 4.0
        assert apps[0].requests_seen == 0
        idle = connect(port, tls=tls, timeout=5)
        idle.sendall(b"GET / HTTP/1.1\r\nHost: gate.originguard.test\r\n\r\n")
        assert read_response(idle).status == 403
        started = time.monotonic()
        assert read_all(idle) == b"", "an idle keep-alive connection is closed without a response"
        assert 0.9 <= time.monotonic() - started <= 4.0
    finally:
        loop_thread.run(handle.shutdown(1))
        loop_thread.run(servers[0].shutdown(1))


def test_access_log_lines_reach_the_file_while_the_gate_runs(gate: GateSetup) -> None:
    # The first lines of a running gate sat in its buffer until shutdown (#16 item 11).
    for _ in range(3):
        raw = exchange(gate.port, b"GET / HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n", tls=gate.tls)
        assert raw.startswith(b"HTTP/1.1 403 ")
    wait_for(lambda: gate.log_path.exists() and len(gate.log_path.read_bytes().splitlines()) >= 3, timeout=5)
