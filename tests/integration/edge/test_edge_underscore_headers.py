"""Viewer fields with `_` in their names stop at the edge (nginx's underscores_in_headers off).

The gate of these chains lets them through, so what the origin app receives shows what the edge
did: on the relay fast path (a warm connection to the gate, the head edited in place) and on the
coroutine path (a request body).
"""

from __future__ import annotations

from pathlib import Path

from originguard.certs import CertFiles
from tests.integration.edge.conftest import Chain, build_chain, stop_chain
from tests.support import LoopThread, request

EDGE = "www.cdn.example.test"
FORGED = "X_Origin_Verify: forged\r\nContent_Length: 5\r\nX_Custom: a\r\nX-Kept: value_with_underscores\r\n"


def send(chain: Chain, method: str, path: str, body: bytes = b"") -> list[tuple[bytes, bytes]]:
    length = f"Content-Length: {len(body)}\r\n" if body else ""
    raw = f"{method} {path} HTTP/1.1\r\nHost: {EDGE}\r\n{FORGED}{length}\r\n".encode() + body
    assert request(chain.https, raw, tls=chain.viewer_tls, server_name=EDGE).status == 200
    seen_path, headers = chain.origin.seen[-1]
    assert seen_path == path.encode()
    return headers


def relayed(chain: Chain) -> float:
    return chain.edge.runtime.relayed.value(())


def dropped(chain: Chain) -> float:
    family = next(
        m
        for m in chain.edge.runtime.metrics.members
        if getattr(m, "name", "") == "originguard_edge_underscore_fields_dropped_total"
    )
    return family.value(())  # type: ignore[union-attr]


def test_underscore_fields_stop_at_the_edge_on_both_paths(
    tmp_path: Path, pki: dict[str, CertFiles], loop_thread: LoopThread
) -> None:
    chain = build_chain(tmp_path, pki, loop_thread, strip=False, gate_underscores=True)
    try:
        send(chain, "GET", "/api/warm")  # warms the edge's pool to the gate
        before = relayed(chain)
        seen = [send(chain, "GET", "/api/relayed")]
        assert relayed(chain) == before + 1, "the warm connection relayed it"
        seen.append(send(chain, "POST", "/api/posted", b"hello"))
        for headers in seen:
            names = [n for n, _ in headers]
            assert not [n for n in names if b"_" in n], names
            fields = dict((n.lower(), v) for n, v in headers)
            assert fields[b"x-kept"] == b"value_with_underscores"
            assert fields[b"x-origin-verify"] == chain.secret.encode(), "the edge's own, signed"
        assert dropped(chain) == 3 * 3
    finally:
        stop_chain(chain, loop_thread)


def test_an_allowing_edge_passes_them_on_but_never_a_copy_of_its_secret_header(
    tmp_path: Path, pki: dict[str, CertFiles], loop_thread: LoopThread
) -> None:
    chain = build_chain(tmp_path, pki, loop_thread, strip=False, gate_underscores=True, edge_underscores=True)
    try:
        send(chain, "GET", "/api/warm")
        before = relayed(chain)
        seen = [send(chain, "GET", "/api/relayed"), send(chain, "POST", "/api/posted", b"hello")]
        assert relayed(chain) == before + 1
        for headers in seen:
            names = [n.lower() for n, _ in headers]
            assert b"x_custom" in names and b"content_length" in names
            assert b"x_origin_verify" not in names
            assert b"forged" not in b"".join(v for _, v in headers)
        assert dropped(chain) == 3
    finally:
        stop_chain(chain, loop_thread)
