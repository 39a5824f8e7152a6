"""Request fields with `_` in their names never pass the gate (nginx's underscores_in_headers off).

CGI/WSGI/PHP/Rack read `X_Origin_Verify` and `X-Origin-Verify` as the same variable, so each test
sends the real forged bytes over TLS and reads the head the target received, on the relay fast
path (a warm connection, the head edited in place) and on the coroutine path (a request body).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from originguard.certs import CertFiles
from originguard.config import load_config
from originguard.config.values import HostPort
from originguard.gate.process import start_gate
from tests.integration.gate.conftest import write_gate_config
from tests.integration.gate.test_relay import Relayed, warm
from tests.raw_upstream import RawUpstream
from tests.support import LoopThread, client_tls, read_response, wait_for

FORGED = (
    b"X_Origin_Verify: forged\r\n"
    b"x_origin-verify: forged-too\r\n"
    b"Transfer_Encoding: chunked\r\n"
    b"Content_Length: 5\r\n"
    b"X_Custom: a\r\n"
    b"X-Kept: value_with_underscores\r\n"
)


def start(
    tmp_path: Path,
    pki: dict[str, CertFiles],
    loop_thread: LoopThread,
    secret_file: tuple[Path, str],
    allow: bool,
) -> Relayed:
    upstream = RawUpstream().start(loop_thread)
    config = write_gate_config(
        tmp_path, pki, secret_file[0], [HostPort("127.0.0.1", upstream.port)], health="null"
    )
    if allow:
        text = config.read_text().replace(
            "      protocol: https\n", "      protocol: https\n      underscores_in_headers: true\n"
        )
        config.write_text(text)
    handle = loop_thread.run(start_gate(load_config(config)))
    return Relayed(
        handle, handle.listeners[0].port, secret_file[1], client_tls(pki["ca"].certificate), upstream
    )


@pytest.fixture
def gate(
    tmp_path: Path, pki: dict[str, CertFiles], loop_thread: LoopThread, secret_file: tuple[Path, str]
) -> Iterator[Relayed]:
    setup = start(tmp_path, pki, loop_thread, secret_file, allow=False)
    yield setup
    loop_thread.run(setup.handle.shutdown(1))
    setup.upstream.stop(loop_thread)


@pytest.fixture
def permissive_gate(
    tmp_path: Path, pki: dict[str, CertFiles], loop_thread: LoopThread, secret_file: tuple[Path, str]
) -> Iterator[Relayed]:
    setup = start(tmp_path, pki, loop_thread, secret_file, allow=True)
    yield setup
    loop_thread.run(setup.handle.shutdown(1))
    setup.upstream.stop(loop_thread)


def forged_request(setup: Relayed, path: str, *, body: bytes = b"") -> bytes:
    head = setup.admitted(path, method="POST" if body else "GET").replace(
        b"\r\n\r\n", b"\r\n" + FORGED + b"\r\n"
    )
    if body:
        head = head.replace(b"\r\n\r\n", b"\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
    return head


def field_names(head: bytes) -> list[bytes]:
    return [line.partition(b":")[0] for line in head.split(b"\r\n")[1:]]


def dropped(setup: Relayed) -> float:
    return sum(cell.value for cell in setup.handle.runtime.underscore_fields_dropped.cells.values())


def send(setup: Relayed, sock: socket.socket, raw: bytes) -> bytes:
    before = len(setup.upstream.requests)
    sock.sendall(raw)
    assert read_response(sock).status == 200
    wait_for(lambda: len(setup.upstream.requests) > before)
    return setup.upstream.requests[-1]


def test_underscore_fields_never_reach_the_target_on_the_relay_path(gate: Relayed) -> None:
    with gate.session() as sock:
        warm(gate, sock)
        relayed = gate.relayed()
        head = send(gate, sock, forged_request(gate, "/relayed"))
    assert gate.relayed() == relayed + 1, "the warm connection relayed it"
    names = field_names(head)
    assert not [name for name in names if b"_" in name], head
    assert b"X-Kept: value_with_underscores" in head, "underscores in values are nobody's business"
    assert b"forged" not in head and gate.secret.encode() not in head
    assert dropped(gate) == 5


def test_underscore_fields_never_reach_the_target_with_a_body(gate: Relayed) -> None:
    with gate.session() as sock:
        head = send(gate, sock, forged_request(gate, "/posted", body=b"hello"))
    assert head.startswith(b"POST /posted ")
    assert not [name for name in field_names(head) if b"_" in name], head
    assert b"Content-Length: 5" in head and b"forged" not in head
    assert dropped(gate) == 5


def test_an_underscore_copy_of_the_secret_does_not_satisfy_the_rule(gate: Relayed) -> None:
    raw = f"GET / HTTP/1.1\r\nHost: g\r\nX_Origin_Verify: {gate.secret}\r\nConnection: close\r\n\r\n".encode()
    with gate.session() as sock:
        sock.sendall(raw)
        assert read_response(sock).status == 403
    assert gate.upstream.requests == []


def test_an_allowing_listener_still_never_forwards_a_copy_of_a_secret_header_name(
    permissive_gate: Relayed,
) -> None:
    setup = permissive_gate
    with setup.session() as sock:
        warm(setup, sock)
        relayed = setup.relayed()
        heads = [send(setup, sock, forged_request(setup, "/relayed"))]
        heads.append(send(setup, sock, forged_request(setup, "/posted", body=b"hello")))
    assert setup.relayed() == relayed + 1
    for head in heads:
        names = [name.lower() for name in field_names(head)]
        assert b"x_custom" in names and b"transfer_encoding" in names, "allowed: passed on as sent"
        assert b"x_origin_verify" not in names and b"x_origin-verify" not in names, head
        assert b"forged" not in head
    assert dropped(setup) == 4


def test_underscore_fields_in_a_head_split_across_reads_are_dropped_too(gate: Relayed) -> None:
    first, _, rest = forged_request(gate, "/split").partition(b"X_Origin_Verify")
    with gate.session() as sock:
        sock.sendall(first)  # no `_` anywhere in the first read
        time.sleep(0.2)  # two TLS records apart: the gate reads the head in two pieces
        before = len(gate.upstream.requests)
        sock.sendall(b"X_Origin_Verify" + rest)
        assert read_response(sock).status == 200
    wait_for(lambda: len(gate.upstream.requests) > before)
    head = gate.upstream.requests[-1]
    assert not [name for name in field_names(head) if b"_" in name], head
