"""`make bench`: every scenario, ours against nginx in the same run, ratios printed.

Results are also written to bench/out/results.json. Each scenario pins the system under test to
core 0 and the load (wrk, backends) to core 1; run on a quiet machine for figures worth quoting.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench import edge_bench, gate_bench, h2_bench

OUT = Path(__file__).resolve().parent / "out"
SCRIPTS = ("waf_bench.py", "cache_store_bench.py", "dns_bench.py", "h2_codec_bench.py", "crs_bench.py")


def main() -> None:
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    OUT.mkdir(exist_ok=True)
    results: dict[str, object] = {
        "gate": gate_bench.run(seconds),
        "edge": edge_bench.run(seconds),
        "h2": h2_bench.run(seconds),
    }
    for script in SCRIPTS:
        print(f"\n== {script}", flush=True)
        done = subprocess.run(
            [sys.executable, str(Path(__file__).parent / script)], capture_output=True, text=True
        )
        print(done.stdout + done.stderr, flush=True)
        results[script] = done.stdout
    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    print(f"\nresults written to {OUT / 'results.json'}")


if __name__ == "__main__":
    main()
