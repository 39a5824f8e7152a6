"""Shared WAF rate limiting: in-process cost of `SharedRateState.hit` and the flush round trip.

`hit` runs inside HTTP parser callbacks, so its cost is compared with the plain `RateState.hit`; the
flush is one pipelined round trip (INCRBY + EXPIRE + GET per key) against a local redis-server.

    .venv/bin/python bench/redis_rate_bench.py [--url redis://127.0.0.1:6379/0] [--keys 1,10,100,1000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.redis_server

from tests.redis_server import RedisServer

from originguard.cluster import RateSync, RedisLink, SharedRateState
from originguard.waf.rate import RateKey, RateState

WINDOW = 300.0


def hit_ns(state: RateState, keys: list[RateKey], rounds: int) -> float:
    """Median ns per `hit` over `rounds` passes across `keys`."""
    samples = []
    for _ in range(rounds):
        now = time.time()
        started = time.perf_counter_ns()
        for key in keys:
            state.hit(key, WINDOW, now)
        samples.append((time.perf_counter_ns() - started) / len(keys))
    return statistics.median(samples)


async def flush_ms(url: str, n_keys: int, repeats: int) -> tuple[float, float]:
    """(median, p90) ms of one flush carrying `n_keys` keys."""
    link = RedisLink(url)
    await link.start()
    state = SharedRateState(batch_keys=10**9)
    sync = RateSync(link, state)  # not started: flushes are driven here, one at a time
    keys: list[RateKey] = [("per-ip-limit", (f"198.51.{i // 256}.{i % 256}",)) for i in range(n_keys)]
    times = []
    for _ in range(repeats):
        state.sharing = True
        now = time.time()
        for key in keys:
            state.hit(key, WINDOW, now)
        started = time.perf_counter()
        assert await sync.flush()
        times.append((time.perf_counter() - started) * 1000)
    await link.aclose()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9)]


async def hit_cost_with_remote(url: str, keys: list[RateKey]) -> float:
    """ns per hit on a synced SharedRateState (remote figures present, batch recording on)."""
    link = RedisLink(url)
    await link.start()
    state = SharedRateState(batch_keys=10**9)
    sync = RateSync(link, state)
    state.sharing = True
    for key in keys:
        state.hit(key, WINDOW, time.time())
    await sync.flush()
    cost = hit_ns(state, keys, 50)
    await link.aclose()
    return cost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", help="an existing Redis; default: start a redis-server here")
    parser.add_argument("--keys", default="1,10,100,1000,5000")
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    server = None
    url = args.url
    if url is None:
        server = RedisServer(Path(tempfile.mkdtemp(prefix="og-redis-bench-")))
        server.start()
        url = server.url
    try:
        one = [("per-ip-limit", ("203.0.113.7",))]
        many = [("per-ip-limit", (f"198.51.{i // 256}.{i % 256}",)) for i in range(10_000)]
        print("hit cost (in-process, median ns per call)")
        for label, keys in (("1 hot key", one), ("10k keys", many)):
            plain = hit_ns(RateState(), keys, 200 if len(keys) == 1 else 20)
            shared = asyncio.run(hit_cost_with_remote(url, keys * (2000 if len(keys) == 1 else 1)))
            print(
                f"  {label:>9}: RateState {plain:7.0f} ns   SharedRateState {shared:7.0f} ns"
                f"   (+{shared - plain:.0f} ns)"
            )
        print(f"flush round trip against {url} (INCRBY+EXPIRE+GET per key, one script call)")
        for n_keys in (int(k) for k in args.keys.split(",")):
            repeats = max(10, args.repeats // max(1, n_keys // 100))
            median, p90 = asyncio.run(flush_ms(url, n_keys, repeats))
            print(
                f"  {n_keys:>6} keys: median {median:7.3f} ms   p90 {p90:7.3f} ms"
                f"   ({median * 1000 / n_keys:6.1f} µs/key)"
            )
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
