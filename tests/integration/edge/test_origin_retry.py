"""A refused origin connect costs no request: a failover group goes on to its next member for any
method (nothing was sent), and tries the refusing member last for a while (nginx's `max_fails=1`).
A request the origin may have acted on is never sent twice."""

from __future__ import annotations

from pathlib import Path

from originguard.certs import CertFiles
from originguard.config import load_config
from originguard.config.values import HostPort
from originguard.edge.process import EdgeHandle, start_edge
from originguard.http.limits import Limits
from originguard.http.server import HttpServer
from originguard.secrets import write_secret_file
from tests.integration.edge.test_sni_and_failover import EDGE_YAML
from tests.origin_app import ScriptedOrigin
from tests.raw_upstream import RawUpstream, Reply
from tests.support import LoopThread, client_tls, connect, read_response

HOST = "www.cdn.example.test"


def start_origin(loop_thread: LoopThread, origin: ScriptedOrigin) -> tuple[HttpServer, HostPort]:
    async def start() -> tuple[HttpServer, HostPort]:
        server = HttpServer(origin, Limits())
        return server, await server.listen(HostPort("127.0.0.1", 0))

    return loop_thread.run(start())


def start_pair(
    tmp_path: Path, pki: dict[str, CertFiles], loop_thread: LoopThread, primary: str, secondary: HostPort
) -> EdgeHandle:
    write_secret_file(tmp_path / "secret", ["k3v9q2m7x4c8b1z6l0h5d2f9g7j3p8t1w4r6y0u2"])
    (tmp_path / "edge.yaml").write_text(
        EDGE_YAML.format(
            tmp=tmp_path,
            edge_cert=pki["edge"].certificate,
            edge_key=pki["edge"].key,
            other_cert=pki["edge"].certificate,
            other_key=pki["edge"].key,
            primary=primary,
            secondary=secondary,
        )
    )
    return loop_thread.run(start_edge(load_config(tmp_path / "edge.yaml"), "edge-sni"))


def send(edge: EdgeHandle, ca: Path, method: str, path: str, body: bytes = b"") -> int:
    assert edge.https is not None
    length = f"Content-Length: {len(body)}\r\n" if body else ""
    with connect(edge.https.port, tls=client_tls(ca), server_name=HOST) as sock:
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\n{length}\r\n".encode() + body)
        return read_response(sock).status


def retries(edge: EdgeHandle) -> float:
    return sum(cell.value for cell in edge.runtime.origin_retries.cells.values())


def test_a_refused_primary_fails_over_for_a_post_too_and_is_then_tried_last(
    tmp_path: Path, pki: dict[str, CertFiles], loop_thread: LoopThread
) -> None:
    primary, secondary = ScriptedOrigin(), ScriptedOrigin()
    (first, first_address), (second, second_address) = (
        start_origin(loop_thread, primary),
        start_origin(loop_thread, secondary),
    )
    edge = start_pair(tmp_path, pki, loop_thread, str(first_address), second_address)
    ca = pki["ca"].certificate
    try:
        assert send(edge, ca, "GET", "/warm") == 200 and primary.hits[b"/warm"] == 1
        loop_thread.run(first.shutdown(0))  # the primary is gone: its port refuses
        assert send(edge, ca, "POST", "/order", b"item=1") == 200, "nothing was sent: safe to fail over"
        assert secondary.hits[b"/order"] == 1
        assert retries(edge) == 2  # connection_attempts: 2, then the failover
        assert [send(edge, ca, "GET", f"/g{i}") for i in range(10)] == [200] * 10
        assert retries(edge) == 2, "the refusing primary is tried last now: no more refusals"
    finally:
        loop_thread.run(edge.shutdown(1))
        loop_thread.run(second.shutdown(1))


def test_a_post_whose_origin_closed_after_it_was_sent_is_not_sent_to_the_secondary(
    tmp_path: Path, pki: dict[str, CertFiles], loop_thread: LoopThread
) -> None:
    closing = RawUpstream().start(loop_thread)
    closing.replies.append(Reply(close=True))  # reads the request, hangs up without a word
    secondary = ScriptedOrigin()
    second, second_address = start_origin(loop_thread, secondary)
    edge = start_pair(tmp_path, pki, loop_thread, f"127.0.0.1:{closing.port}", second_address)
    try:
        assert send(edge, pki["ca"].certificate, "POST", "/pay", b"amount=100") == 502
        assert len(closing.requests) == 1 and secondary.hits[b"/pay"] == 0, "sent once, never again"
    finally:
        loop_thread.run(edge.shutdown(1))
        loop_thread.run(second.shutdown(1))
        closing.stop(loop_thread)
