"""Two real edges sharing state through a real redis-server: rate limits, purges, outages, rotation."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from originguard.certs import CertFiles
from originguard.config import load_config
from originguard.edge.process import EdgeHandle, start_edge
from originguard.rotation.command import rotate
from tests.integration.edge.conftest import Chain, build_chain, stop_chain
from tests.redis_server import RedisServer
from tests.support import LoopThread, connect, exchange, read_response, request, wait_for

EDGE = "www.cdn.example.test"


@dataclass
class Pair:
    chain: Chain
    second: EdgeHandle
    redis: RedisServer

    def ports(self) -> tuple[int, int]:
        assert self.second.https is not None
        return self.chain.https, self.second.https.port


@pytest.fixture
def pair(
    tmp_path: Path, pki: dict[str, CertFiles], loop_thread: LoopThread, redis_server: RedisServer
) -> Iterator[Pair]:
    chain = build_chain(tmp_path, pki, loop_thread, rate_limit=10, redis_url=redis_server.url)
    text = (tmp_path / "edge.yaml").read_text()
    tls = f"tls: {{certificate: {pki['edge'].certificate}, key: {pki['edge'].key}}}"
    (tmp_path / "pair.yaml").write_text(
        text.replace(
            "edges:\n", f"edges:\n  - {{name: edge-two, region: us-east-1, https: 127.0.0.1:0, {tls}}}\n"
        )
    )
    second = loop_thread.run(start_edge(load_config(tmp_path / "pair.yaml"), "edge-two"))
    yield Pair(chain, second, redis_server)
    loop_thread.run(second.shutdown(1))
    stop_chain(chain, loop_thread)


class Traffic:
    """Keep-alive requests through both edges (one thread each) for as long as the block runs."""

    def __init__(self, pair: Pair, prefix: str) -> None:
        self.pair = pair
        self.prefix = prefix
        self.outcomes: Counter[int] = Counter()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(port,)) for port in pair.ports()]

    def __enter__(self) -> Traffic:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(10)

    def _run(self, port: int) -> None:
        with connect(port, tls=self.pair.chain.viewer_tls, server_name=EDGE) as sock:
            index = 0
            while not self.stop.is_set():
                index += 1
                sock.sendall(f"GET {self.prefix}{index} HTTP/1.1\r\nHost: {EDGE}\r\n\r\n".encode())
                self.outcomes[read_response(sock).status] += 1
                time.sleep(0.01)


def get(pair: Pair, port: int, path: str) -> int:
    raw = f"GET {path} HTTP/1.1\r\nHost: {EDGE}\r\n\r\n".encode()
    return request(port, raw, tls=pair.chain.viewer_tls, server_name=EDGE).status


SYNC_BOUND = 0.15  # 2 × (50 ms flush interval + a local round trip), the documented sync slack


def test_two_edges_share_one_rate_limit(pair: Pair) -> None:
    first, second = pair.ports()
    admitted = sum(get(pair, first, "/limited/a") == 200 for _ in range(8))
    time.sleep(0.3)  # edge one's count is in Redis now
    started = time.monotonic()
    slack = 0
    statuses = []
    for _ in range(8):
        if time.monotonic() - started < SYNC_BOUND:
            slack += 1  # edge two may not know the shared count for this key yet
        statuses.append(get(pair, second, "/limited/a"))
        time.sleep(0.04)
    admitted += statuses.count(200)
    assert admitted <= 10 + slack, (
        f"the limit of 10 (+{slack} in-sync slack) held across both edges: {admitted}"
    )
    assert statuses[-3:] == [403, 403, 403], "edge two blocks on the count edge one made"


def test_an_invalidation_sent_to_one_edge_purges_both(pair: Pair) -> None:
    first, second = pair.ports()
    for port in (first, second):
        get(pair, port, "/shared/page")
        assert get(pair, port, "/shared/page") == 200
    assert pair.chain.origin.hits[b"/shared/page"] == 2
    admin = pair.chain.edge.admin
    assert admin is not None
    body = json.dumps({"paths": ["/shared/*"]}).encode()
    answer = exchange(
        admin.port,
        b"POST /invalidations HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer "
        + pair.chain.token.encode()
        + b"\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body),
    )
    assert answer.startswith(b"HTTP/1.1 201 ") and b'"broadcast": true' in answer
    wait_for(lambda: len(pair.second.runtime.store) == 0, timeout=5)
    get(pair, second, "/shared/page")
    assert pair.chain.origin.hits[b"/shared/page"] == 3, "edge two fetched again after the purge"


def test_redis_killed_and_restarted_mid_traffic_fails_no_viewer_request(pair: Pair) -> None:
    with Traffic(pair, "/api/") as traffic:
        time.sleep(0.3)
        pair.redis.stop()
        time.sleep(0.8)
        pair.redis.restart()
        time.sleep(0.8)
    assert traffic.outcomes[200] > 50 and set(traffic.outcomes) == {200}, traffic.outcomes


def test_rotation_through_redis_with_traffic_fails_no_request(pair: Pair, tmp_path: Path) -> None:
    lines: list[str] = []
    with Traffic(pair, "/api/r") as traffic:
        rotate(
            load_config(tmp_path / "pair.yaml"), tmp_path / "no-pids", drain=1.0, timeout=10, say=lines.append
        )
        time.sleep(0.3)
    assert [line.split(":")[0] for line in lines] == ["accepting-both", "edges-switched", "steady-new"]
    assert traffic.outcomes[200] > 50 and set(traffic.outcomes) == {200}, traffic.outcomes
    new = (tmp_path / "origin-verify").read_text().split()
    assert len(new) == 1 and new[0] != pair.chain.secret
    old = f"GET /x HTTP/1.1\r\nHost: g\r\nX-Origin-Verify: {pair.chain.secret}\r\n\r\n".encode()
    assert request(pair.chain.gate.listeners[0].port, old, tls=pair.chain.viewer_tls).status == 403
    for key in pair.redis.command("KEYS", "*").split():
        assert new[0].encode() not in key and pair.chain.secret.encode() not in key
