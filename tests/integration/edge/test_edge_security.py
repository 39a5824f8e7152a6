"""The edge's security duties on the wire: HTTPS to viewers, secret signing, WAF."""

from __future__ import annotations

import json

from tests.integration.edge.conftest import Chain, build_chain, stop_chain
from tests.origin_app import Script
from tests.support import exchange, request, wait_for

EDGE = "www.cdn.example.test"


def get(chain: Chain, path: str, extra: str = ""):  # type: ignore[no-untyped-def]
    raw = f"GET {path} HTTP/1.1\r\nHost: {EDGE}\r\n{extra}\r\n".encode()
    return request(chain.https, raw, tls=chain.viewer_tls, server_name=EDGE)


def test_plain_http_is_redirected_to_https_with_the_same_path_and_query(chain: Chain) -> None:
    raw = exchange(
        chain.http,
        f"GET /a/b?x=1 HTTP/1.1\r\nHost: {EDGE}:{chain.http}\r\nConnection: close\r\n\r\n".encode(),
    )
    assert raw.startswith(b"HTTP/1.1 301 ")
    assert f"Location: https://{EDGE}:{chain.https}/a/b?x=1".encode() in raw
    assert chain.origin.hits[b"/a/b"] == 0


def test_viewer_sent_secret_header_is_overwritten_by_the_edge(chain: Chain) -> None:
    chain.origin.scripts[b"/who"] = Script(headers=[(b"Cache-Control", b"no-store")])
    answer = get(
        chain, "/who", "X-Origin-Verify: forged-value\r\nConnection: keep-alive, X-Origin-Verify\r\n"
    )
    assert answer.status == 200, "the edge's own value overwrote the forged one, so the gate admitted it"
    _, headers = chain.origin.seen[-1]
    assert b"forged-value" not in b"".join(v for _, v in headers)


def test_origin_echoing_the_secret_never_reaches_the_viewer(tmp_path, pki, loop_thread) -> None:  # type: ignore[no-untyped-def]
    chain = build_chain(tmp_path, pki, loop_thread, strip=False)
    try:
        chain.origin.scripts[b"/echo"] = Script(echo_request_headers=True)
        for _ in range(2):  # the miss and the cached hit
            answer = get(chain, "/echo")
            assert answer.status == 200
            assert chain.secret.encode() not in answer.raw
            assert answer.header("x-origin-verify") is None
        seen = dict((n.lower(), v) for n, v in chain.origin.seen[-1][1])
        assert seen[b"x-origin-verify"] == chain.secret.encode(), "the origin did get the secret"
    finally:
        stop_chain(chain, loop_thread)


def test_waf_block_never_reaches_the_origin_and_is_logged(chain: Chain) -> None:
    answer = get(chain, "/search?q=1%27%20OR%20%271%27%3D%271")
    assert answer.status == 403
    assert chain.origin.hits[b"/search"] == 0
    chain.edge.runtime.access_log.flush()
    blocks = [json.loads(line) for line in chain.edge_log.read_text().splitlines() if "waf_block" in line]
    assert blocks and blocks[-1]["waf_block"]["rule"] == "block-sqli"


def test_waf_count_rule_logs_and_passes(chain: Chain) -> None:
    answer = get(chain, "/admin/panel")
    assert answer.status == 200 and chain.origin.hits[b"/admin/panel"] == 1
    waf = chain.edge.runtime.view.waf
    assert waf is not None and waf.stats.snapshot()["count-admin"]["counted"] >= 1


def from_address(chain: Chain, source: str, path: str) -> int:
    """One request from a chosen loopback address (a different client IP for the rate key)."""
    import socket

    raw = socket.create_connection(("127.0.0.1", chain.https), timeout=5, source_address=(source, 0))
    with chain.viewer_tls.wrap_socket(raw, server_hostname=EDGE) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {EDGE}\r\nConnection: close\r\n\r\n".encode())
        return int(sock.recv(64).split()[1])


def test_rate_limit_blocks_one_bursting_client_while_others_are_served(chain: Chain) -> None:
    statuses = [from_address(chain, "127.0.0.1", "/limited/x") for _ in range(15)]
    assert statuses[:10] == [200] * 10 and statuses[10:] == [403] * 5
    assert from_address(chain, "127.0.0.2", "/limited/x") == 200, "another client is still served"
    assert from_address(chain, "127.0.0.1", "/other") == 200, "outside the scope-down the burster is served"


def test_secret_appears_in_no_edge_log_metric_or_response(chain: Chain) -> None:
    secret = chain.secret.encode()
    answers = [get(chain, "/x").raw, get(chain, "/x?q=1' or '1'='1").raw, get(chain, "/api/y").raw]
    chain.edge.runtime.access_log.flush()
    assert chain.edge.admin is not None
    metrics = exchange(
        chain.edge.admin.port, b"GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    )
    waf = exchange(
        chain.edge.admin.port,
        b"GET /waf HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer "
        + chain.token.encode()
        + b"\r\nConnection: close\r\n\r\n",
    )
    assert b"originguard_edge_requests_total" in metrics and waf.startswith(b"HTTP/1.1 200 ")
    for blob in [*answers, metrics, waf, chain.edge_log.read_bytes(), repr(chain.edge.runtime.view).encode()]:
        assert secret not in blob


def test_origin_certificate_is_verified_against_the_configured_name(chain: Chain, loop_thread) -> None:  # type: ignore[no-untyped-def]
    from originguard.config import load_config

    text = (
        (chain.tmp / "edge.yaml")
        .read_text()
        .replace("server_name: gate.originguard.test", "server_name: evil.test")
    )
    (chain.tmp / "wrong-name.yaml").write_text(text)
    loop_thread.run(chain.edge.reload(load_config(chain.tmp / "wrong-name.yaml")))
    chain.edge.runtime.pool.close()  # drop connections verified under the old name
    answer = get(chain, "/api/tls-check")
    assert answer.status == 502 and chain.origin.hits[b"/api/tls-check"] == 0


def test_access_log_lines_reach_the_file_while_the_edge_runs(chain: Chain) -> None:
    for _ in range(3):  # no flush() here: the edge's own timer must do it (#16 item 11)
        assert get(chain, "/logged").status == 200
    wait_for(
        lambda: chain.edge_log.exists() and len(chain.edge_log.read_bytes().splitlines()) >= 3, timeout=5
    )
