"""Two DNS routers share RTT figures and edge health through a real redis-server and agree."""

from __future__ import annotations

import pytest

from originguard.cluster import RedisLink
from originguard.dns.shared import SharedHealth, SharedRtt, SharedRttStore
from originguard.latency.subnets import parse_subnet
from tests.integration.cluster.conftest import run
from tests.redis_server import RedisServer

SUBNET = parse_subnet("203.0.113.0/24")


def test_two_routers_merge_rtt_figures_to_the_same_answer(redis_server: RedisServer) -> None:
    async def scenario() -> None:
        link = RedisLink(redis_server.url)
        await link.start()
        stores = {name: SharedRttStore(name, min_samples=10) for name in ("dns-1", "dns-2")}
        syncs = [SharedRtt(link, name, store, store_clock=lambda: 100.0) for name, store in stores.items()]
        for n in range(6):  # each router alone has too few samples to trust
            stores["dns-1"].add(SUBNET, "edge-sg", 10.0, 100.0 + n)
            stores["dns-2"].add(SUBNET, "edge-sg", 20.0, 100.0 + n)
        assert stores["dns-1"].estimate(SUBNET, "edge-sg", 100.0) is None
        for sync in (*syncs, *syncs):  # publish both, then pull both
            assert await sync.sync_once()
        answers = [store.estimate(SUBNET, "edge-sg", 106.0) for store in stores.values()]
        assert answers[0] == answers[1] == (pytest.approx(15.0), 12)

        redis_server.stop()
        assert not await syncs[0].sync_once()  # Redis down: back to this router's own figure
        assert stores["dns-1"].estimate(SUBNET, "edge-sg", 106.0) is None
        await link.aclose()

    run(scenario())


def test_two_routers_vote_on_edge_health(redis_server: RedisServer) -> None:
    async def scenario() -> None:
        link = RedisLink(redis_server.url)
        await link.start()
        routers = {name: SharedHealth(link, name, ["edge-sg"]) for name in ("dns-1", "dns-2", "dns-3")}
        routers["dns-1"].observe("edge-sg", False)
        routers["dns-2"].observe("edge-sg", True)
        for router in (*routers.values(), *routers.values()):
            assert await router.sync_once()
        # One of two disagreeing routers cannot take the edge out (a tie serves) ...
        assert routers["dns-1"].serving == routers["dns-2"].serving == {"edge-sg": True}
        routers["dns-3"].observe("edge-sg", False)
        for router in (*routers.values(), *routers.values()):
            assert await router.sync_once()
        # ... a majority that sees it down does, on every router alike.
        assert all(router.serving == {"edge-sg": False} for router in routers.values())
        await link.aclose()

    run(scenario())
