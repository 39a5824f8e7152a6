"""Benchmark plumbing: pinned processes, nginx instances, wrk runs, ratio tables.

The system under test gets core 0 alone; wrk and the backends share core 1, the same for nginx and
for us, so the ratio compares like with like on this 2-core machine.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SUT_CORE = "0"
LOAD_CORE = "1" if (os.cpu_count() or 1) > 1 else "0"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout}s")


def pinned(core: str, argv: list[str]) -> list[str]:
    return ["taskset", "-c", core, *argv] if shutil.which("taskset") else argv


@contextmanager
def process(
    argv: list[str], *, core: str, port: int, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Start a pinned process, wait for its port, stop it afterwards."""
    # stderr goes to a file: an unread pipe fills up and blocks the process under test.
    errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the process below
    proc = subprocess.Popen(
        pinned(core, argv), stdout=subprocess.DEVNULL, stderr=errors, env={**os.environ, **(env or {})}
    )
    try:
        wait_port(port)
        yield proc
    except RuntimeError:
        proc.kill()
        errors.seek(0)
        raise RuntimeError(f"{argv[0]} did not start: {errors.read().decode(errors='replace')}") from None
    finally:
        errors.close()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def nginx(server_blocks: str, *, core: str, port: int) -> Iterator[None]:
    """An nginx master + one worker pinned to `core`, access log off, serving `server_blocks`."""
    if not shutil.which("nginx"):
        raise RuntimeError("nginx is not installed (make bench installs it)")
    with tempfile.TemporaryDirectory(prefix="og-nginx-") as prefix:
        readable_by_workers(Path(prefix))
        conf = Path(prefix) / "nginx.conf"
        conf.write_text(
            f"""
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log error;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/body; proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fcgi; uwsgi_temp_path {prefix}/uwsgi; scgi_temp_path {prefix}/scgi;
  keepalive_requests 1000000;
  {server_blocks.replace("PREFIX", prefix)}
}}
"""
        )
        with process(["nginx", "-p", prefix, "-c", str(conf), "-g", "daemon off;"], core=core, port=port):
            yield


def readable_by_workers(directory: Path) -> None:
    """nginx workers run as `nobody`: a 0700 temporary directory makes them answer 403 and
    cache nothing (which is what the figures before 2026-12-01 measured: see bench/performance-history.md)."""
    directory.chmod(0o755)


def expect(
    url: str,
    *,
    status: int = 200,
    header: tuple[str, str] | None = None,
    send: dict[str, str] | None = None,
    requests: int = 3,
) -> None:
    """Fetch `url` a few times (fills caches, pools, TLS sessions); the last answer must have
    `status` and, if given, the header `name: value-prefix` — or the benchmark would measure
    something else than its title says."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    last = None
    for _ in range(requests):
        try:
            request = urllib.request.Request(url, headers=send or {})
            with urllib.request.urlopen(request, timeout=10, context=context) as response:
                response.read()
                last = (response.status, response.headers)
        except urllib.error.HTTPError as error:
            last = (error.code, error.headers)
    assert last is not None
    if last[0] != status or (header is not None and not (last[1].get(header[0]) or "").startswith(header[1])):
        raise RuntimeError(f"{url} answered {last[0]} {dict(last[1])}: expected {status} {header or ''}")


@dataclass
class WrkResult:
    requests_per_second: float
    latency_p50_ms: float
    errors: int


def wrk(url: str, *, seconds: int = 5, connections: int = 32, headers: list[str] | None = None) -> WrkResult:
    """Drive `url` with wrk from the load core and parse its summary."""
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed (make bench installs it)")
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for header in headers or []:
        argv += ["-H", header]
    out = subprocess.run(
        pinned(LOAD_CORE, [*argv, url]), capture_output=True, text=True, timeout=seconds + 30
    ).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if rps is None:
        raise RuntimeError(f"wrk gave no result:\n{out}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    errors = sum(int(g) for g in socket_errors.groups()) if socket_errors else 0
    return WrkResult(
        float(rps.group(1)),
        float(p50.group(1)) * scale[p50.group(2)] if p50 else float("nan"),
        errors + (int(non2xx.group(1)) if non2xx else 0),
    )


@dataclass(frozen=True)
class Comparison:
    """Paired runs of two servers: each round runs ours, then theirs, back to back."""

    ours: list[WrkResult]
    theirs: list[WrkResult]

    @property
    def ratios(self) -> list[float]:
        return [
            o.requests_per_second / t.requests_per_second for o, t in zip(self.ours, self.theirs, strict=True)
        ]

    @property
    def ratio(self) -> float:
        """The median of the rounds' ratios: each pair saw the same machine state, and the median
        is not moved by one slow phase of this VM (±15-20% from one run to the next)."""
        return statistics.median(self.ratios)

    def median(self, side: list[WrkResult]) -> WrkResult:
        return sorted(side, key=lambda r: r.requests_per_second)[len(side) // 2]


def report(title: str, rows: list[tuple[str, Comparison, float]]) -> list[dict[str, object]]:
    """Print a ratio table: scenario, ours and nginx (median runs), the median paired ratio with
    its range over the rounds, and the target."""
    print(f"\n== {title}")
    print(f"{'scenario':<34} {'ours req/s':>11} {'nginx req/s':>11} {'ratio':>7} {'range':>11} {'target':>7}")
    out = []
    for name, comparison, target in rows:
        ours, theirs = comparison.median(comparison.ours), comparison.median(comparison.theirs)
        ratio, ratios = comparison.ratio, comparison.ratios
        mark = "ok" if ratio >= target else "BELOW"
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
        print(
            f"{name:<34} {ours.requests_per_second:>11.0f} {theirs.requests_per_second:>11.0f} "
            f"{ratio:>6.2f}x {spread:>11} {target:>6.2f}x {mark}"
        )
        out.append(
            {
                "scenario": name,
                "ours": ours.requests_per_second,
                "nginx": theirs.requests_per_second,
                "ratio": round(ratio, 3),
                "ratios": [round(r, 3) for r in ratios],
                "target": target,
                "ours_p50_ms": ours.latency_p50_ms,
                "nginx_p50_ms": theirs.latency_p50_ms,
                "ours_errors": sum(r.errors for r in comparison.ours),
            }
        )
    return out


def alternate(
    ours: str, theirs: str, *, seconds: int, rounds: int = 5, headers: list[str] | None = None
) -> Comparison:
    """wrk each URL in turn, `rounds` times: paired runs for `Comparison`.

    Both servers run at once (only the one under load uses its core); alternating short runs puts
    both sides of a pair in the same machine state, which matters on a VM whose speed drifts.
    """
    for url in (ours, theirs):
        wrk(url, seconds=1, headers=headers)  # warm up: TLS sessions, cache fill, pools
    comparison = Comparison([], [])
    for _ in range(rounds):
        comparison.ours.append(wrk(ours, seconds=seconds, headers=headers))
        comparison.theirs.append(wrk(theirs, seconds=seconds, headers=headers))
    return comparison
