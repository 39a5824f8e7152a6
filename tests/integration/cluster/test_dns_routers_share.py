"""Two real DNS routers sharing RTT figures through a real redis-server give the same answers."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import dns.edns
import dns.message
import dns.query
import dns.rdatatype

from originguard.config import load_config_text
from originguard.dns.server import start_dns_server
from tests.redis_server import RedisServer

CONFIG = """
edges:
  - {{name: edge-near, region: near-1, https: 127.0.0.1:8443}}
  - {{name: edge-far, region: far-1, https: 127.0.0.2:8443}}
cluster: {{redis: '{redis}'}}
dns:
  listen: 127.0.0.1:0
  admin: 127.0.0.1:0
  zone: cdn.example.test.
  latency: {{"198.51.100.0/24": {{near-1: 120, far-1: 15}}}}
  records:
    - {{name: www, policy: latency, targets: [{{edge: edge-near}}, {{edge: edge-far}}]}}
"""


def ask(port: int) -> str:
    ecs = dns.edns.ECSOption("198.51.100.7", 24)
    query = dns.message.make_query("www.cdn.example.test.", dns.rdatatype.A, use_edns=0, options=[ecs])
    answer = dns.query.udp(query, "127.0.0.1", port=port, timeout=3)
    return str(answer.answer[0][0].address)


async def post_samples(admin_port: int, edge: str, count: int) -> int:
    body = json.dumps(
        {"edge": edge, "samples": [{"subnet": "198.51.100.0/24", "rtt_ms": 2.0}] * count}
    ).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", admin_port)
    writer.write(
        b"POST /rtt HTTP/1.1\r\nHost: r\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
        % (len(body), body)
    )
    status = int((await reader.readline()).split()[1])
    writer.close()
    return status


def test_measured_rtts_learned_by_one_router_steer_the_other(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    loaded = load_config_text(
        CONFIG.format(redis=redis_server.url), "routers.yaml", tmp_path, load_secrets=False
    )

    async def scenario() -> tuple[str, str, str]:
        first = await start_dns_server(loaded, start_health_checks=False)
        second = await start_dns_server(loaded, start_health_checks=False)
        try:
            before = await asyncio.to_thread(ask, second.port)  # the table says far-1 is closer
            assert first.admin_port is not None
            assert await post_samples(first.admin_port, "edge-near", 20) == 200
            deadline = time.monotonic() + 15
            answer_second = before
            while time.monotonic() < deadline and answer_second == before:
                await asyncio.sleep(0.25)
                answer_second = await asyncio.to_thread(ask, second.port)
            answer_first = await asyncio.to_thread(ask, first.port)
            return before, answer_first, answer_second
        finally:
            await first.aclose()
            await second.aclose()

    before, first, second = asyncio.run(asyncio.wait_for(scenario(), 40))
    assert before == "127.0.0.2", "without measurements the configured table picks edge-far"
    assert first == second == "127.0.0.1", "both routers now prefer the measured edge-near"
