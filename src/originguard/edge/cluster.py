"""An edge's Redis-shared state: WAF rate counters, cache invalidations, rotation phases.

Without `cluster.redis` none of this exists and the edge keeps its state in-process. With it, a
Redis outage degrades to local behaviour (local rate counts, local purges) and heals on return.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from originguard.cluster import InvalidationBus, RateSync, RedisLink, SharedRateState
from originguard.config import LoadedConfig
from originguard.rotation.channel import RotationChannel
from originguard.runtime import stop_task

log = logging.getLogger("originguard.edge.cluster")


@dataclass
class EdgeCluster:
    link: RedisLink
    rate: SharedRateState
    sync: RateSync
    member: str
    bus: InvalidationBus = field(init=False)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    async def connect(cls, loaded: LoadedConfig, member: str) -> EdgeCluster | None:
        """The shared state of a config with `cluster.redis`, else None (does not fail if Redis is down)."""
        cluster = loaded.config.cluster
        if cluster is None or cluster.redis is None:
            return None
        link = RedisLink(cluster.redis)
        await link.start()
        rate = SharedRateState()
        return cls(link, rate, RateSync(link, rate), member)

    def start(
        self, invalidate: Callable[[list[str]], int], reload: Callable[[], Coroutine[Any, Any, None]]
    ) -> None:
        """Begin syncing counters, applying invalidations and watching the rotation phase."""
        self.bus = InvalidationBus(self.link, self.member, invalidate)
        self.sync.start()
        self.bus.start()

        async def on_phase(state: str, version: int) -> None:
            log.warning(
                "rotation phase %s (version %d): reloading the config and header values", state, version
            )
            await reload()

        self.tasks.append(asyncio.get_running_loop().create_task(RotationChannel(self.link).watch(on_phase)))

    async def aclose(self) -> None:
        for task in self.tasks:
            await stop_task(task)
        await self.bus.aclose()
        await self.sync.aclose()
        await self.link.aclose()
