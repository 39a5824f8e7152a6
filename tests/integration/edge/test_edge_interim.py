"""Interim (1xx) responses through the edge: origin → gate → edge → viewer, over real TLS.

The origin's 103 Early Hints reaches an HTTP/1.1 viewer before the final response, on the cache's
miss path and on the uncached relay and pass-through paths, cut as a final head is (hop-by-hop
fields, echoed secret header, the origin's Via; ours added). It is never stored: a cache hit is
the final response alone, which is what cache-tests' required `interim-not-cached` checks. An
HTTP/1.0 viewer gets none; an origin that sends too many, or a 101, gets the viewer a 502."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from originguard.config import load_config
from originguard.edge.process import EdgeHandle, start_edge
from originguard.http.interim import MAX_INTERIM_RESPONSES
from originguard.secrets import generate_secret_value, write_secret_file
from tests.integration.edge.conftest import Chain
from tests.origin_app import Script
from tests.raw_upstream import RawUpstream, Reply, ok
from tests.support import LoopThread, connect, exchange, read_response

EDGE = "www.cdn.example.test"
VIA = b"Via: 1.1 edge-test (originguard)\r\n"
LINK = b"Link: </styles.css>; rel=preload; as=style\r\n"
HINT_TO_VIEWER = b"HTTP/1.1 103 Early Hints\r\n" + LINK + VIA + b"\r\n"


def hinted(chain: Chain, path: bytes) -> None:
    """`path` answers with a 103 (carrying fields no viewer may see) before a cacheable 200."""
    interim = (
        b"HTTP/1.1 103 Early Hints\r\n" + LINK + b"X-Origin-Verify: " + chain.secret.encode() + b"\r\n"
        b"Via: 1.1 somewhere-inside\r\nConnection: X-Hop\r\nX-Hop: 1\r\n\r\n"
    )
    chain.origin.scripts[path] = Script(interim=[interim], headers=[(b"Cache-Control", b"max-age=100000")])


def session(chain: Chain) -> socket.socket:
    return connect(chain.https, tls=chain.viewer_tls, server_name=EDGE)


def get(path: str, version: str = "1.1") -> bytes:
    return f"GET {path} HTTP/{version}\r\nHost: {EDGE}\r\n\r\n".encode()


def test_an_early_hint_reaches_the_viewer_before_the_miss_and_a_hit_is_the_final_response_alone(
    chain: Chain,
) -> None:
    hinted(chain, b"/page")
    with session(chain) as sock:
        sock.sendall(get("/page"))
        hint = read_response(sock).raw
        assert chain.secret.encode() not in hint  # the origin echoed it in its 103
        assert hint == HINT_TO_VIEWER
        miss = read_response(sock)
        assert (miss.status, miss.header("x-cache")) == (200, "Miss from originguard")
        sock.sendall(get("/page"))
        hit = read_response(sock)  # the first head on the wire: no 103 before it
        assert (hit.status, hit.header("x-cache")) == (200, "Hit from originguard")
        assert hit.body == miss.body == b"hello from the origin\n"
        assert hit.header("link") is None  # nothing of the interim head was stored either
    assert chain.origin.hits[b"/page"] == 1


def test_an_http10_viewer_gets_no_interim_response(chain: Chain) -> None:
    hinted(chain, b"/old")
    raw = exchange(chain.https, get("/old", "1.0"), tls=chain.viewer_tls, server_name=EDGE)
    assert raw.startswith(b"HTTP/1.1 200 OK\r\n") and b"HTTP/1.1 103" not in raw
    assert chain.origin.hits[b"/old"] == 1


def test_uncached_requests_get_early_hints_on_the_pass_through_and_the_relay(chain: Chain) -> None:
    hinted(chain, b"/api/items")
    with session(chain) as sock:
        for expected_relayed in (0.0, 1.0):  # a cold pool, then the warm connection it left
            before = chain.edge.runtime.relayed.value(())
            sock.sendall(get("/api/items"))
            assert read_response(sock).raw == HINT_TO_VIEWER
            final = read_response(sock)
            assert (final.status, final.header("x-cache")) == (200, "Miss from originguard")
            assert chain.edge.runtime.relayed.value(()) == before + expected_relayed
    assert chain.origin.hits[b"/api/items"] == 2


def test_an_origin_with_more_interim_responses_than_the_bound_gets_the_viewer_a_502(chain: Chain) -> None:
    hint = b"HTTP/1.1 103 Early Hints\r\n" + LINK + b"\r\n"
    chain.origin.scripts[b"/chatty"] = Script(interim=[hint] * (MAX_INTERIM_RESPONSES + 1))
    with session(chain) as sock:
        sock.sendall(get("/chatty"))
        for _ in range(MAX_INTERIM_RESPONSES):  # what the gate passed on before it refused
            assert read_response(sock).raw == HINT_TO_VIEWER
        assert read_response(sock).status == 502


# -- the edge's own hop, against a raw origin ------------------------------------------------------

EDGE_YAML = """
secrets: {{origin-verify: {{file: {secret}}}}}
edges:
  - {{name: edge-raw, region: local, http: 127.0.0.1:0}}
distribution:
  viewer_protocol_policy: allow-all
  access_log: null
  origins:
    - id: raw
      address: "127.0.0.1:{port}"
      protocol_policy: http-only
      custom_headers: {{X-Origin-Verify: {{secret: origin-verify}}}}
      read_timeout: 2s
  default_behavior: {{origin: raw, ttl: {{min: 0, default: 0, max: 86400}}}}
"""


@pytest.fixture
def raw_origin(tmp_path: Path, loop_thread: LoopThread) -> Iterator[tuple[EdgeHandle, RawUpstream]]:
    upstream = RawUpstream().start(loop_thread)
    write_secret_file(tmp_path / "secret", [generate_secret_value()])
    (tmp_path / "edge.yaml").write_text(EDGE_YAML.format(secret=tmp_path / "secret", port=upstream.port))
    edge = loop_thread.run(start_edge(load_config(tmp_path / "edge.yaml"), "edge-raw"))
    yield edge, upstream
    loop_thread.run(edge.shutdown(1))
    upstream.stop(loop_thread)


@pytest.mark.parametrize(
    "interim",
    [
        b"HTTP/1.1 103 Early Hints\r\n\r\n" * (MAX_INTERIM_RESPONSES + 1),
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
    ],
    ids=["too-many", "unasked-101"],
)
def test_the_edge_refuses_an_origin_response_it_cannot_bound_or_relay_with_a_502(
    raw_origin: tuple[EdgeHandle, RawUpstream], interim: bytes
) -> None:
    edge, upstream = raw_origin
    assert edge.http is not None
    upstream.replies.append(Reply(interim + ok(b"x", b"Cache-Control: max-age=60\r\n").data))
    with connect(edge.http.port) as sock:
        sock.sendall(b"GET /refused HTTP/1.1\r\nHost: raw.test\r\n\r\n")
        while (response := read_response(sock)).status == 103:
            pass
        assert response.status == 502
        upstream.replies.append(Reply(ok(b"fine", b"Cache-Control: max-age=60\r\n").data))
        sock.sendall(b"GET /refused HTTP/1.1\r\nHost: raw.test\r\n\r\n")  # nothing was stored
        assert read_response(sock).body == b"fine"


def test_expect_100_continue_gets_the_viewer_one_100_from_the_edge_and_none_from_upstream(
    chain: Chain,
) -> None:
    head = f"POST /api/upload HTTP/1.1\r\nHost: {EDGE}\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
    with session(chain) as sock:
        sock.sendall(head.encode())
        assert read_response(sock, head_only=True).raw == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"hello")
        final = read_response(sock)  # the gate's and the origin's own 100s were not passed on
        assert final.status == 200
    assert chain.origin.hits[b"/api/upload"] == 1
