"""Origins that misbehave: a body cut short, a 304 for something else; the viewer still gets a
sound answer (502, the stale copy, or the content), never a 500 or a 304 it did not ask for."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from originguard.config import load_config
from originguard.edge.process import EdgeHandle, start_edge
from tests.support import LoopThread, request

EDGE_YAML = """
edges:
  - {{name: edge-faults, region: local, http: 127.0.0.1:0}}
distribution:
  viewer_protocol_policy: allow-all
  access_log: null
  origins:
    - {{id: raw, address: "127.0.0.1:{port}", protocol_policy: http-only, connection_attempts: 1,
       read_timeout: 2s}}
  default_behavior: {{origin: raw, ttl: {{min: 0, default: 0, max: 86400}}}}
"""

# Content-Length promises 100 bytes; the origin sends 10 and closes.
TRUNCATED = b"HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Length: 100\r\n\r\nonly ten b"
STALE_ALLOWED = (
    b'HTTP/1.1 200 OK\r\nCache-Control: max-age=0, stale-if-error=60\r\nETag: "v1"\r\n'
    b"Content-Length: 5\r\n\r\nhello"
)


@dataclass
class RawOrigin:
    """Answers each request on a path with the next scripted byte string, then closes."""

    scripts: dict[bytes, list[bytes]] = field(default_factory=dict)
    hits: dict[bytes, int] = field(default_factory=dict)
    heads: list[bytes] = field(default_factory=list)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        self.heads.append(head)
        path = head.split(b" ", 2)[1]
        self.hits[path] = self.hits.get(path, 0) + 1
        replies = self.scripts.get(path, [TRUNCATED])
        writer.write(replies[min(self.hits[path], len(replies)) - 1])
        await writer.drain()
        writer.close()


@dataclass
class FaultyChain:
    origin: RawOrigin
    edge: EdgeHandle

    def get(self, path: str, extra: str = "") -> tuple[int, bytes]:
        assert self.edge.http is not None
        raw = f"GET {path} HTTP/1.1\r\nHost: faults.test\r\n{extra}\r\n".encode()
        answer = request(self.edge.http.port, raw)
        return answer.status, answer.body


@pytest.fixture
def faulty(tmp_path: Path, loop_thread: LoopThread) -> Iterator[FaultyChain]:
    origin = RawOrigin()

    async def start() -> asyncio.Server:
        return await asyncio.start_server(origin.serve, "127.0.0.1", 0)

    server = loop_thread.run(start())
    port = server.sockets[0].getsockname()[1]
    (tmp_path / "edge.yaml").write_text(EDGE_YAML.format(port=port))
    edge = loop_thread.run(start_edge(load_config(tmp_path / "edge.yaml"), "edge-faults"))
    yield FaultyChain(origin, edge)
    loop_thread.run(edge.shutdown(1))

    async def stop() -> None:
        server.close()
        await server.wait_closed()

    loop_thread.run(stop())


def test_origin_breaking_off_mid_body_gets_502_not_500(faulty: FaultyChain) -> None:
    # RFC 9112 §6.3: fewer bytes than Content-Length is an incomplete message - nothing to store.
    status, _ = faulty.get("/truncated")
    assert status == 502
    status, _ = faulty.get("/truncated")
    assert status == 502 and faulty.origin.hits[b"/truncated"] == 2, "the broken answer was not cached"


def test_stale_if_error_covers_an_origin_breaking_off_mid_body(faulty: FaultyChain) -> None:
    # RFC 5861 §4: a refresh that fails - here mid-body - may be answered with the stale copy.
    faulty.origin.scripts[b"/flaky"] = [STALE_ALLOWED, TRUNCATED]
    assert faulty.get("/flaky") == (200, b"hello")
    assert faulty.get("/flaky") == (200, b"hello")
    assert faulty.origin.hits[b"/flaky"] == 2, "the stale copy answered only after a real refresh attempt"


def test_a_304_for_another_representation_is_followed_by_a_full_fetch(faulty: FaultyChain) -> None:
    # RFC 9111 §4.3.4: the 304's ETag matches nothing stored, so it cannot freshen the stored copy;
    # the viewer (who sent no conditional) gets the current content, not a bare 304.
    faulty.origin.scripts[b"/changed"] = [
        b'HTTP/1.1 200 OK\r\nCache-Control: max-age=0\r\nETag: "v1"\r\nContent-Length: 3\r\n\r\nold',
        b'HTTP/1.1 304 Not Modified\r\nCache-Control: max-age=60\r\nETag: "v2"\r\n\r\n',
        b'HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nETag: "v2"\r\nContent-Length: 3\r\n\r\nnew',
    ]
    assert faulty.get("/changed") == (200, b"old")
    assert faulty.get("/changed") == (200, b"new")
    revalidation, refetch = faulty.origin.heads[-2:]
    assert b'If-None-Match: "v1"' in revalidation
    assert b"If-None-Match" not in refetch, "the follow-up fetch is unconditional"
    assert faulty.get("/changed") == (200, b"new") and faulty.origin.hits[b"/changed"] == 3
