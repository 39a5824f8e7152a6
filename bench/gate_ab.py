"""A/B of two gate builds on the wire: this checkout against another, nginx's gate as reference.

    python -m bench.gate_ab OTHER_SRC [ROUNDS]

OTHER_SRC is the `src` folder of another checkout, compiled in place, for example:

    git worktree add /tmp/before REV
    python="$PWD/.venv/bin/python"   # this checkout's venv, with mypyc
    (cd /tmp/before && "$python" setup.py build_ext --inplace)
    .venv/bin/python -m bench.gate_ab /tmp/before/src 8

Both gates and nginx's gate run on core 0 at once, and each round drives all three in turn with
wrk over TLS (admit path, 3 s each). The VM's speed drifts by up to 2× over minutes, so a change
is judged by the median of the per-round ratios "this build / the other", which a drift moves
little; single runs are not comparable (docs/benchmarks.md). Each gate's CPU time per request
(user + system, from /proc) is printed too: the VM's steal time moves req/s but not that.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.gate_bench import GATE_YAML, backend_block, gate_workspace, nginx_gate_block
from bench.harness import LOAD_CORE, ROOT, SUT_CORE, VENV_BIN, free_port, nginx, pinned, wait_port, wrk


def run(other_src: Path, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="og-ab-") as tmp:
        work = Path(tmp)
        certs, secret = gate_workspace(work)
        backend, theirs = free_port(), free_port()
        builds = {"this": (free_port(), ROOT / "src"), "other": (free_port(), other_src)}
        gates: list[subprocess.Popen[bytes]] = []
        try:
            for name, (port, src) in builds.items():
                config = work / f"{name}.yaml"
                config.write_text(
                    GATE_YAML.format(secret_file=work / "secret", port=port, certs=certs, backend=backend)
                )
                argv = [str(VENV_BIN / "python"), "-m", "originguard", "gate", "-c", str(config)]
                env = {**os.environ, "PYTHONPATH": str(src)}
                gates.append(subprocess.Popen(pinned(SUT_CORE, argv), env=env, stderr=subprocess.DEVNULL))
            with (
                nginx(backend_block(backend), core=LOAD_CORE, port=backend),
                nginx(nginx_gate_block(theirs, backend, certs, secret), core=SUT_CORE, port=theirs),
            ):
                urls = {name: f"https://127.0.0.1:{port}/" for name, (port, _) in builds.items()}
                urls["nginx"] = f"https://127.0.0.1:{theirs}/"
                headers = [f"X-Origin-Verify: {secret}"]
                for port, _ in builds.values():
                    wait_port(port)
                for url in urls.values():
                    wrk(url, seconds=1, headers=headers)  # warm up: TLS sessions, pools
                rates: dict[str, list[float]] = {name: [] for name in urls}
                cpu: dict[str, list[float]] = {name: [] for name in builds}
                pids = {name: gate.pid for name, gate in zip(builds, gates, strict=True)}
                for index in range(rounds):
                    for name, url in urls.items():
                        before = _cpu_seconds(pids[name]) if name in pids else 0.0
                        result = wrk(url, seconds=3, headers=headers)
                        rates[name].append(result.requests_per_second)
                        if name in pids:
                            requests = max(result.requests_per_second * 3, 1.0)
                            cpu[name].append((_cpu_seconds(pids[name]) - before) / requests * 1e6)
                    print(index, {name: round(values[-1]) for name, values in rates.items()}, flush=True)
                _summary(rates, cpu)
        finally:
            for gate in gates:
                gate.terminate()
                gate.wait(10)


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (steal time, the VM's noise, is not in it)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _summary(rates: dict[str, list[float]], cpu: dict[str, list[float]]) -> None:
    per_round = [a / b for a, b in zip(rates["this"], rates["other"], strict=True)]
    for name in ("this", "other"):
        to_nginx = statistics.median(a / b for a, b in zip(rates[name], rates["nginx"], strict=True))
        print(f"{name:5} median {statistics.median(rates[name]):8.0f} req/s, to nginx {to_nginx:.3f}")
    print(
        f"this / other per round: median {statistics.median(per_round):.3f}", [round(r, 3) for r in per_round]
    )
    for name in ("this", "other"):
        print(
            f"{name:5} CPU per request: median {statistics.median(cpu[name]):.1f} µs",
            [round(c, 1) for c in cpu[name]],
        )
    cpu_ratio = [a / b for a, b in zip(cpu["this"], cpu["other"], strict=True)]
    print(f"this / other CPU per request, per round: median {statistics.median(cpu_ratio):.3f}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    run(Path(sys.argv[1]).resolve(), int(sys.argv[2]) if len(sys.argv) > 2 else 6)
