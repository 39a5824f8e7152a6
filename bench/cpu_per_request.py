"""CPU per request on each hot path, in-process: what our code costs without the client's TLS.

    python -m bench.cpu_per_request [MODE ...] [-n REQUESTS] [--instructions]
    MODE: deny (gate, fixed 403), admit (gate relay to nginx), hit (edge cache hit, default ACL),
          relay (edge, uncached behaviour, to nginx)

The gate or edge runs in this process with its real config, pool and upstreams (nginx serving
files on 127.0.0.1); requests are fed to an `HttpConnection` whose transport is a stub that keeps
the last write, so the figure is the engine + app + upstream client, not the viewer's socket and
TLS.

Prints user and system CPU µs per request. One request at a time means the loop sleeps and wakes
for every upstream response, which a loaded server does not do: on this project's VM that
inflates the admit and relay figures several times, so compare them only run to run.
`--instructions` counts instead (steady, and what docs/performance.md reports): each mode runs
under callgrind at two request counts, and the difference is divided by the extra requests.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvloop

from bench.edge_bench import CONFIG, backend_block
from bench.harness import LOAD_CORE, free_port, nginx, readable_by_workers
from originguard.certs import ensure_dev_pki
from originguard.config import load_config
from originguard.edge.process import EdgeHandle, start_edge
from originguard.gate.process import GateHandle, start_gate
from originguard.http.connection import HttpConnection
from originguard.http.server import HttpServer
from originguard.secrets import generate_secret_value, write_secret_file

MODES = ("deny", "admit", "hit", "relay")
WARM_UP = 300


class StubTransport:
    """A client transport that keeps what was written and wakes whoever waits for a response."""

    def __init__(self) -> None:
        self.last = b""
        self.waiter: asyncio.Future[None] | None = None

    def write(self, data: bytes) -> None:
        self.last = data
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 443)}.get(name, default)

    def close(self) -> None: ...
    def abort(self) -> None: ...
    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...
    def is_closing(self) -> bool:
        return False


def driver(server: HttpServer, request: bytes) -> Callable[[], Awaitable[bytes]]:
    """One keep-alive client connection: each call sends `request` and waits for its response."""
    loop = asyncio.get_running_loop()
    connection = HttpConnection(server, "https")
    transport = StubTransport()
    connection.connection_made(transport)  # type: ignore[arg-type]  # a stub, by design

    async def one() -> bytes:
        transport.waiter = loop.create_future()
        connection.data_received(request)
        await transport.waiter
        return transport.last

    return one


def request_for(mode: str, secret: str) -> bytes:
    path = b"/api/1k.bin" if mode == "relay" else b"/1k.bin"
    lines = [b"GET " + path + b" HTTP/1.1", b"Host: www.cdn.example.test"]
    if mode == "admit":
        lines.append(b"X-Origin-Verify: " + secret.encode())
    return b"\r\n".join([*lines, b"", b""])


EXPECTED = {"deny": b" 403 ", "admit": b" 200 ", "hit": b"Hit from originguard", "relay": b"Miss from"}


async def measure(mode: str, config: Path, secret: str, count: int) -> tuple[float, float]:
    """User and system CPU µs per request."""
    handle: GateHandle | EdgeHandle
    if mode in ("deny", "admit"):
        handle = await start_gate(load_config(config))
        server = next(iter(handle.servers.values()))[0]
    else:
        handle = await start_edge(load_config(config), "edge-bench")
        server = next(s for s in handle.servers if s.app is handle.apps[-1])
    try:
        one = driver(server, request_for(mode, secret))
        for _ in range(WARM_UP):  # fills the pool (and, for a hit, the cache)
            last = await one()
        if EXPECTED[mode] not in last:
            raise RuntimeError(f"{mode}: unexpected response {last[:200]!r}")
        before = resource.getrusage(resource.RUSAGE_SELF)
        for _ in range(count):
            await one()
        after = resource.getrusage(resource.RUSAGE_SELF)
        return (
            (after.ru_utime - before.ru_utime) / count * 1e6,
            (after.ru_stime - before.ru_stime) / count * 1e6,
        )
    finally:
        await handle.shutdown(0.0)


def instructions(mode: str, low: int = 1000, high: int = 5000) -> float:
    """Instructions per request for `mode`, by callgrind (valgrind must be installed)."""

    def total(count: int) -> int:
        argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
        argv += [sys.executable, "-m", "bench.cpu_per_request", mode, "-n", str(count)]
        done = subprocess.run(
            argv, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"}, check=True
        )
        found = re.search(r"Collected : (\d+)", done.stderr)
        if found is None:
            raise RuntimeError(f"no callgrind total for {mode}: {done.stderr[-500:]}")
        return int(found.group(1))

    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
    return (total(high) - total(low)) / (high - low)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("modes", nargs="*", metavar="MODE", help=f"of {', '.join(MODES)} (default: all)")
    parser.add_argument("-n", "--requests", type=int, default=20000)
    parser.add_argument("--instructions", action="store_true", help="count instructions (callgrind)")
    args = parser.parse_args()
    unknown = [mode for mode in args.modes if mode not in MODES]
    if unknown:
        parser.error(f"unknown mode {unknown[0]!r}: choose from {', '.join(MODES)}")
    modes = args.modes or list(MODES)
    if args.instructions:
        for mode in modes:
            print(f"{mode:6} {instructions(mode):9.0f} instructions per request")
        return
    with tempfile.TemporaryDirectory(prefix="og-bench-cpu-") as tmp:
        work = Path(tmp)
        readable_by_workers(work)
        certs = work / "certs"
        ensure_dev_pki(certs, {"edge": ["127.0.0.1"], "gate": ["gate.originguard.test", "127.0.0.1"]})
        root = work / "www"
        (root / "api").mkdir(parents=True)
        for directory in (root, root / "api"):
            (directory / "1k.bin").write_bytes(b"x" * 1024)
            readable_by_workers(directory)
        secret = generate_secret_value()
        write_secret_file(work / "secret", [secret])
        backend = free_port()
        config = work / "originguard.yaml"
        config.write_text(
            CONFIG.format(
                work=work,
                certs=certs,
                edge_http=0,
                edge_https=free_port(),
                web_acl="main",
                origin_port=backend,  # the edge straight to nginx: the relay figure is the edge's alone
                origin_protocol="http-only",
                gate_port=free_port(),
                backend=backend,
            )
        )
        with nginx(backend_block(backend, root), core=LOAD_CORE, port=backend):
            for mode in modes:
                # A fresh loop per mode: each starts its own gate or edge.
                user, system = uvloop.run(measure(mode, config, secret, args.requests))
                print(f"{mode:6} {user:7.2f} µs user  {system:7.2f} µs system  per request")


if __name__ == "__main__":
    main()
