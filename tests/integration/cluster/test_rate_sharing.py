"""Two edges share rate counts through a real redis-server; an outage falls back to local counts."""

from __future__ import annotations

import asyncio
import time

from originguard.cluster import RateSync, RedisLink, SharedRateState
from originguard.waf.rate import RateKey, RateState
from tests.integration.cluster.conftest import eventually, run
from tests.redis_server import RedisServer

KEY: RateKey = ("per-ip-limit", ("203.0.113.7",))
WINDOW = 60.0
INTERVAL = 0.05
RTT_ALLOWANCE = 0.02  # generous for a loopback round trip under a loaded test machine


async def edge(url: str) -> tuple[RedisLink, SharedRateState, RateSync]:
    link = RedisLink(url)
    await link.start()
    state = SharedRateState()
    sync = RateSync(link, state, interval=INTERVAL)
    sync.start()
    return link, state, sync


async def close(*parts: tuple[RedisLink, SharedRateState, RateSync]) -> None:
    for link, _, sync in parts:
        await sync.aclose()
        await link.aclose()


def test_two_edges_admit_at_most_limit_plus_documented_slack(redis_server: RedisServer) -> None:
    limit, rate_per_edge, seconds = 100, 200.0, 1.5

    async def scenario() -> tuple[int, int]:
        a, b = await edge(redis_server.url), await edge(redis_server.url)
        admitted = sent = 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for _, state, _ in (a, b):
                sent += 1
                if state.hit(KEY, WINDOW, time.time()) <= limit:
                    admitted += 1
            await asyncio.sleep(1 / rate_per_edge)
        await close(a, b)
        return admitted, sent

    admitted, sent = run(scenario())
    # rate_core's bound: each edge sees the other's traffic at most 2·(interval + round trip) late.
    slack = 2 * rate_per_edge * 2 * (INTERVAL + RTT_ALLOWANCE)
    assert sent > 2 * limit + slack  # unshared, each edge alone would admit `limit`: 2 × limit in all
    assert limit <= admitted <= limit + slack, (admitted, slack)


def test_hit_never_raises_during_outage_and_sync_resumes_after_restart(redis_server: RedisServer) -> None:
    async def scenario() -> None:
        a, b = await edge(redis_server.url), await edge(redis_server.url)
        (link_a, state_a, sync_a), (_, state_b, _) = a, b
        for _ in range(50):
            state_b.hit(KEY, WINDOW, time.time())
        # A's view of a key refreshes with A's own flushes of that key, i.e. while A gets requests for it.
        await eventually(lambda: state_a.hit(KEY, WINDOW, time.time()) >= 50, what="A sees B's 50")

        redis_server.stop()
        for _ in range(20):  # a request path during the outage: answers, never raises
            state_a.hit(KEY, WINDOW, time.time())
            state_b.hit(KEY, WINDOW, time.time())
            await asyncio.sleep(0.01)
        await eventually(lambda: not link_a.available and not state_a.sharing, what="A notices the outage")
        now = time.time()
        assert state_a.hit(KEY, WINDOW, now) == RateState.estimate(state_a, KEY, WINDOW, now)  # local only

        redis_server.start()  # empty: a restart without persistence loses the counts
        await eventually(lambda: state_a.sharing and state_b.sharing, timeout=8, what="both resume sharing")
        flushes = sync_a.flushes
        for _ in range(30):
            state_b.hit(KEY, WINDOW, time.time())

        def remote_seen_by_a() -> float:
            now = time.time()
            return state_a.hit(KEY, WINDOW, now) - RateState.estimate(state_a, KEY, WINDOW, now)

        await eventually(lambda: remote_seen_by_a() >= 30, what="B's post-restart traffic reaches A")
        assert sync_a.flushes > flushes
        await close(a, b)

    run(scenario())
