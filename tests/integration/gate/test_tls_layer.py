"""The viewer-side TLS layer (http/tls_server.py) on real sockets: handshakes that stall or fail,
records split across reads or queued behind a paused connection, close_notify, old versions."""

from __future__ import annotations

import json
import socket
import ssl
import time

import pytest

from originguard.certs import CertFiles
from originguard.http.tls import server_context
from tests.integration.gate.conftest import GateSetup
from tests.support import client_tls, connect, read_all, read_response, request, wait_for


def admitted(gate: GateSetup, path: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: gate.originguard.test\r\nX-Origin-Verify: {gate.secret}\r\n\r\n"
    ).encode()


def healthy(gate: GateSetup) -> None:
    wait_for(lambda: all(t.healthy for t in gate.handle.runtime.groups["app"].targets))


def test_requests_in_many_records_beyond_the_pipeline_depth_are_all_answered_in_order(
    gate: GateSetup,
) -> None:
    # One record per request, sent at once: the connection pauses reading past 16 queued
    # requests while records wait in the layer, and resumes with them once the queue drains.
    healthy(gate)
    paths = [f"/r{index}" for index in range(40)]
    with connect(gate.port, tls=gate.tls) as sock:
        for path in paths:
            sock.sendall(admitted(gate, path))
        answered = [json.loads(read_response(sock).body)["path"] for _ in paths]
    assert answered == paths


def test_a_request_split_mid_record_across_reads_is_served(gate: GateSetup) -> None:
    healthy(gate)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = gate.tls.wrap_bio(incoming, outgoing, server_hostname="gate.originguard.test")
    with socket.create_connection(("127.0.0.1", gate.port), timeout=5) as sock:
        while True:  # the handshake by hand, so that the record bytes are ours to cut
            try:
                client.do_handshake()
                break
            except ssl.SSLWantReadError:
                sock.sendall(outgoing.read())
                incoming.write(sock.recv(65536))
        sock.sendall(outgoing.read())
        client.write(admitted(gate, "/split"))
        record = outgoing.read()
        for piece in (record[:3], record[3:40], record[40:]):  # inside the header, inside the body
            sock.sendall(piece)
            time.sleep(0.05)
        while b"\r\n\r\n" not in (plain := _read_plaintext(client, incoming, sock)):
            pass
    assert plain.startswith(b"HTTP/1.1 200 ") and b'"path": "/split"' in plain


def _read_plaintext(client: ssl.SSLObject, incoming: ssl.MemoryBIO, sock: socket.socket) -> bytes:
    data = sock.recv(65536)
    assert data, "the gate closed the connection"
    incoming.write(data)
    try:
        return client.read(65536)
    except ssl.SSLWantReadError:
        return b""


def test_close_notify_from_the_client_is_answered_in_kind(gate: GateSetup) -> None:
    with connect(gate.port, tls=gate.tls) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: gate.originguard.test\r\n\r\n")
        assert read_response(sock).status == 403
        plain = sock.unwrap()  # sends close_notify, waits for the gate's
        assert plain.recv(1) == b""  # then the gate closes the stream
    assert request(gate.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", tls=gate.tls).status == 403


def test_garbage_after_a_handshake_record_byte_is_dropped_and_others_are_served(gate: GateSetup) -> None:
    with socket.create_connection(("127.0.0.1", gate.port), timeout=5) as sock:
        sock.sendall(b"\x16\x03\x01\x00\x05hello" + b"\x00" * 64)
        started = time.monotonic()
        answer = read_all(sock)
        assert time.monotonic() - started < 2.0  # closed at once, not at the socket timeout
    assert answer == b"" or answer[0] == 0x15  # nothing, or an alert record
    assert request(gate.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", tls=gate.tls).status == 403


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion:DeprecationWarning")
def test_tls_1_1_is_refused_with_an_alert(gate: GateSetup, pki: dict[str, CertFiles]) -> None:
    old = client_tls(pki["ca"].certificate)
    old.set_ciphers("DEFAULT:@SECLEVEL=0")  # so that this client can offer TLS 1.1 at all
    old.minimum_version = ssl.TLSVersion.TLSv1
    old.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises(ssl.SSLError, match=r"(?i)alert protocol version"):  # the gate's alert
        connect(gate.port, tls=old).close()
    assert request(gate.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", tls=gate.tls).status == 403


def test_our_server_contexts_refuse_renegotiation(pki: dict[str, CertFiles]) -> None:
    context = server_context(pki["gate"].certificate, pki["gate"].key)
    assert context.options & ssl.OP_NO_RENEGOTIATION


def test_a_stalled_handshake_is_dropped_after_the_header_timeout(
    impatient_gate: tuple[int, ssl.SSLContext],
) -> None:
    port, tls = impatient_gate
    with socket.create_connection(("127.0.0.1", port), timeout=5) as stalled:
        stalled.sendall(b"\x16\x03\x01")  # a ClientHello's first bytes, and nothing more
        started = time.monotonic()
        assert request(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", tls=tls).status == 403
        assert read_all(stalled) == b""
        assert 0.9 <= time.monotonic() - started <= 4.0
