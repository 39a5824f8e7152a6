"""DNS routers sharing measured RTTs and edge health through Redis (asyncio shell over `shared_core`).

`SharedRttStore` is a drop-in `RttStore`: the router's engine keeps calling `estimate`, which merges
this router's own window with the figures other routers last published. `SharedHealth` gives the
engine a `serving` mapping merged from every router's checker. While Redis is down both fall back to
this router's own view. Figures carry wall-clock times, since routers compare them across hosts.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Iterable
from typing import Final

from redis.asyncio import Redis

from originguard.cluster.link import RedisLink
from originguard.dns.rtt import RttStore
from originguard.dns.shared_core import (
    HEALTH_PREFIX,
    RTT_INDEX,
    RTT_PREFIX,
    HealthReport,
    RttFigure,
    decode_health,
    decode_rtt,
    encode_health,
    encode_rtt,
    merge_health,
    merge_rtt,
    rtt_field,
)
from originguard.latency.subnets import SubnetKey, parse_subnet, subnet_text
from originguard.runtime import stop_task

log = logging.getLogger("originguard.cluster")  # the cluster link's logger, as before the move

SKEW_S: Final = 5.0  # clock skew tolerated between routers when pulling recently changed subnets


class SharedRttStore(RttStore):
    """An `RttStore` whose estimates include other routers' figures; `min_samples` applies to the total."""

    def __init__(
        self,
        router_name: str,
        *,
        min_samples: int = 10,
        max_age: float = 600.0,
        window: int = 64,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # The own window answers from one sample: the threshold is applied to the merged count.
        super().__init__(min_samples=1, max_age=max_age, window=window, max_keys=max_keys)
        self.router_name = router_name
        self.merged_min_samples = min_samples
        self.remote: dict[SubnetKey, dict[str, tuple[RttFigure, ...]]] = {}
        self.dirty: set[tuple[SubnetKey, str]] = set()
        self._clock = clock

    def add(self, subnet: SubnetKey, edge: str, rtt_ms: float, now: float) -> None:
        """Record a sample and mark (subnet, edge) for the next publish."""
        super().add(subnet, edge, rtt_ms, now)
        self.dirty.add((subnet, edge))

    def estimate(self, subnet: SubnetKey, edge: str, now: float) -> tuple[float, int] | None:
        """The merged (ms, samples) of every router's fresh figure, or None below `min_samples`."""
        local = super().estimate(subnet, edge, now)
        others = self.remote.get(subnet, {}).get(edge, ())
        if not others:
            return local if local is not None and local[1] >= self.merged_min_samples else None
        wall = self._clock()
        mine = () if local is None else (RttFigure(self.router_name, local[1], local[0], wall),)
        return merge_rtt((*mine, *others), wall, self.max_age, self.merged_min_samples)


class SharedRtt:
    """Publishes this router's changed figures and pulls subnets other routers changed, every `interval`."""

    def __init__(
        self,
        link: RedisLink,
        router_name: str,
        store: SharedRttStore,
        *,
        interval: float = 2.0,
        store_clock: Callable[[], float] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.link = link
        self.router_name = router_name
        self.store = store
        self.interval = interval
        self._store_clock = store_clock  # the clock the router feeds `store.add` with (loop time)
        self._clock = clock
        self._pulled_at: float | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the sync loop."""
        self._task = asyncio.get_running_loop().create_task(
            _every(self.interval, self.sync_once), name="rtt-share"
        )

    async def aclose(self) -> None:
        """Stop the sync loop."""
        await _cancel(self._task)

    async def sync_once(self) -> bool:
        """One publish + pull; False when Redis is unreachable (local figures keep answering)."""
        wall = self._clock()
        store_now = self._store_clock() if self._store_clock else asyncio.get_running_loop().time()
        dirty, self.store.dirty = self.store.dirty, set()
        writes = []
        for subnet, edge in dirty:
            local = RttStore.estimate(self.store, subnet, edge, store_now)
            if local is not None:
                writes.append(
                    (
                        subnet_text(subnet),
                        rtt_field(edge, self.router_name),
                        encode_rtt(local[1], local[0], wall),
                    )
                )
        since = wall - self.store.max_age if self._pulled_at is None else self._pulled_at - SKEW_S
        ttl = max(1, math.ceil(self.store.max_age))
        changed = await self.link.execute(lambda client: _publish_rtt(client, writes, ttl, wall, since))
        if changed is None:
            self.store.dirty |= dirty  # publish them once Redis is back
            self.store.remote.clear()
            return False
        hashes = await self.link.execute(lambda client: _read_hashes(client, RTT_PREFIX, changed))
        if hashes is None:
            return False
        for subnet_name, fields in zip(changed, hashes, strict=True):
            self._absorb(subnet_name, fields)
        self._pulled_at = wall
        return True

    def _absorb(self, subnet_name: str, fields: dict[bytes, bytes]) -> None:
        try:
            subnet = parse_subnet(subnet_name)
        except ValueError:
            return
        by_edge: dict[str, list[RttFigure]] = {}
        for field, value in fields.items():
            decoded = decode_rtt(field.decode(), value)
            if decoded is not None and decoded[1].router != self.router_name:
                by_edge.setdefault(decoded[0], []).append(decoded[1])
        if by_edge:
            self.store.remote[subnet] = {edge: tuple(figures) for edge, figures in by_edge.items()}
        else:
            self.store.remote.pop(subnet, None)


class SharedHealth:
    """Edge health merged over every router's checker; `serving` is what the engine should read."""

    def __init__(
        self,
        link: RedisLink,
        router_name: str,
        edges: Iterable[str] = (),
        *,
        interval: float = 1.0,
        max_age: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.link = link
        self.router_name = router_name
        self.edges = set(edges)
        self.interval = interval
        self.max_age = max_age
        self.local: dict[str, bool] = {}
        self.remote: dict[str, tuple[HealthReport, ...]] = {}
        self.serving: dict[str, bool] = {}
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    def observe(self, edge: str, serving: bool) -> None:
        """This router's checker changed its verdict (wire as `HealthMonitor(on_change=...)`)."""
        self.local[edge] = serving
        self.edges.add(edge)
        self._recompute()

    def retain(self, keys: Iterable[str]) -> None:
        """Keep sharing only `keys` (after a reload: targets no longer checked leave the merge)."""
        self.edges = set(keys)
        self.local = {key: ok for key, ok in self.local.items() if key in self.edges}
        self.remote = {key: reports for key, reports in self.remote.items() if key in self.edges}
        self._recompute()

    def start(self) -> None:
        """Start the sync loop."""
        self._task = asyncio.get_running_loop().create_task(
            _every(self.interval, self.sync_once), name="health-share"
        )

    async def aclose(self) -> None:
        """Stop the sync loop."""
        await _cancel(self._task)

    async def sync_once(self) -> bool:
        """Write this router's verdicts (with a fresh time) and read everyone's; False if Redis is down."""
        wall = self._clock()
        edges = sorted(self.edges)
        writes = [(edge, encode_health(healthy, wall)) for edge, healthy in self.local.items()]
        ttl = max(1, math.ceil(2 * self.max_age))

        async def exchange(client: Redis) -> list[dict[bytes, bytes]]:
            async with client.pipeline(transaction=False) as pipe:
                for edge, value in writes:
                    pipe.hset(HEALTH_PREFIX + edge, self.router_name, value)
                    pipe.expire(HEALTH_PREFIX + edge, ttl)
                for edge in edges:
                    pipe.hgetall(HEALTH_PREFIX + edge)
                replies = await pipe.execute()
            return list(replies[2 * len(writes) :])

        hashes = await self.link.execute(exchange)
        if hashes is None:
            self.remote.clear()
            self._recompute()
            return False
        for edge, fields in zip(edges, hashes, strict=True):
            reports = (decode_health(field.decode(), value) for field, value in fields.items())
            self.remote[edge] = tuple(r for r in reports if r is not None and r.router != self.router_name)
        self._recompute()
        return True

    def _recompute(self) -> None:
        wall = self._clock()
        serving: dict[str, bool] = {}
        for edge in self.edges:
            own = self.local.get(edge)
            mine = () if own is None else (HealthReport(self.router_name, own, wall),)
            merged = merge_health((*mine, *self.remote.get(edge, ())), wall, self.max_age)
            if merged is not None:
                serving[edge] = merged
        self.serving = serving


async def _publish_rtt(
    client: Redis, writes: list[tuple[str, str, bytes]], ttl: int, wall: float, since: float
) -> list[str]:
    async with client.pipeline(transaction=False) as pipe:
        for subnet_name, field, value in writes:
            pipe.hset(RTT_PREFIX + subnet_name, field, value)
            pipe.expire(RTT_PREFIX + subnet_name, ttl)
            pipe.zadd(RTT_INDEX, {subnet_name: wall})
        pipe.zremrangebyscore(RTT_INDEX, "-inf", wall - ttl)
        pipe.zrangebyscore(RTT_INDEX, since, "+inf")
        replies = await pipe.execute()
    return [name.decode() if isinstance(name, bytes) else str(name) for name in replies[-1]]


async def _read_hashes(client: Redis, prefix: str, names: list[str]) -> list[dict[bytes, bytes]]:
    if not names:
        return []
    async with client.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.hgetall(prefix + name)
        return list(await pipe.execute())


async def _every(interval: float, action: Callable[[], object]) -> None:
    while True:
        try:
            result = action()
            if asyncio.iscoroutine(result):
                await result
        except Exception:  # a bug in one round must not end sharing for the life of the router
            log.exception("cluster sync round failed")
        await asyncio.sleep(interval)


async def _cancel(task: asyncio.Task[None] | None) -> None:
    await stop_task(task)
