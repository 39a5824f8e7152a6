"""DNS router throughput: answers per second on one core (target ≥ 20k/s, docs/benchmarks.md).

The router runs in a child process pinned to CPU 0 (taskset), this load generator on CPU 1. The
generator uses raw UDP sockets with a window of queries in flight and varies the DNS ID per query.

    .venv/bin/python bench/dns_bench.py [--seconds 5] [--window 64]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dns.message

BENCH_CONFIG = """
edges:
  - {name: edge-sg, region: ap-southeast-1, https: 127.0.0.1:8443}
  - {name: edge-eu, region: eu-west-1, https: 127.0.0.1:8444}
dns:
  listen: 127.0.0.1:0
  zone: cdn.example.test.
  latency:
    127.0.0.0/8: {ap-southeast-1: 180, eu-west-1: 12}
  records:
    - {name: static, targets: [{address: 192.0.2.10}, {address: 192.0.2.11}]}
    - {name: weighted, policy: weighted, targets: [{edge: edge-sg, address: 192.0.2.1, weight: 3},
                                                   {edge: edge-eu, address: 192.0.2.2, weight: 1}]}
    - {name: www, policy: latency, targets: [{edge: edge-sg, address: 192.0.2.1},
                                             {edge: edge-eu, address: 192.0.2.2}]}
"""

MIXES = {
    "simple A": [("static.cdn.example.test.", "A")],
    "latency A": [("www.cdn.example.test.", "A")],
    "mixed (latency, weighted, NXDOMAIN)": [
        ("www.cdn.example.test.", "A"),
        ("weighted.cdn.example.test.", "A"),
        ("nope.cdn.example.test.", "A"),
    ],
}


def serve(config_path: str) -> None:
    """Child mode: run the router and print its port."""
    import uvloop

    from originguard.config import load_config
    from originguard.dns.server import start_dns_server

    async def main() -> None:
        handle = await start_dns_server(load_config(config_path), start_health_checks=False)
        print(handle.port, flush=True)
        await asyncio.Event().wait()

    uvloop.run(main())


def generate(port: int, questions: list[tuple[str, str]], seconds: float, window: int) -> tuple[int, int]:
    """Send queries with `window` in flight for `seconds`; return (answers, timeouts)."""
    templates = [dns.message.make_query(name, rdtype, use_edns=0).to_wire()[2:] for name, rdtype in questions]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
    sock.connect(("127.0.0.1", port))
    sock.settimeout(0.5)
    pack = struct.Struct("!H").pack
    answers = timeouts = sent = 0
    in_flight = 0
    deadline = time.perf_counter() + seconds
    count = len(templates)
    while time.perf_counter() < deadline:
        while in_flight < window:
            sock.send(pack(sent & 0xFFFF) + templates[sent % count])
            sent += 1
            in_flight += 1
        try:
            sock.recv(4096)
        except TimeoutError:
            timeouts += 1
            in_flight = 0  # lost datagrams: refill the window
            continue
        answers += 1
        in_flight -= 1
    sock.close()
    return answers, timeouts


def main() -> None:
    """Start the pinned router, run each query mix, print answers/s."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    cpus = sorted(os.sched_getaffinity(0))
    server_cpu, client_cpu = (cpus[0], cpus[1]) if len(cpus) > 1 else (cpus[0], cpus[0])
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "dns-bench.yaml"
        config.write_text(BENCH_CONFIG)
        command = [sys.executable, __file__, "--serve", str(config)]
        if shutil.which("taskset"):
            command = ["taskset", "-c", str(server_cpu), *command]
        child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout is not None
            port = int(child.stdout.readline())
            os.sched_setaffinity(0, {client_cpu})
            generate(port, MIXES["simple A"], 0.5, args.window)  # warm the plans and caches
            print(f"dns router on CPU {server_cpu}, generator on CPU {client_cpu}, window {args.window}")
            for label, questions in MIXES.items():
                answers, timeouts = generate(port, questions, args.seconds, args.window)
                rate = answers / args.seconds
                print(f"{label:40s} {rate:10,.0f} answers/s  (timeouts {timeouts})  target >= 20,000")
        finally:
            child.terminate()
            child.wait(timeout=10)


if __name__ == "__main__":
    main()
