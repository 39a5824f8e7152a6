"""HTTP/2 viewers: edge cache hits of a 1 KiB file over h2, against nginx's `proxy_cache` over h2.

    python -m bench.h2_bench [SECONDS] [ROUNDS]

h2load (Debian's nghttp2-client) drives both from the load core: 32 connections with 10 streams
in flight on each (`-m 10`), as browsers multiplex. Our edge and nginx (one worker) each get the
system-under-test core, with the same certificate and the same backend; the rounds alternate as
in `bench.harness.alternate`, and the figure is the median of the paired ratios. An HTTP/1.1 row
(wrk, the same 1 KiB hit) puts the two protocols side by side on our edge.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.edge_bench import NAMES, _config, _edge, backend_block
from bench.harness import (
    LOAD_CORE,
    SUT_CORE,
    alternate,
    expect,
    free_port,
    nginx,
    pinned,
    process,
    readable_by_workers,
)
from originguard.certs import ensure_dev_pki
from originguard.secrets import generate_secret_value, write_secret_file

CONNECTIONS = 32
STREAMS = 10


@dataclass
class H2LoadResult:
    requests_per_second: float
    failed: int


def h2load(url: str, *, seconds: int) -> H2LoadResult:
    """One h2load run over HTTP/2 (ALPN h2), pinned to the load core."""
    if not shutil.which("h2load"):
        raise RuntimeError("h2load is not installed (apt-get install nghttp2-client)")
    argv = ["h2load", "-c", str(CONNECTIONS), "-m", str(STREAMS), "-t", "1", "-D", str(seconds), url]
    out = subprocess.run(pinned(LOAD_CORE, argv), capture_output=True, text=True, timeout=seconds + 60).stdout
    rate = re.search(r"finished in [\d.]+s, ([\d.]+) req/s", out)
    status = re.search(r"status codes: (\d+) 2xx", out)
    done = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed", out)
    protocol = re.search(r"Application protocol: (\S+)", out)
    if rate is None or done is None or protocol is None or protocol.group(1) != "h2":
        raise RuntimeError(f"h2load gave no HTTP/2 result:\n{out}")
    failed = int(done.group(3)) + (int(done.group(1)) - int(status.group(1)) if status else 0)
    return H2LoadResult(float(rate.group(1)), failed)


def nginx_h2_block(https: int, backend: int, certs: Path) -> str:
    return f"""
  proxy_cache_path PREFIX/cache levels=1:2 keys_zone=edge:10m max_size=256m inactive=60m use_temp_path=off;
  upstream origin {{ server 127.0.0.1:{backend}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{https} ssl http2;
    ssl_certificate {certs}/edge.crt; ssl_certificate_key {certs}/edge.key;
    http2_max_concurrent_streams 128;
    location / {{
      proxy_cache edge; proxy_cache_valid 200 60m; proxy_cache_lock on;
      proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection "";
      add_header X-Cache $upstream_cache_status;
    }}
  }}"""


def run(seconds: int = 5, rounds: int = 5) -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory(prefix="og-bench-h2-") as tmp:
        work = Path(tmp)
        readable_by_workers(work)
        certs = work / "certs"
        ensure_dev_pki(certs, {"edge": NAMES, "gate": NAMES})
        root = work / "www"
        root.mkdir()
        (root / "1k.bin").write_bytes(b"x" * 1024)
        readable_by_workers(root)
        write_secret_file(work / "secret", [generate_secret_value()])  # the config names one
        ports = {k: free_port() for k in ("backend", "n_https", "e_http", "e_https", "gate")}
        config = _config(
            work, certs, ports, https="e_https", web_acl="main", origin=ports["backend"], protocol="http-only"
        )
        ours_url = f"https://127.0.0.1:{ports['e_https']}/1k.bin"
        theirs_url = f"https://127.0.0.1:{ports['n_https']}/1k.bin"
        with (
            nginx(backend_block(ports["backend"], root), core=LOAD_CORE, port=ports["backend"]),
            nginx(
                nginx_h2_block(ports["n_https"], ports["backend"], certs),
                core=SUT_CORE,
                port=ports["n_https"],
            ),
            process(_edge(config), core=SUT_CORE, port=ports["e_https"]),
        ):
            expect(ours_url, header=("X-Cache", "Hit from originguard"))
            expect(theirs_url, header=("X-Cache", "HIT"))
            for url in (ours_url, theirs_url):
                h2load(url, seconds=1)  # warm up
            ours: list[H2LoadResult] = []
            theirs: list[H2LoadResult] = []
            for _ in range(rounds):
                ours.append(h2load(ours_url, seconds=seconds))
                theirs.append(h2load(theirs_url, seconds=seconds))
            h1 = alternate(ours_url, theirs_url, seconds=seconds, rounds=rounds)
    ratios = [o.requests_per_second / t.requests_per_second for o, t in zip(ours, theirs, strict=True)]
    rows = [
        {
            "scenario": "edge hit 1k h2 (h2load -c32 -m10)",
            "ours": statistics.median(r.requests_per_second for r in ours),
            "nginx": statistics.median(r.requests_per_second for r in theirs),
            "ratio": round(statistics.median(ratios), 3),
            "ratios": [round(r, 3) for r in ratios],
            "ours_failed": sum(r.failed for r in ours),
            "nginx_failed": sum(r.failed for r in theirs),
        },
        {
            "scenario": "edge hit 1k https/1.1 (wrk -c32; nginx h2 listener)",
            "ours": h1.median(h1.ours).requests_per_second,
            "nginx": h1.median(h1.theirs).requests_per_second,
            "ratio": round(h1.ratio, 3),
            "ratios": [round(r, 3) for r in h1.ratios],
        },
    ]
    print(f"\n== HTTP/2 viewers ({CONNECTIONS} connections, one core for the server)")
    print(f"{'scenario':<52} {'ours req/s':>11} {'nginx req/s':>11} {'ratio':>7} {'range':>11}")
    for row in rows:
        ratios_row = row["ratios"]
        assert isinstance(ratios_row, list)
        print(
            f"{row['scenario']:<52} {row['ours']:>11.0f} {row['nginx']:>11.0f} {row['ratio']:>6.2f}x "
            f"{min(ratios_row):.2f}-{max(ratios_row):.2f}"
        )
    return rows


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 5, int(sys.argv[2]) if len(sys.argv) > 2 else 5)
