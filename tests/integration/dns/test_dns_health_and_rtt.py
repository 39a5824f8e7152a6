"""Health checks over real HTTPS, measured RTT ingest, the admin endpoint, and TCP_INFO on a real socket."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

import dns.asyncquery
import dns.edns
import dns.message
import orjson
import pytest

from originguard.latency.reporter import RttReporter
from originguard.latency.tcp_info import tcp_rtt_ms
from tests.integration.dns.harness import HealthzEdge, eventually, make_pki, start_router

INTERVAL, TIMEOUT_S, UNHEALTHY = 0.1, 0.5, 2


def run(coro: object) -> None:
    asyncio.run(asyncio.wait_for(coro, 30))  # type: ignore[arg-type]


async def addresses(port: int, subnet: str | None = None) -> set[str]:
    options: list[dns.edns.Option] | None = [dns.edns.ECSOption(subnet, 24)] if subnet else None
    query = dns.message.make_query("www.cdn.example.test.", "A", use_edns=0, options=options)
    response = await dns.asyncquery.udp(query, "127.0.0.1", port=port, timeout=2.0)
    return {rdata.address for rrset in response.answer for rdata in rrset}


def config(sg: int, eu: int, ca: Path, policy: str = "simple") -> str:
    return f"""
edges:
  - {{name: edge-sg, region: ap-southeast-1, https: 127.0.0.1:{sg}}}
  - {{name: edge-eu, region: eu-west-1, https: 127.0.0.1:{eu}}}
dns:
  listen: 127.0.0.1:0
  admin: 127.0.0.1:0
  zone: cdn.example.test.
  query_log: queries.jsonl
  latency:
    203.0.113.0/24: {{ap-southeast-1: 15, eu-west-1: 180}}
  measured: {{min_samples: 3}}
  records:
    - name: www
      policy: {policy}
      health_check: {{protocol: https, path: /healthz, interval: {INTERVAL}, timeout: {TIMEOUT_S},
                      healthy: 2, unhealthy: {UNHEALTHY}, ca_bundle: {ca}}}
      targets: [{{edge: edge-sg, address: 192.0.2.1}}, {{edge: edge-eu, address: 192.0.2.2}}]
"""


def test_a_stopped_edge_leaves_the_answers_within_its_thresholds_and_comes_back(tmp_path: Path) -> None:
    ca, cert, key = make_pki(tmp_path)

    async def scenario() -> None:
        sg, eu = HealthzEdge(cert, key), HealthzEdge(cert, key)
        await sg.start()
        await eu.start()
        router = await start_router(config(sg.port, eu.port, ca), tmp_path)
        loop = asyncio.get_running_loop()
        try:
            await eventually(lambda: asyncio.sleep(0, router.monitor.serving), lambda s: len(s) == 2, 5)
            assert sg.hits and eu.hits  # real HTTPS GETs, verified against the test CA
            assert await addresses(router.port) == {"192.0.2.1", "192.0.2.2"}
            stopped_at = loop.time()
            await sg.stop()
            await eventually(lambda: addresses(router.port), lambda a: a == {"192.0.2.2"}, 5)
            # One probe may already be in flight; then `unhealthy` failures, each a refused connect.
            assert loop.time() - stopped_at <= (UNHEALTHY + 1) * (INTERVAL + TIMEOUT_S) + 0.5
            await eu.stop()
            # No healthy edge: fail open, answer every edge rather than none.
            await eventually(lambda: addresses(router.port), lambda a: a == {"192.0.2.1", "192.0.2.2"}, 5)
            await sg.start()  # same port
            await eventually(lambda: addresses(router.port), lambda a: a == {"192.0.2.1"}, 5)
        finally:
            await router.aclose()
            for edge in (sg, eu):
                if edge.server is not None:
                    await edge.stop()
        metrics = router.metrics.exposition().decode()
        assert 'originguard_dns_fail_open_total{record="www"}' in metrics
        assert 'originguard_dns_target_healthy{target="edge-sg"} 1.0' in metrics
        lines = [orjson.loads(line) for line in (tmp_path / "queries.jsonl").read_bytes().splitlines()]
        assert lines and {"qname", "rcode", "record", "decision", "reason", "client"} <= set(lines[-1])
        assert any(line["reason"].startswith("fail-open") for line in lines)

    run(scenario())


async def admin_request(port: int, request: bytes) -> tuple[int, bytes]:
    """One request on its own connection (a head without its blank line gets `Connection: close`)."""
    if b"\r\n\r\n" not in request:
        request += b"Connection: close\r\n\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    data = await reader.read()
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def test_reported_rtts_override_the_latency_table_once_there_are_enough_samples(tmp_path: Path) -> None:
    ca, _, _ = make_pki(tmp_path)

    async def scenario() -> None:
        router = await start_router(config(1, 2, ca, policy="latency"), tmp_path, start_health_checks=False)
        assert router.admin_port is not None
        try:
            assert await addresses(router.port, "203.0.113.0") == {"192.0.2.1"}  # table: SG 15 ms
            reporter = RttReporter(f"http://127.0.0.1:{router.admin_port}/rtt", "edge-eu")
            for rtt in (4.0, 5.0):
                reporter.record("203.0.113.77", rtt)
            assert await reporter.flush()
            assert await addresses(router.port, "203.0.113.0") == {"192.0.2.1"}  # 2 < min_samples
            reporter.record("::ffff:203.0.113.9", 6.0)
            assert await reporter.flush() and reporter.sent == 3
            assert await addresses(router.port, "203.0.113.0") == {"192.0.2.2"}  # measured 5 ms
            status, body = await admin_request(router.admin_port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            assert status == 200 and b'originguard_dns_rtt_samples_total{edge="edge-eu"} 3.0' in body
            assert b"originguard_dns_queries_total" in body
            status, _ = await admin_request(router.admin_port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            assert status == 200
            # The product's HTTP server with its limits: a body over 1 MiB is refused, unread.
            status, _ = await admin_request(
                router.admin_port, b"POST /rtt HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n"
            )
            assert status == 413
            status, _ = await admin_request(router.admin_port, b"GET /rtt HTTP/1.1\r\nHost: x\r\n")
            assert status == 405
            bad = orjson.dumps({"edge": "edge-mars", "samples": []})
            status, body = await admin_request(
                router.admin_port,
                b"POST /rtt HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s"
                % (len(bad), bad),
            )
            assert status == 400 and b"unknown edge" in body
        finally:
            await router.aclose()

    run(scenario())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="TCP_INFO is Linux")
def test_tcp_rtt_reads_the_kernels_rtt_of_a_connected_socket() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        peer, _ = server.accept()
        with client, peer:
            client.sendall(b"ping")
            assert peer.recv(4) == b"ping"
            rtt = tcp_rtt_ms(peer)
            assert rtt is not None and 0 < rtt < 1000
