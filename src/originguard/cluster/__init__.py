"""State shared by several edges, gates and DNS routers through Redis; each keeps working without it.

RedisLink          one client + `available` flag, reconnect with backoff, quiet logging
SharedRateState    WAF rate counters that add other edges' counts (synchronous, no I/O)
RateSync           flushes rate increments in one pipelined round trip per ~50 ms batch
InvalidationBus    cache invalidations over the Redis Stream `og:invalidations`

What DNS routers share over the link (RTT figures, edge health) lives with the router, in
dns.shared: the DNS router uses the cluster, never the other way round. The secret rotation
phase (never a secret value) on `og:rotation` is rotation.channel: rotation lives in one package.
"""

from __future__ import annotations

from originguard.cluster.invalidation import InvalidationBus, Published
from originguard.cluster.link import RedisLink
from originguard.cluster.rate import RateSync, SharedRateState

__all__ = [
    "InvalidationBus",
    "Published",
    "RateSync",
    "RedisLink",
    "SharedRateState",
]
