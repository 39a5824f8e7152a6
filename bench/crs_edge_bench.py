"""The OWASP CRS in the edge: load time, edge start, RSS, per-request cost in the ACL.

    python bench/crs_edge_bench.py

- load: `crs_sources` + `load_crs` in a fresh process, twice (target: edge start with CRS ≤ 3 s);
- edge: `originguard edge` with the default ACL of `originguard up` (CRS PL1 block), time from exec
  to its TLS port accepting, and its RSS (VmRSS) after start and after 2,000 requests (≤ 150 MB);
- per request: `WafRequest.from_raw` + `evaluate` on the default ACL, the verdict memo off (every
  request evaluated by the engine: the cold figure) and on (a repeated request: what cache hits of
  one URL cost), median and p99 µs.
"""

from __future__ import annotations

import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.crs_bench import BROWSER  # noqa: E402
from bench.harness import free_port  # noqa: E402

LOAD = """
import time
started = time.perf_counter()
from originguard.config.crs import CrsGroup
from originguard.waf.crs_load import load_crs
from originguard.waf.crs_setup import crs_sources
sources = crs_sources(CrsGroup(name="owasp-crs"), mode="block", body_limit=16384)
loaded = load_crs(sources)
print(time.perf_counter() - started, loaded.rules)
"""


def load_times() -> list[tuple[str, float, int]]:
    out = []
    for label in ("first run", "second run"):
        done = subprocess.run([sys.executable, "-c", LOAD], capture_output=True, text=True, check=True)
        seconds, rules = done.stdout.split()
        out.append((label, float(seconds), int(rules)))
    return out


EDGE_YAML = """
edges:
  - {{name: e, region: local, http: 127.0.0.1:{http}, https: 127.0.0.1:{https},
     tls: {{certificate: {certs}/edge.crt, key: {certs}/edge.key}}}}
distribution:
  viewer_protocol_policy: allow-all
  web_acl: main
  access_log: null
  origins: [{{id: o, address: "127.0.0.1:{origin}", protocol_policy: http-only}}]
  default_behavior: {{origin: o}}
waf:
  web_acls:
    main:
      rules:
        - {{name: owasp-crs, priority: 5, action: block, statement: {{managed: {{name: owasp-crs}}}}}}
        - {{name: block-sqli, priority: 10, action: block, statement: {{sqli: {{field: query}}}}}}
"""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def edge_start(work: Path) -> list[tuple[str, float, float, float]]:
    from originguard.certs import ensure_dev_pki

    certs = work / "certs"
    ensure_dev_pki(certs, {"edge": ["127.0.0.1", "localhost"], "gate": ["localhost"]})
    rows = []
    for label in ("first start", "second start"):
        https = free_port()
        config = work / "edge.yaml"
        config.write_text(EDGE_YAML.format(http=free_port(), https=https, certs=certs, origin=free_port()))
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "originguard", "edge", "-c", str(config), "--name", "e"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait(https, 60)
            ready = time.monotonic() - started
            after_start = rss_mb(proc.pid)
            _requests(https, 2000)
            rows.append((label, ready, after_start, rss_mb(proc.pid)))
        finally:
            proc.terminate()
            proc.wait(10)
    return rows


def _wait(port: int, timeout: float) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError("the edge did not start")


def _requests(port: int, count: int) -> None:
    import socket

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5)) as sock:
        for index in range(count):
            # Distinct targets: the memo fills (bounded) as it would under varied traffic.
            sock.sendall(f"GET /p{index}?q=v{index} HTTP/1.1\r\nHost: x\r\nUser-Agent: b\r\n\r\n".encode())
            data = b""
            while b"\r\n\r\n" not in data:
                data += sock.recv(65536)
            head, _, rest = data.partition(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                ),
                0,
            )
            while len(rest) < length:
                rest += sock.recv(65536)


def per_request(rounds: int = 300) -> list[tuple[str, float, float]]:
    from originguard.config.waf import WebAclConfig
    from originguard.waf import RateState, WafRequest, compile_acl, evaluate

    def acl(memo: int) -> object:
        rule = {"name": "owasp-crs", "priority": 5, "action": "block"}
        rule["statement"] = {"managed": {"name": "owasp-crs", "verdict_memo": memo}}  # type: ignore[assignment]
        return compile_acl(WebAclConfig.model_validate({"rules": [rule]}))

    target = b"/search?q=shoes&size=42&color=blue"
    args = (
        b"GET",
        b"/search",
        b"q=shoes&size=42&color=blue",
        BROWSER,
        "192.0.2.1",
        b"",
        False,
        target,
        b"HTTP/1.1",
    )
    rows = []
    for label, memo in (("memo off (cold: engine every time)", 0), ("memo on, same request", 4096)):
        compiled = acl(memo)
        rate = RateState()
        samples = []
        for _ in range(rounds):
            begin = time.perf_counter_ns()
            evaluate(compiled, WafRequest.from_raw(*args), 0.0, rate)  # type: ignore[arg-type]
            samples.append((time.perf_counter_ns() - begin) / 1000)
        samples.sort()
        rows.append((label, statistics.median(samples), samples[int(len(samples) * 0.99) - 1]))
    return rows


def main() -> None:
    os.environ.setdefault("ORIGINGUARD_PURE", "1")
    with tempfile.TemporaryDirectory(prefix="og-bench-crs-") as tmp:
        work = Path(tmp)
        print("CRS 4.28 load (fresh process, default settings):")
        for label, seconds, rules in load_times():
            print(f"  {label:<16} {seconds:6.2f} s  ({rules} rules)")
        print("edge start with the default ACL (CRS PL1 block), exec → TLS port accepting:")
        for label, ready, start_rss, later_rss in edge_start(work):
            print(
                f"  {label:<16} {ready:6.2f} s   RSS {start_rss:6.1f} MB at start, "
                f"{later_rss:6.1f} MB after 2,000 requests"
            )
    print("per request, from_raw + evaluate, browser GET with 3 arguments (µs):")
    for label, median, p99 in per_request():
        print(f"  {label:<36} median {median:9.1f}   p99 {p99:9.1f}")


if __name__ == "__main__":
    main()
