"""The origin request head of a relayed request: edited from the viewer's raw head, it must carry
exactly the fields `origin_request_headers` gives the rendered (coroutine) path, for every shape of
viewer head, on one keep-alive connection (the X-Forwarded-* lines are made once per connection)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from originguard.config import load_config
from originguard.edge.process import EdgeHandle, start_edge
from originguard.edge.signing import origin_request_headers, origin_signing
from originguard.secrets import generate_secret_value, write_secret_file
from tests.raw_upstream import RawUpstream
from tests.support import LoopThread, connect, read_response

Header = tuple[bytes, bytes]

EDGE_YAML = """
secrets: {{origin-verify: {{file: {secret}}}}}
edges:
  - {{name: edge-head, region: local, http: 127.0.0.1:0}}
distribution:
  viewer_protocol_policy: allow-all
  access_log: null
  origins:
    - id: raw
      address: "127.0.0.1:{port}"
      protocol_policy: http-only
      custom_headers: {{X-Origin-Verify: {{secret: origin-verify}}}}
  default_behavior: {{origin: raw, cache: false}}
"""

# Viewer fields besides Host, one request each, in this order on one connection.
CASES: list[list[Header]] = [
    [],
    [(b"Accept", b"*/*"), (b"User-Agent", b"t/1")],
    [(b"X-Forwarded-For", b"203.0.113.9")],  # appended to, not trusted
    [],  # the connection's own lines again, after a request that had its own
    [(b"Via", b"1.1 corporate-proxy"), (b"X-Forwarded-For", b"198.51.100.1, 203.0.113.9")],
    [(b"X-Origin-Verify", b"forged"), (b"Connection", b"X-Origin-Verify, keep-alive")],  # overwritten
    [(b"Connection", b"x-forwarded-for"), (b"X-Forwarded-For", b"10.0.0.1")],  # RENDERED
    [(b"X-Drop", b"1"), (b"Connection", b"X-Drop"), (b"TE", b"trailers"), (b"Upgrade", b"h2c")],
    [(b"X-Forwarded-Proto", b"http"), (b"X-Forwarded-Port", b"1"), (b"Content-Length", b"0")],
    [(b"x-origin-verify", b"forged-too"), (b"Keep-Alive", b"timeout=5"), (b"Cookie", b"a=1")],
]

RENDERED = 6  # Connection lists X-Forwarded-For: the head is rendered, without the viewer's chain


@dataclass
class RelayHead:
    edge: EdgeHandle
    upstream: RawUpstream
    secret: str


@pytest.fixture
def relay_head(tmp_path: Path, loop_thread: LoopThread) -> Iterator[RelayHead]:
    upstream = RawUpstream().start(loop_thread)
    secret = generate_secret_value()
    write_secret_file(tmp_path / "secret", [secret])
    (tmp_path / "edge.yaml").write_text(EDGE_YAML.format(secret=tmp_path / "secret", port=upstream.port))
    edge = loop_thread.run(start_edge(load_config(tmp_path / "edge.yaml"), "edge-head"))
    yield RelayHead(edge, upstream, secret)
    loop_thread.run(edge.shutdown(1))
    upstream.stop(loop_thread)


def fields(head: bytes) -> list[Header]:
    lines = head.split(b"\r\n")[1:]
    return [(n, v.strip()) for n, _, v in (line.partition(b":") for line in lines if line)]


def test_relayed_origin_heads_carry_what_the_rendered_path_gives(relay_head: RelayHead) -> None:
    edge = relay_head.edge
    assert edge.http is not None
    signing = origin_signing([(b"X-Origin-Verify", relay_head.secret.encode())])
    with connect(edge.http.port) as sock:
        sock.sendall(b"GET /warm HTTP/1.1\r\nHost: head.test\r\n\r\n")  # fills the edge's pool
        assert read_response(sock).status == 200
        relayed_before = edge.runtime.relayed.value(())
        for index, extra in enumerate(CASES):
            viewer = [(b"Host", b"head.test"), *extra]
            # No space after the colons: an edited head keeps the viewer's lines as they came.
            sock.sendall(
                b"GET /c%d?q=1 HTTP/1.1\r\n" % index + b"".join(b"%s:%s\r\n" % f for f in viewer) + b"\r\n"
            )
            assert read_response(sock).status == 200
            seen = relay_head.upstream.requests[-1]
            assert seen.startswith(b"GET /c%d?q=1 HTTP/1.1\r\n" % index)
            expected = origin_request_headers(
                viewer, signing, client_ip="127.0.0.1", scheme="http", edge_name="edge-head", host=None
            )
            assert fields(seen) == expected, f"case {index}: {extra}"
            assert (b"\r\nHost:head.test" in seen) == (index != RENDERED), "edited, or rendered"
        assert edge.runtime.relayed.value(()) == relayed_before + len(CASES)
