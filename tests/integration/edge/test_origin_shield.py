"""Origin shield: two edges fetch through a third; one origin request fills all three."""

from __future__ import annotations

import socket
from pathlib import Path

from originguard.certs import CertFiles
from originguard.config import load_config
from originguard.edge.process import start_edge
from tests.integration.edge.conftest import build_chain, stop_chain
from tests.support import LoopThread, request

EDGE = "www.cdn.example.test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_two_edges_behind_a_shield_make_one_origin_request(
    tmp_path: Path, pki: dict[str, CertFiles], loop_thread: LoopThread
) -> None:
    chain = build_chain(tmp_path, pki, loop_thread)
    shield_port = free_port()
    text = (tmp_path / "edge.yaml").read_text()
    tls = f"tls: {{certificate: {pki['edge'].certificate}, key: {pki['edge'].key}}}"
    shielded = text.replace(
        "edges:\n",
        "edges:\n"
        f"  - {{name: edge-shield, region: eu-central-1, https: 127.0.0.1:{shield_port}, {tls}}}\n"
        f"  - {{name: edge-a, region: eu-west-2, https: 127.0.0.1:0, {tls},\n"
        f"     shield: {{edge: edge-shield, server_name: {EDGE}}}}}\n"
        f"  - {{name: edge-b, region: eu-west-3, https: 127.0.0.1:0, {tls},\n"
        f"     shield: {{edge: edge-shield, server_name: {EDGE}}}}}\n",
    )
    (tmp_path / "shield.yaml").write_text(shielded)
    loaded = load_config(tmp_path / "shield.yaml")
    handles = [loop_thread.run(start_edge(loaded, name)) for name in ("edge-shield", "edge-a", "edge-b")]
    try:
        for handle in handles[1:]:
            assert handle.https is not None
            for _ in range(2):
                raw = f"GET /shared HTTP/1.1\r\nHost: {EDGE}\r\n\r\n".encode()
                answer = request(handle.https.port, raw, tls=chain.viewer_tls, server_name=EDGE)
                assert answer.status == 200 and answer.body == b"hello from the origin\n"
        assert chain.origin.hits[b"/shared"] == 1, "the shield filled once for both edges"
        seen = dict((n.lower(), v) for n, v in chain.origin.seen[-1][1])
        assert b"edge-a (originguard)" in seen[b"via"] and b"edge-shield (originguard)" in seen[b"via"]
        looped = f"GET /x HTTP/1.1\r\nHost: {EDGE}\r\nVia: 1.1 edge-shield (originguard)\r\n\r\n".encode()
        assert request(shield_port, looped, tls=chain.viewer_tls, server_name=EDGE).status == 508
    finally:
        for handle in handles:
            loop_thread.run(handle.shutdown(1))
        stop_chain(chain, loop_thread)
