"""The gate's relay fast path over real TLS, against a raw scripted target.

The first admitted request warms the pool (coroutine path); later ones on a warm connection are
relayed: streamed back from the upstream's read callbacks. Each test proves the relay ran (its
counter) and that the client got exactly what a careful proxy gives.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from originguard.certs import CertFiles
from originguard.config import load_config
from originguard.config.values import HostPort
from originguard.gate.process import GateHandle, start_gate
from tests.integration.gate.conftest import write_gate_config
from tests.raw_upstream import RawUpstream, Reply, ok
from tests.support import LoopThread, client_tls, connect, read_all, read_response, wait_for


@dataclass
class Relayed:
    handle: GateHandle
    port: int
    secret: str
    tls: ssl.SSLContext
    upstream: RawUpstream

    def relayed(self) -> float:
        return sum(cell.value for cell in self.handle.runtime.relayed.cells.values())

    def admitted(self, path: str = "/", method: str = "GET", version: str = "1.1") -> bytes:
        return (
            f"{method} {path} HTTP/{version}\r\nHost: gate.originguard.test\r\n"
            f"X-Origin-Verify: {self.secret}\r\n\r\n"
        ).encode()

    def session(self) -> socket.socket:
        return connect(self.port, tls=self.tls)


@pytest.fixture
def relayed(
    tmp_path: Path, pki: dict[str, CertFiles], loop_thread: LoopThread, secret_file: tuple[Path, str]
) -> Iterator[Relayed]:
    upstream = RawUpstream().start(loop_thread)
    config = write_gate_config(
        tmp_path, pki, secret_file[0], [HostPort("127.0.0.1", upstream.port)], health="null"
    )
    handle = loop_thread.run(start_gate(load_config(config)))
    setup = Relayed(
        handle, handle.listeners[0].port, secret_file[1], client_tls(pki["ca"].certificate), upstream
    )
    yield setup
    loop_thread.run(handle.shutdown(1))
    upstream.stop(loop_thread)


def warm(setup: Relayed, sock: socket.socket) -> None:
    """One request through the coroutine path: afterwards the target's connection is pooled."""
    sock.sendall(setup.admitted("/warm"))
    assert read_response(sock).status == 200
    wait_for(lambda: setup.handle.runtime.pool._idle.get(("127.0.0.1", setup.upstream.port, False, None)))


def test_warm_connection_relays_requests_with_one_upstream_connection(relayed: Relayed) -> None:
    with relayed.session() as sock:
        warm(relayed, sock)
        for index in range(5):
            relayed.upstream.replies.append(
                ok(b"body-%d" % index, b"Date: Mon, 30 Nov 2026 10:00:00 GMT\r\n")
            )
            sock.sendall(relayed.admitted(f"/r{index}"))
            response = read_response(sock)
            assert (response.status, response.body) == (200, b"body-%d" % index)
            # The target's Date is the one that counts (RFC 9110 §6.6.1): never a second one.
            assert [v for k, v in response.headers if k.lower() == "date"] == [
                "Mon, 30 Nov 2026 10:00:00 GMT"
            ]
    assert relayed.relayed() == 5
    assert relayed.upstream.connections == 1
    forwarded = relayed.upstream.requests[-1].decode()
    assert forwarded.startswith("GET /r4 HTTP/1.1\r\n")
    assert relayed.secret not in forwarded and "X-Forwarded-For: 127.0.0.1" in forwarded


def test_x_forwarded_for_is_appended_to_per_request_on_one_connection(relayed: Relayed) -> None:
    # The lines without a viewer's X-Forwarded-For are made once per connection: one with it in
    # between must get its own, and the next one without it the connection's again.
    chains = [None, "203.0.113.9", None, "198.51.100.1, 203.0.113.9"]
    with relayed.session() as sock:
        warm(relayed, sock)
        for index, chain in enumerate(chains):
            extra = f"X-Forwarded-For: {chain}\r\n" if chain else ""
            request = relayed.admitted(f"/x{index}").replace(b"\r\n\r\n", f"\r\n{extra}\r\n".encode())
            sock.sendall(request)
            assert read_response(sock).status == 200
    assert relayed.relayed() == len(chains)
    for chain, head in zip(chains, relayed.upstream.requests[-len(chains) :], strict=True):
        fields = [line for line in head.decode().split("\r\n") if line.lower().startswith("x-forwarded-")]
        expected = f"{chain}, 127.0.0.1" if chain else "127.0.0.1"
        assert fields == [
            f"X-Forwarded-For: {expected}",
            "X-Forwarded-Proto: https",
            f"X-Forwarded-Port: {relayed.port}",
        ]


def test_chunked_target_response_is_rechunked_to_the_client(relayed: Relayed) -> None:
    with relayed.session() as sock:
        warm(relayed, sock)
        relayed.upstream.replies.append(
            Reply(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
            )
        )
        sock.sendall(relayed.admitted("/chunked"))
        response = read_response(sock)
        assert response.header("transfer-encoding") == "chunked" and response.body == b"hello world"
        sock.sendall(relayed.admitted("/after"))
        assert read_response(sock).status == 200  # the client connection is still in step
    assert relayed.relayed() == 2


def test_close_delimited_target_body_reaches_an_http11_client_chunked_and_an_http10_client_by_close(
    relayed: Relayed,
) -> None:
    close_delimited = Reply(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", close=True)
    with relayed.session() as sock:
        warm(relayed, sock)
        relayed.upstream.replies.append(close_delimited)
        sock.sendall(relayed.admitted("/eof"))
        response = read_response(sock)
        assert response.header("transfer-encoding") == "chunked" and response.body == b"until the end"
    with relayed.session() as sock:
        warm(relayed, sock)
        relayed.upstream.replies.append(close_delimited)
        sock.sendall(relayed.admitted("/eof", version="1.0"))
        raw = read_all(sock)  # HTTP/1.0 has no chunked coding: the gate closes to end the body
        assert raw.startswith(b"HTTP/1.1 200 ") and raw.endswith(b"\r\n\r\nuntil the end")
        assert b"Transfer-Encoding" not in raw
    assert relayed.relayed() == 2


def test_head_and_304_are_relayed_without_a_body(relayed: Relayed) -> None:
    with relayed.session() as sock:
        warm(relayed, sock)
        relayed.upstream.replies.append(Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"))
        sock.sendall(relayed.admitted("/head", method="HEAD"))
        head = read_response(sock, head_only=True)
        assert head.status == 200 and head.header("content-length") == "1234"
        relayed.upstream.replies.append(Reply(b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n'))
        sock.sendall(relayed.admitted("/cond"))
        assert read_response(sock).status == 304
        sock.sendall(relayed.admitted("/next"))
        assert read_response(sock).body == b"hello"
    assert relayed.relayed() == 3


def test_pooled_connection_closed_idle_is_replayed_on_a_fresh_one(relayed: Relayed) -> None:
    with relayed.session() as sock:
        warm(relayed, sock)
        relayed.upstream.replies.append(Reply(close=True))  # the next request finds it dead
        sock.sendall(relayed.admitted("/replayed"))
        response = read_response(sock)
        assert (response.status, response.body) == (200, b"hello")
    assert relayed.upstream.connections == 2
    assert relayed.upstream.requests[-1].startswith(b"GET /replayed ")


def test_target_that_stops_answering_a_relay_gets_504_within_the_read_timeout(relayed: Relayed) -> None:
    with relayed.session() as sock:
        warm(relayed, sock)
        relayed.upstream.replies.append(Reply(hang=True))
        started = time.monotonic()
        sock.sendall(relayed.admitted("/hang"))
        response = read_response(sock)
        assert response.status == 504 and b"Gateway Timeout" in response.body
        assert 1.5 <= time.monotonic() - started <= 4.5  # read_timeout 2s, checked once a second
        sock.sendall(relayed.admitted("/after"))
        assert read_response(sock).status == 200  # the client's connection stays usable
    # The hung upstream connection was dropped: "/after" had no warm one and took the coroutine path.
    assert relayed.relayed() == 1


def test_invalid_target_response_gets_502_and_a_body_cut_short_cuts_the_client_off(relayed: Relayed) -> None:
    with relayed.session() as sock:
        warm(relayed, sock)
        relayed.upstream.replies.append(Reply(b"NOT HTTP AT ALL\r\n\r\n"))
        sock.sendall(relayed.admitted("/garbage"))
        assert read_response(sock).status == 502
    with relayed.session() as sock:
        warm(relayed, sock)
        relayed.upstream.replies.append(
            Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part", close=True)
        )
        sock.sendall(relayed.admitted("/short"))
        raw = read_all(sock)  # the length is now a lie: the only honest move is to close
        assert raw.startswith(b"HTTP/1.1 200 ") and raw.endswith(b"only part")
    target = relayed.handle.runtime.groups["app"].targets[0]
    assert target.outstanding == 0


def test_bytes_after_a_complete_response_keep_it_but_retire_the_connection(relayed: Relayed) -> None:
    with relayed.session() as sock:
        warm(relayed, sock)
        relayed.upstream.replies.append(Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nexactSURPLUS"))
        sock.sendall(relayed.admitted("/surplus"))
        assert read_response(sock).body == b"exact"
        sock.sendall(relayed.admitted("/next"))
        assert read_response(sock).body == b"hello"
    assert relayed.upstream.connections == 2  # the connection that sent surplus bytes was not reused


def test_a_head_split_across_reads_is_forwarded_as_sent_minus_its_hop_by_hop_lines(relayed: Relayed) -> None:
    data = (
        b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"  # interim: forwarded first (RFC 9110 §15.2)
        b"HTTP/1.1 200 OK\r\nX-One: 1\r\nConnection: keep-alive, X-Hop\r\nX-Hop: h\r\n"
        b"Date: Mon, 30 Nov 2026 10:00:00 GMT\r\nContent-Length: 5\r\nx-two:  2\r\n\r\nhello"
    )
    with relayed.session() as sock:
        warm(relayed, sock)
        # Cut inside the interim head, inside field lines, and between the head's CRLFs.
        relayed.upstream.replies.append(Reply(data, split=(20, 60, 75, len(data) - 8)))
        sock.sendall(relayed.admitted("/dribbled"))
        assert read_response(sock).raw == b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
        response = read_response(sock)
        assert response.raw.split(b"\r\n\r\n")[0] == (
            b"HTTP/1.1 200 OK\r\nX-One: 1\r\nDate: Mon, 30 Nov 2026 10:00:00 GMT\r\n"
            b"Content-Length: 5\r\nx-two:  2"
        )
        assert response.body == b"hello"
    assert relayed.relayed() == 1


def test_an_http10_target_head_reaches_the_client_with_our_status_line(relayed: Relayed) -> None:
    with relayed.session() as sock:
        warm(relayed, sock)
        relayed.upstream.replies.append(Reply(b"HTTP/1.0 200 OK\r\nX-Old: 1\r\n\r\nold", close=True))
        sock.sendall(relayed.admitted("/old"))
        response = read_response(sock)
        assert response.raw.startswith(b"HTTP/1.1 200 OK\r\nX-Old: 1\r\n") and response.body == b"old"
    assert relayed.relayed() == 1


def test_a_target_head_that_never_ends_gets_502_not_unbounded_memory(relayed: Relayed) -> None:
    endless = b"HTTP/1.1 200 OK\r\n" + b"X-Filler: " + b"f" * 90 + b"\r\n"
    endless += b"".join(b"X-F%d: %s\r\n" % (i, b"f" * 90) for i in range(800))  # 80 KiB, no end
    with relayed.session() as sock:
        warm(relayed, sock)
        relayed.upstream.replies.append(Reply(endless, split=(30000, 60000)))
        sock.sendall(relayed.admitted("/endless"))
        response = read_response(sock)
        assert response.status == 502
        sock.sendall(relayed.admitted("/after"))
        assert read_response(sock).body == b"hello"  # on a fresh target connection
    assert relayed.upstream.connections == 2


def test_pipelined_requests_are_relayed_in_order(relayed: Relayed) -> None:
    with relayed.session() as sock:
        warm(relayed, sock)
        relayed.upstream.replies.extend([ok(b"first"), ok(b"second"), ok(b"third")])
        sock.sendall(relayed.admitted("/1") + relayed.admitted("/2") + relayed.admitted("/3"))
        assert [read_response(sock).body for _ in range(3)] == [b"first", b"second", b"third"]


def test_large_response_to_a_slow_client_arrives_whole(relayed: Relayed) -> None:
    body = bytes(range(256)) * 8192  # 2 MiB: more than the socket buffers hold at once
    with relayed.session() as sock:
        warm(relayed, sock)
        relayed.upstream.replies.append(ok(body))
        sock.sendall(relayed.admitted("/big"))
        time.sleep(0.5)  # the client does not read yet: the gate must hold back, not buffer all
        response = read_response(sock)
        assert response.body == body
    assert relayed.relayed() == 1


def test_client_gone_mid_relay_frees_the_target(relayed: Relayed) -> None:
    sock = relayed.session()
    warm(relayed, sock)
    relayed.upstream.replies.append(Reply(hang=True))
    sock.sendall(relayed.admitted("/abandoned"))
    wait_for(lambda: relayed.handle.runtime.groups["app"].targets[0].outstanding == 1)
    sock.close()
    wait_for(lambda: relayed.handle.runtime.groups["app"].targets[0].outstanding == 0)
    # The client left; the target did not fail: nothing is counted against it.
    assert not relayed.handle.runtime.upstream_errors.cells
    assert any(key[2] == "499" for key in relayed.handle.runtime.requests.cells)
