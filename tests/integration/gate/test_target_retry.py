"""A target that refuses connections costs no request: the next target gets it, and the refusing
one is out at once (nginx's `proxy_next_upstream error` and `max_fails=1`), without waiting for
an active health check. A request the target may have acted on is never sent twice."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from originguard.certs import CertFiles
from originguard.config import load_config
from originguard.config.values import HostPort
from originguard.demo_app import DemoApp
from originguard.gate.process import GateHandle, start_gate
from originguard.http.server import HttpServer
from tests.integration.gate.conftest import start_apps, write_gate_config
from tests.raw_upstream import RawUpstream, Reply
from tests.support import LoopThread, client_tls, connect, read_response


@dataclass
class Gate:
    handle: GateHandle
    port: int
    secret: str
    tls: ssl.SSLContext

    def send(self, method: str, path: str, *, body: bytes = b"", keep: socket.socket | None = None) -> int:
        length = f"Content-Length: {len(body)}\r\n" if body or method == "POST" else ""
        raw = (
            f"{method} {path} HTTP/1.1\r\nHost: g\r\nX-Origin-Verify: {self.secret}\r\n{length}\r\n".encode()
            + body
        )
        sock = keep or connect(self.port, tls=self.tls)
        try:
            sock.sendall(raw)
            return read_response(sock).status
        finally:
            if keep is None:
                sock.close()

    def retries(self) -> float:
        return sum(cell.value for cell in self.handle.runtime.retries.cells.values())


def start(
    tmp_path: Path,
    pki: dict[str, CertFiles],
    loop_thread: LoopThread,
    secret_file: tuple[Path, str],
    targets: list[HostPort],
) -> Gate:
    # No active health check: only the gate's own reaction to the refusal can save the requests.
    config = write_gate_config(tmp_path, pki, secret_file[0], targets, health="null")
    handle = loop_thread.run(start_gate(load_config(config)))
    return Gate(handle, handle.listeners[0].port, secret_file[1], client_tls(pki["ca"].certificate))


@pytest.fixture
def two_apps(loop_thread: LoopThread) -> Iterator[tuple[list[DemoApp], list[HttpServer], list[HostPort]]]:
    apps, servers, addresses = start_apps(loop_thread, 2)
    yield apps, servers, addresses
    for server in servers:
        loop_thread.run(server.shutdown(0))


def test_killing_one_of_two_targets_fails_no_request_and_takes_it_out_at_once(
    tmp_path: Path,
    pki: dict[str, CertFiles],
    loop_thread: LoopThread,
    secret_file: tuple[Path, str],
    two_apps: tuple[list[DemoApp], list[HttpServer], list[HostPort]],
) -> None:
    apps, servers, addresses = two_apps
    gate = start(tmp_path, pki, loop_thread, secret_file, addresses)
    try:
        with connect(gate.port, tls=gate.tls) as warm:
            assert [gate.send("GET", f"/warm{i}", keep=warm) for i in range(4)] == [200] * 4
            assert all(app.requests_seen == 2 for app in apps), "round robin over both"
            loop_thread.run(servers[0].shutdown(0))  # its listening socket and connections close
            served_before = apps[1].requests_seen
            statuses = [gate.send("POST", f"/p{i}", body=b"payload") for i in range(4)]
            statuses += [gate.send("GET", f"/g{i}") for i in range(20)]
            statuses += [gate.send("GET", f"/k{i}", keep=warm) for i in range(10)]
        assert statuses == [200] * len(statuses), statuses
        assert apps[1].requests_seen == served_before + len(statuses)
        assert gate.retries() == 1, "one refusal took the target out: later requests never tried it"
        assert not gate.handle.runtime.groups["app"].targets[0].up
    finally:
        loop_thread.run(gate.handle.shutdown(1))


def test_a_post_whose_target_closed_after_it_was_sent_is_not_retried(
    tmp_path: Path,
    pki: dict[str, CertFiles],
    loop_thread: LoopThread,
    secret_file: tuple[Path, str],
) -> None:
    apps, servers, addresses = start_apps(loop_thread, 1)
    closing = RawUpstream().start(loop_thread)
    closing.replies.append(Reply(close=True))  # reads the request, then hangs up without a word
    # The group's first pick is its second target: the closing one.
    gate = start(tmp_path, pki, loop_thread, secret_file, [addresses[0], HostPort("127.0.0.1", closing.port)])
    try:
        assert gate.send("POST", "/pay", body=b"amount=100") == 502
        assert len(closing.requests) == 1 and apps[0].requests_seen == 0, "sent once, never again"
        assert gate.retries() == 0
    finally:
        loop_thread.run(gate.handle.shutdown(1))
        loop_thread.run(servers[0].shutdown(0))
        closing.stop(loop_thread)


def test_a_get_whose_target_closed_without_answering_goes_to_the_next_target(
    tmp_path: Path,
    pki: dict[str, CertFiles],
    loop_thread: LoopThread,
    secret_file: tuple[Path, str],
) -> None:
    apps, servers, addresses = start_apps(loop_thread, 1)
    closing = RawUpstream().start(loop_thread)
    closing.replies.append(Reply(close=True))
    gate = start(tmp_path, pki, loop_thread, secret_file, [addresses[0], HostPort("127.0.0.1", closing.port)])
    try:
        assert gate.send("GET", "/page") == 200  # RFC 9110 §9.2.2: idempotent, sent again
        assert len(closing.requests) == 1 and apps[0].requests_seen == 1
        assert gate.retries() == 1
    finally:
        loop_thread.run(gate.handle.shutdown(1))
        loop_thread.run(servers[0].shutdown(0))
        closing.stop(loop_thread)
