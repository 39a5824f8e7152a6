"""With `cluster.redis` set, a dead edge leaves the router's answers as fast as it does without one."""

from __future__ import annotations

import asyncio
from pathlib import Path

import dns.asyncquery
import dns.message

from originguard.config import load_config_text
from tests.integration.dns.harness import HealthzEdge, eventually, make_pki, start_router
from tests.redis_server import RedisServer

INTERVAL, TIMEOUT_S, UNHEALTHY = 0.1, 0.5, 2


def config(
    sg: int, eu: int, ca: Path, redis: str, *, interval: float = INTERVAL, timeout: float = TIMEOUT_S
) -> str:
    return f"""
edges:
  - {{name: edge-sg, region: ap-southeast-1, https: 127.0.0.1:{sg}}}
  - {{name: edge-eu, region: eu-west-1, https: 127.0.0.1:{eu}}}
cluster: {{redis: '{redis}'}}
dns:
  listen: 127.0.0.1:0
  zone: cdn.example.test.
  records:
    - name: www
      health_check: {{protocol: https, path: /healthz, interval: {interval}, timeout: {timeout},
                      healthy: 2, unhealthy: {UNHEALTHY}, ca_bundle: {ca}}}
      targets: [{{edge: edge-sg, address: 192.0.2.1}}, {{edge: edge-eu, address: 192.0.2.2}}]
"""


async def addresses(port: int) -> set[str]:
    query = dns.message.make_query("www.cdn.example.test.", "A")
    response = await dns.asyncquery.udp(query, "127.0.0.1", port=port, timeout=2.0)
    return {rdata.address for rrset in response.answer for rdata in rrset}


def test_a_killed_edge_leaves_a_clustered_routers_answers_within_its_health_check_window(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    ca, cert, key = make_pki(tmp_path)

    async def scenario() -> None:
        sg, eu = HealthzEdge(cert, key), HealthzEdge(cert, key)
        await sg.start()
        await eu.start()
        router = await start_router(config(sg.port, eu.port, ca, redis_server.url), tmp_path)
        blackhole: asyncio.Server | None = None
        loop = asyncio.get_running_loop()
        try:
            await eventually(lambda: asyncio.sleep(0, router.monitor.serving), lambda s: len(s) == 2, 5)
            assert await addresses(router.port) == {"192.0.2.1", "192.0.2.2"}
            stopped_at = loop.time()
            await sg.stop()
            await eventually(lambda: addresses(router.port), lambda a: a == {"192.0.2.2"}, 5)
            # One probe may be in flight, then `unhealthy` refused connects; the merge adds nothing.
            assert loop.time() - stopped_at <= (UNHEALTHY + 1) * (INTERVAL + TIMEOUT_S) + 0.5
            await sg.start()  # same port: it comes back in every answer
            await eventually(lambda: addresses(router.port), lambda a: a == {"192.0.2.1", "192.0.2.2"}, 5)

            # Down again, its port now silent: a reload whose first probe takes 5 s keeps it out.
            await sg.stop()
            held: list[asyncio.StreamWriter] = []
            blackhole = await asyncio.start_server(lambda _, w: held.append(w), "127.0.0.1", sg.port)
            await eventually(lambda: addresses(router.port), lambda a: a == {"192.0.2.2"}, 5)
            slower = config(sg.port, eu.port, ca, redis_server.url, interval=30, timeout=5)
            await router.reload(load_config_text(slower, "dns-test.yaml", tmp_path, load_secrets=False))
            assert await addresses(router.port) == {"192.0.2.2"}
        finally:
            await router.aclose()
            if blackhole is not None:
                blackhole.close()
            for edge in (sg, eu):
                if edge.server is not None:
                    await edge.stop()

    asyncio.run(asyncio.wait_for(scenario(), 30))
