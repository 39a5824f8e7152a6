"""Invalidations published on one edge reach every edge through a real Redis Stream, outages included."""

from __future__ import annotations

import asyncio

from originguard.cluster import InvalidationBus, RedisLink
from tests.integration.cluster.conftest import eventually, run
from tests.redis_server import RedisServer


class Cache:
    """Records which paths an edge was told to invalidate (the edge wires its cache here)."""

    def __init__(self) -> None:
        self.invalidated: list[list[str]] = []

    def apply(self, paths: list[str]) -> int:
        self.invalidated.append(paths)
        return len(paths)

    def saw(self, paths: list[str]) -> bool:
        return paths in self.invalidated


async def bus(url: str, name: str) -> tuple[RedisLink, InvalidationBus, Cache]:
    link = RedisLink(url)
    await link.start()
    cache = Cache()
    subscriber = InvalidationBus(link, name, cache.apply)
    subscriber.start()
    # The subscriber pins "$" on its first read; wait for that so the test's publications are "new".
    await eventually(lambda: subscriber.last_id != "$", what=f"{name} subscribed")
    return link, subscriber, cache


def test_invalidation_published_on_one_edge_is_applied_by_both(redis_server: RedisServer) -> None:
    async def scenario() -> None:
        (link_a, bus_a, cache_a), (link_b, bus_b, cache_b) = [
            await bus(redis_server.url, name) for name in ("edge-sg", "edge-eu")
        ]
        published = await bus_a.publish(["/images/*", "/index.html"])
        assert published.entry_id is not None and published.applied == 2
        assert cache_a.saw(["/images/*", "/index.html"])  # applied locally before any round trip
        await eventually(lambda: cache_b.saw(["/images/*", "/index.html"]), what="edge-eu applies")
        await eventually(lambda: bus_a.entries_applied == 1, what="edge-sg reads its own entry")
        for b, link in ((bus_a, link_a), (bus_b, link_b)):
            await b.aclose()
            await link.aclose()

    run(scenario())


def test_fresh_bus_starts_at_stream_end(redis_server: RedisServer) -> None:
    async def scenario() -> None:
        link_a, bus_a, _ = await bus(redis_server.url, "edge-sg")
        await bus_a.publish(["/old"])
        link_b, bus_b, cache_b = await bus(redis_server.url, "edge-eu")
        await bus_a.publish(["/new"])
        await eventually(lambda: cache_b.saw(["/new"]), what="edge-eu applies the new entry")
        assert not cache_b.saw(["/old"])  # a fresh edge has an empty cache: history concerns nothing
        for b, link in ((bus_a, link_a), (bus_b, link_b)):
            await b.aclose()
            await link.aclose()

    run(scenario())


def test_bus_that_lost_redis_applies_missed_entries_after_reconnect(redis_server: RedisServer) -> None:
    async def scenario() -> None:
        (link_a, bus_a, cache_a), (link_b, bus_b, cache_b) = [
            await bus(redis_server.url, name) for name in ("edge-sg", "edge-eu")
        ]
        await bus_b.publish(["/before"])
        await eventually(lambda: cache_a.saw(["/before"]), what="edge-sg applies /before")

        redis_server.stop()
        await eventually(lambda: not link_a.available and not link_b.available, what="both notice")
        down = await bus_b.publish(["/during"])  # cannot reach the others, still applied locally
        assert down.entry_id is None and cache_b.saw(["/during"])
        await asyncio.sleep(0.8)  # an outage of a while: edge-sg's backoff grows past this point
        redis_server.start()

        await link_b.wait_available()
        # edge-sg is usually still in backoff here: it reads the entry only on reconnect, from its last ID.
        await bus_b.publish(["/after-restart"])
        await eventually(lambda: cache_a.saw(["/after-restart"]), timeout=8, what="edge-sg catches up")
        for b, link in ((bus_a, link_a), (bus_b, link_b)):
            await b.aclose()
            await link.aclose()

    run(scenario())


def test_stopped_subscriber_resumes_from_last_seen_id(redis_server: RedisServer) -> None:
    async def scenario() -> None:
        link_a, bus_a, cache_a = await bus(redis_server.url, "edge-sg")
        link_b, bus_b, _ = await bus(redis_server.url, "edge-eu")
        await bus_a.aclose()  # edge-sg's worker is away (restarting its subscriber)
        for n in range(3):
            await bus_b.publish([f"/missed-{n}"])
        bus_a.start()
        await eventually(lambda: all(cache_a.saw([f"/missed-{n}"]) for n in range(3)), what="catch-up")
        assert [p for p in cache_a.invalidated if p[0].startswith("/missed")] == [
            ["/missed-0"],
            ["/missed-1"],
            ["/missed-2"],
        ]  # in publication order
        for b, link in ((bus_a, link_a), (bus_b, link_b)):
            await b.aclose()
            await link.aclose()

    run(scenario())
