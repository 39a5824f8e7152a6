"""WebSocket echo round trips through edge (TLS) → gate (TLS) → demo app, against the app direct.

Target (issue 19): a round trip through both hops ≤ 2× the direct one. One connection, one small
text message at a time (latency), then 16 connections each sending as fast as echoes come back
(messages per second). Edge and gate share the system-under-test core; the client and the demo
app the load core. The direct connection is plain `ws://` (the app has no TLS), so the ratio
includes two TLS hops as well as two proxies.

    .venv/bin/python bench/websocket_bench.py [ROUND_TRIPS]
"""

from __future__ import annotations

import asyncio
import os
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path

from websockets.asyncio.client import connect

from bench.harness import LOAD_CORE, SUT_CORE, VENV_BIN, free_port, process
from originguard.certs import ensure_dev_pki
from originguard.secrets import generate_secret_value, write_secret_file

GATE_YAML = """
secrets: {{origin-verify: {{file: {secret}}}}}
gate:
  access_log: null
  listeners:
    - port: 127.0.0.1:{port}
      protocol: https
      tls: {{certificate: {certs}/gate.crt, key: {certs}/gate.key}}
      rules:
        - priority: 1
          conditions: [{{http_header: {{name: X-Origin-Verify, values: [{{secret: origin-verify}}]}}}}]
          actions: [{{forward: {{target_group: app}}}}]
  target_groups:
    app: {{targets: ["127.0.0.1:{app}"], health_check: null}}
"""

EDGE_YAML = """
secrets: {{origin-verify: {{file: {secret}}}}}
edges:
  - {{name: bench, region: eu-west-1, https: "127.0.0.1:{port}",
     tls: {{certificate: {certs}/edge.crt, key: {certs}/edge.key}}}}
distribution:
  viewer_protocol_policy: https-only
  access_log: null
  origins:
    - id: gate
      address: "127.0.0.1:{gate}"
      protocol_policy: https-only
      server_name: gate.originguard.test
      ca_bundle: {certs}/ca.crt
      custom_headers: {{X-Origin-Verify: {{secret: origin-verify}}}}
  default_behavior: {{origin: gate}}
"""

CONNECTIONS = 16
PER_CONNECTION = 500


async def latencies(url: str, tls: ssl.SSLContext | None, count: int) -> list[float]:
    """Seconds per round trip of a 32-byte text message, one at a time on one connection."""
    message = "x" * 32
    async with connect(url, ssl=tls, server_hostname="www.cdn.example.test" if tls else None) as ws:
        for _ in range(50):  # warm-up: pools, caches, branch predictors
            await ws.send(message)
            await ws.recv()
        times = []
        for _ in range(count):
            started = time.perf_counter()
            await ws.send(message)
            await ws.recv()
            times.append(time.perf_counter() - started)
    return times


async def throughput(url: str, tls: ssl.SSLContext | None) -> float:
    """Echoed messages per second over CONNECTIONS connections, each in lock-step."""

    async def one() -> None:
        async with connect(url, ssl=tls, server_hostname="www.cdn.example.test" if tls else None) as ws:
            for _ in range(PER_CONNECTION):
                await ws.send("y" * 256)
                await ws.recv()

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(CONNECTIONS)))
    return CONNECTIONS * PER_CONNECTION / (time.perf_counter() - started)


def run(round_trips: int = 2000) -> dict[str, float]:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(LOAD_CORE)})
    with tempfile.TemporaryDirectory(prefix="og-bench-ws-") as tmp:
        work = Path(tmp)
        certs = work / "certs"
        names = ["www.cdn.example.test", "gate.originguard.test", "127.0.0.1"]
        ensure_dev_pki(certs, {"gate": names, "edge": names})
        write_secret_file(work / "secret", [generate_secret_value()])
        app, gate, edge = free_port(), free_port(), free_port()
        (work / "gate.yaml").write_text(
            GATE_YAML.format(secret=work / "secret", port=gate, certs=certs, app=app)
        )
        (work / "edge.yaml").write_text(
            EDGE_YAML.format(secret=work / "secret", port=edge, certs=certs, gate=gate)
        )
        og = str(VENV_BIN / "originguard")
        tls = ssl.create_default_context(cafile=str(certs / "ca.crt"))
        with (
            process([og, "demo-app", "--listen", f"127.0.0.1:{app}"], core=LOAD_CORE, port=app),
            process([og, "gate", "-c", str(work / "gate.yaml")], core=SUT_CORE, port=gate),
            process([og, "edge", "-c", str(work / "edge.yaml"), "--name", "bench"], core=SUT_CORE, port=edge),
        ):
            direct_url, chain_url = f"ws://127.0.0.1:{app}/ws", f"wss://127.0.0.1:{edge}/ws"
            direct = asyncio.run(latencies(direct_url, None, round_trips))
            chain = asyncio.run(latencies(chain_url, tls, round_trips))
            direct_rate = asyncio.run(throughput(direct_url, None))
            chain_rate = asyncio.run(throughput(chain_url, tls))
    figures = {
        "direct_median_us": statistics.median(direct) * 1e6,
        "chain_median_us": statistics.median(chain) * 1e6,
        "direct_p99_us": statistics.quantiles(direct, n=100)[98] * 1e6,
        "chain_p99_us": statistics.quantiles(chain, n=100)[98] * 1e6,
        "direct_msgs_per_s": direct_rate,
        "chain_msgs_per_s": chain_rate,
    }
    ratio = figures["chain_median_us"] / figures["direct_median_us"]
    print("WebSocket echo: edge (TLS) → gate (TLS) → app vs the app direct (ws://)")
    for label, key in (("median", "median_us"), ("p99", "p99_us")):
        direct_us, chain_us = figures[f"direct_{key}"], figures[f"chain_{key}"]
        print(f"  round trip, {label:6}: {direct_us:8.0f} µs direct, {chain_us:8.0f} µs through the chain")
    print(f"  {CONNECTIONS} connections: {direct_rate:8.0f} msg/s direct, {chain_rate:8.0f} msg/s through it")
    print(f"  latency ratio {ratio:.2f}× (target ≤ 2×): {'met' if ratio <= 2.0 else 'NOT met'}")
    return figures


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
