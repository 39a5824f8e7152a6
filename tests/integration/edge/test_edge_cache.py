"""The edge through a real chain (edge → HTTPS → gate → origin): cache behaviour on the wire."""

from __future__ import annotations

import concurrent.futures
import json

from tests.integration.edge.conftest import Chain
from tests.origin_app import Script
from tests.support import connect, exchange, read_response, request, wait_for

EDGE = "www.cdn.example.test"


def get(chain: Chain, path: str, extra: str = "", method: str = "GET"):  # type: ignore[no-untyped-def]
    raw = f"{method} {path} HTTP/1.1\r\nHost: {EDGE}\r\n{extra}\r\n".encode()
    return request(chain.https, raw, tls=chain.viewer_tls, server_name=EDGE)


def test_miss_then_hit_and_the_origin_sees_one_request(chain: Chain) -> None:
    first = get(chain, "/page")
    second = get(chain, "/page")
    assert (first.status, second.status) == (200, 200)
    assert first.header("x-cache") == "Miss from originguard"
    assert second.header("x-cache") == "Hit from originguard"
    assert second.body == first.body == b"hello from the origin\n"
    assert second.header("via") == "1.1 edge-test (originguard)"
    assert second.header("x-edge-location") == "edge-test"
    assert second.header("age") is not None
    assert chain.origin.hits[b"/page"] == 1


def test_head_is_served_from_a_cached_get(chain: Chain) -> None:
    get(chain, "/h")
    with connect(chain.https, tls=chain.viewer_tls, server_name=EDGE) as sock:
        sock.sendall(f"HEAD /h HTTP/1.1\r\nHost: {EDGE}\r\n\r\n".encode())
        head = read_response(sock, head_only=True)
    assert head.status == 200 and head.header("content-length") == "22"
    assert chain.origin.hits[b"/h"] == 1


def test_revalidation_with_etag_gets_304_and_a_refresh_hit(chain: Chain) -> None:
    chain.origin.scripts[b"/r"] = Script(headers=[(b"Cache-Control", b"max-age=60")], etag=b'"v1"')
    assert get(chain, "/r").header("x-cache") == "Miss from originguard"
    assert get(chain, "/r").header("x-cache") == "Hit from originguard"
    chain.clock.advance(61)  # the stored copy is stale now
    # The 304 carries a longer lifetime: it must replace the stored one (RFC 9111 §4.3.4). (The
    # origin's Date is a minute behind the edge's clock now: the refreshed copy arrives 61 s old.)
    chain.origin.scripts[b"/r"] = Script(headers=[(b"Cache-Control", b"max-age=600")], etag=b'"v1"')
    refreshed = get(chain, "/r")
    assert refreshed.status == 200 and refreshed.body == b"hello from the origin\n"
    assert refreshed.header("x-cache") == "RefreshHit from originguard"
    conditional = [h for path, h in chain.origin.seen if path == b"/r"][-1]
    assert (b"If-None-Match", b'"v1"') in conditional
    assert get(chain, "/r").header("x-cache") == "Hit from originguard"


def test_viewer_conditional_request_is_answered_304_from_the_cache(chain: Chain) -> None:
    chain.origin.scripts[b"/c"] = Script(etag=b'"abc"')
    get(chain, "/c")
    answer = get(chain, "/c", 'If-None-Match: "abc"\r\n')
    assert answer.status == 304 and answer.body == b""
    assert chain.origin.hits[b"/c"] == 1


def test_vary_keeps_one_variant_per_header_value(chain: Chain) -> None:
    chain.origin.scripts[b"/v"] = Script(
        headers=[(b"Cache-Control", b"max-age=60"), (b"Vary", b"Accept-Language")], echo_request_headers=False
    )
    get(chain, "/v", "Accept-Language: en\r\n")
    get(chain, "/v", "Accept-Language: de\r\n")
    assert get(chain, "/v", "Accept-Language: en\r\n").header("x-cache") == "Hit from originguard"
    assert get(chain, "/v", "Accept-Language: de\r\n").header("x-cache") == "Hit from originguard"
    assert chain.origin.hits[b"/v"] == 2


def test_no_store_and_set_cookie_responses_are_not_cached(chain: Chain) -> None:
    chain.origin.scripts[b"/ns"] = Script(headers=[(b"Cache-Control", b"no-store")])
    chain.origin.scripts[b"/sc"] = Script(
        headers=[(b"Cache-Control", b"max-age=60"), (b"Set-Cookie", b"s=1")]
    )
    for path in ("/ns", "/sc"):
        get(chain, path)
        assert get(chain, path).header("x-cache") == "Miss from originguard"
    assert chain.origin.hits[b"/ns"] == 2 and chain.origin.hits[b"/sc"] == 2


def test_cdn_cache_control_targets_the_edge_and_is_not_forwarded(chain: Chain) -> None:
    chain.origin.scripts[b"/t"] = Script(
        headers=[(b"Cache-Control", b"no-store"), (b"CDN-Cache-Control", b"max-age=60")]
    )
    first = get(chain, "/t")
    assert first.header("cdn-cache-control") is None
    assert first.header("cache-control") == "no-store"
    second = get(chain, "/t")
    assert second.header("x-cache") == "Hit from originguard" and second.header("cdn-cache-control") is None


def test_range_request_on_a_cached_object_gets_206(chain: Chain) -> None:
    chain.origin.scripts[b"/big"] = Script(body=bytes(range(256)) * 4)
    get(chain, "/big")
    partial = get(chain, "/big", "Range: bytes=10-19\r\n")
    assert partial.status == 206 and partial.body == (bytes(range(256)) * 4)[10:20]
    assert partial.header("content-range") == "bytes 10-19/1024"


def test_stale_if_error_serves_the_stale_copy_when_the_gate_is_down(chain: Chain, loop_thread) -> None:  # type: ignore[no-untyped-def]
    chain.origin.scripts[b"/sie"] = Script(headers=[(b"Cache-Control", b"max-age=60, stale-if-error=300")])
    assert get(chain, "/sie").status == 200
    loop_thread.run(chain.gate.shutdown(0.5))
    chain.clock.advance(61)
    stale = get(chain, "/sie")
    assert stale.status == 200 and stale.body == b"hello from the origin\n"
    assert int(stale.header("age") or 0) >= 61
    assert get(chain, "/never-cached").status == 502
    chain.clock.advance(300)  # past the stale-if-error window: the error reaches the viewer
    assert get(chain, "/sie").status == 502


def test_collapsing_100_concurrent_misses_make_one_origin_request(chain: Chain) -> None:
    chain.origin.scripts[b"/slow"] = Script(delay=0.5)
    with concurrent.futures.ThreadPoolExecutor(max_workers=100) as pool:
        answers = list(pool.map(lambda _: get(chain, "/slow"), range(100)))
    assert all(a.status == 200 and a.body == b"hello from the origin\n" for a in answers)
    assert chain.origin.hits[b"/slow"] == 1


def test_private_responses_are_not_shared_by_collapsing(chain: Chain) -> None:
    chain.origin.scripts[b"/private"] = Script(headers=[(b"Cache-Control", b"private")], delay=0.3)
    with concurrent.futures.ThreadPoolExecutor(max_workers=5) as pool:
        list(pool.map(lambda _: get(chain, "/private"), range(5)))
    assert chain.origin.hits[b"/private"] == 5


def test_invalidation_through_the_admin_api_purges(chain: Chain) -> None:
    get(chain, "/img/a.png")
    get(chain, "/img/b.png")
    assert get(chain, "/img/a.png").header("x-cache") == "Hit from originguard"
    assert chain.edge.admin is not None
    body = json.dumps({"paths": ["/img/*"]}).encode()
    denied = exchange(
        chain.edge.admin.port,
        b"POST /invalidations HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n"
        b"Connection: close\r\n\r\n%s" % (len(body), body),
    )
    assert denied.startswith(b"HTTP/1.1 401 ")
    raw = (
        b"POST /invalidations HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n"
        b"Connection: close\r\n\r\n%s" % (chain.token.encode(), len(body), body)
    )
    answer = exchange(chain.edge.admin.port, raw)
    assert answer.startswith(b"HTTP/1.1 201 ") and b'"invalidated": 2' in answer
    assert get(chain, "/img/a.png").header("x-cache") == "Miss from originguard"


def test_unsafe_method_invalidates_the_cached_url(chain: Chain) -> None:
    get(chain, "/doc")
    assert get(chain, "/doc").header("x-cache") == "Hit from originguard"
    assert get(chain, "/doc", "Content-Length: 0\r\n", method="DELETE").status == 200
    assert get(chain, "/doc").header("x-cache") == "Miss from originguard"


def test_uncached_behaviour_always_goes_to_the_origin(chain: Chain) -> None:
    get(chain, "/api/x")
    get(chain, "/api/x")
    assert chain.origin.hits[b"/api/x"] == 2


def test_stale_while_revalidate_serves_stale_and_refreshes_once_in_background(chain: Chain) -> None:
    chain.origin.scripts[b"/swr"] = Script(
        headers=[(b"Cache-Control", b"max-age=60, stale-while-revalidate=600")]
    )
    assert get(chain, "/swr").header("x-cache") == "Miss from originguard"
    chain.clock.advance(61)
    # The refresh brings a new body, so the test sees on the wire when it has landed (and a
    # lifetime longer than the jump: it arrives 61 s old by the edge's clock).
    chain.origin.scripts[b"/swr"] = Script(headers=[(b"Cache-Control", b"max-age=600")], body=b"v2\n")
    with concurrent.futures.ThreadPoolExecutor(max_workers=5) as pool:
        stale = list(pool.map(lambda _: get(chain, "/swr"), range(5)))
    assert all(a.status == 200 and a.header("x-cache") == "Hit from originguard" for a in stale)
    assert all(a.body in (b"hello from the origin\n", b"v2\n") for a in stale)
    wait_for(lambda: get(chain, "/swr").body == b"v2\n", timeout=5)
    assert chain.origin.hits[b"/swr"] == 2, "one background refresh, however many stale hits"


def test_invalidate_command_purges_through_the_admin_api(chain: Chain) -> None:
    from originguard.edge.invalidate import send_invalidation
    from originguard.errors import UpstreamError

    get(chain, "/cli/a")
    assert get(chain, "/cli/a").header("x-cache") == "Hit from originguard"
    assert chain.edge.admin is not None
    address = f"127.0.0.1:{chain.edge.admin.port}"
    assert '"invalidated": 1' in send_invalidation(address, chain.token, ["/cli/*"])
    assert get(chain, "/cli/a").header("x-cache") == "Miss from originguard"
    try:
        send_invalidation(address, "wrong-token", ["/cli/*"])
        raise AssertionError("a wrong token must be refused")
    except UpstreamError as exc:
        assert "401" in str(exc) and chain.token not in str(exc)
