"""Uncached requests relayed by the edge (edge → HTTPS → gate → origin), with the edge's hygiene."""

from __future__ import annotations

from pathlib import Path

from originguard.certs import CertFiles
from tests.integration.edge.conftest import Chain, build_chain, stop_chain
from tests.integration.edge.test_edge_cache import get
from tests.origin_app import Script
from tests.support import LoopThread


def relayed(chain: Chain) -> float:
    return chain.edge.runtime.relayed.value(())


def test_uncached_request_on_a_warm_origin_connection_is_relayed_signed_and_cleaned(
    tmp_path: Path, pki: dict[str, CertFiles], loop_thread: LoopThread
) -> None:
    chain = build_chain(tmp_path, pki, loop_thread, strip=False)  # the origin sees, and echoes, the secret
    try:
        chain.origin.scripts[b"/api/echo"] = Script(
            headers=[(b"Cache-Control", b"no-store"), (b"CDN-Cache-Control", b"max-age=60")],
            echo_request_headers=True,
        )
        get(chain, "/api/echo")  # warms the edge's pool to the gate
        before = relayed(chain)
        answer = get(chain, "/api/echo", "X-Origin-Verify: forged\r\nConnection: X-Origin-Verify\r\n")
        assert relayed(chain) == before + 1
        assert answer.status == 200 and answer.header("x-cache") == "Miss from originguard"
        assert answer.header("via") == "1.1 edge-test (originguard)" and answer.header("x-edge-location")
        assert answer.header("x-origin-verify") is None and chain.secret.encode() not in answer.raw
        assert answer.header("cdn-cache-control") is None  # meant for the edge only (RFC 9213)
        seen = dict((n.lower(), v) for n, v in chain.origin.seen[-1][1])
        assert seen[b"x-origin-verify"] == chain.secret.encode()  # signed, the viewer's copy replaced
        assert seen[b"x-forwarded-for"] == b"127.0.0.1, 127.0.0.1"  # the viewer, then the edge (gate)
    finally:
        stop_chain(chain, loop_thread)


def test_relayed_unsafe_request_invalidates_the_cached_url(chain: Chain) -> None:
    get(chain, "/doc")
    assert get(chain, "/doc").header("x-cache") == "Hit from originguard"
    before = relayed(chain)
    assert get(chain, "/doc", method="DELETE").status == 200  # no body: the relay takes it
    assert relayed(chain) == before + 1
    assert get(chain, "/doc").header("x-cache") == "Miss from originguard"


def test_relayed_responses_keep_the_viewer_connection_in_step(chain: Chain) -> None:
    from tests.integration.edge.test_edge_cache import EDGE
    from tests.support import connect, read_response

    get(chain, "/api/warm")
    with connect(chain.https, tls=chain.viewer_tls, server_name=EDGE) as sock:
        for index in range(5):
            sock.sendall(f"GET /api/n{index} HTTP/1.1\r\nHost: {EDGE}\r\n\r\n".encode())
            answer = read_response(sock)
            assert answer.status == 200 and answer.body == b"hello from the origin\n"
    assert chain.origin.hits[b"/api/n4"] == 1
