"""Rate-based WAF rules shared by every edge: a synchronous `RateState` plus a background Redis sync.

The WAF stays synchronous and runs inside HTTP parser callbacks; `SharedRateState.hit` only touches
dicts (no I/O) and `RateSync` pays one round trip (one script call) per batch, never one per request. The
bound on how far the limit can be exceeded across edges is in `rate_core`'s docstring.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Final

from redis.asyncio import Redis

from originguard.cluster.link import RedisLink
from originguard.cluster.rate_core import (
    Batch,
    BucketCommand,
    RemoteCount,
    absorb,
    build_commands,
    merged_estimate,
    parse_total,
)
from originguard.runtime import stop_task
from originguard.waf.rate import RateKey, RateState

log = logging.getLogger("originguard.cluster")

FLUSH_INTERVAL: Final = 0.05
BATCH_KEYS: Final = 1000


class SharedRateState(RateState):
    """`RateState` whose estimates add other edges' counts; records increments for `RateSync`."""

    __slots__ = ("_batch", "_remote", "_spill", "batch_keys", "on_full", "sharing")

    def __init__(self, max_keys: int = 200_000, batch_keys: int = BATCH_KEYS) -> None:
        super().__init__(max_keys)
        self.batch_keys = batch_keys
        self.sharing = False  # set by RateSync: False while Redis is unreachable (local counts only)
        self._batch: dict[RateKey, list[float]] = {}  # key -> [window, bucket index, count]
        self._spill: Batch = {}
        self._remote: dict[RateKey, RemoteCount] = {}
        self.on_full: Callable[[], None] | None = None  # RateSync wakes early on a large batch

    def hit(self, key: RateKey, window: float, now: float) -> float:
        """Count one request; return this edge's estimate plus the last known count of other edges."""
        local = RateState.hit(self, key, window, now)
        if not self.sharing:
            return local
        # Hot path (parser callbacks): one lookup per dict keyed by the RateKey the WAF already built,
        # and rate_core.remote_estimate inlined; a unit test checks both give the same figure.
        index = int(now // window)
        pending = self._batch.get(key)
        if pending is None:
            self._batch[key] = [window, index, 1]
            if len(self._batch) >= self.batch_keys and self.on_full is not None:
                self.on_full()
        elif pending[1] == index:
            pending[2] += 1
        else:  # a bucket boundary fell inside this batch: keep the older bucket's count apart
            self._spill[(key, pending[0], int(pending[1]))] = int(pending[2])
            pending[0], pending[1], pending[2] = window, index, 1
        entry = self._remote.get(key)
        if entry is None:
            return local
        if entry.index == index:
            return local + entry.others_prev * (1.0 - (now % window) / window) + entry.others_cur
        if entry.index == index - 1:
            return local + entry.others_cur * (1.0 - (now % window) / window)
        return local

    def estimate(self, key: RateKey, window: float, now: float) -> float:
        """The merged estimate without counting a request."""
        local = RateState.estimate(self, key, window, now)
        if not self.sharing:
            return local
        return merged_estimate(local, self._remote.get(key), window, now)

    def take_batch(self) -> Batch:
        """The increments since the last call (the caller sends them)."""
        batch, self._spill = self._spill, {}
        for key, (window, index, count) in self._batch.items():
            batch[(key, window, int(index))] = int(count)
        self._batch = {}
        return batch

    def forget_remote(self) -> None:
        """Drop what is known of other edges and of this edge's sent counts (Redis lost its data)."""
        self._remote.clear()

    def absorb(self, commands: list[BucketCommand], totals: list[tuple[int, int]]) -> None:
        """Store the totals Redis returned for a flushed batch."""
        absorb(self._remote, commands, totals)
        if len(self._remote) > self.max_keys:
            # Same bound as the local table; the oldest-inserted tenth goes (refreshed on next flush).
            for key in list(self._remote)[: max(1, self.max_keys // 10)]:
                del self._remote[key]


class RateSync:
    """Flushes a `SharedRateState` to Redis every `interval` or when its batch passes `batch_keys`."""

    def __init__(self, link: RedisLink, state: SharedRateState, *, interval: float = FLUSH_INTERVAL) -> None:
        self.link = link
        self.state = state
        self.interval = interval
        self.flushes = 0
        self.last_flush_keys = 0
        self._epoch = link.epoch
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the flush loop (on the running event loop)."""
        self.state.on_full = self._wake.set
        self.state.sharing = self.link.available
        self._task = asyncio.get_running_loop().create_task(self._run(), name="rate-sync")

    async def aclose(self) -> None:
        """Stop the loop; unsent increments are dropped (other edges forget them within a window)."""
        self.state.on_full = None
        self.state.sharing = False
        await stop_task(self._task)

    async def flush(self) -> bool:
        """Send the pending batch in one round trip and absorb the totals; False when Redis is down."""
        batch = self.state.take_batch()
        if not self.link.available:
            self.state.sharing = False
            return False
        if self.link.epoch != self._epoch:
            self.state.forget_remote()  # a restarted Redis has none of our earlier increments
            self._epoch = self.link.epoch
        self.state.sharing = True
        if not batch:
            return True
        commands = build_commands(batch)
        totals = await self.link.execute(lambda client: _send(client, commands))
        if totals is None:
            self.state.sharing = False  # these increments stay local; the link is reconnecting
            return False
        self.state.absorb(commands, totals)
        self.flushes += 1
        self.last_flush_keys = len(commands)
        return True

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            try:
                await self.flush()
            except Exception:  # a bug here must not stop sharing for the life of the edge
                log.exception("rate sync flush failed")


# One server-side script instead of 3 pipelined commands per key: the same single round trip, but
# redis-py builds and parses one command, which measured ~10x less CPU on the edge's event loop per key
# (bench/redis_rate_bench.py). KEYS = current, previous per rate key; ARGV = count, ttl per rate key.
FLUSH_SCRIPT: Final = """
local out = {}
for i = 1, #KEYS, 2 do
  out[i] = redis.call('INCRBY', KEYS[i], ARGV[i])
  redis.call('EXPIRE', KEYS[i], ARGV[i + 1])
  out[i + 1] = tonumber(redis.call('GET', KEYS[i + 1]) or '0')
end
return out
"""


async def _send(client: Redis, commands: list[BucketCommand]) -> list[tuple[int, int]]:
    keys: list[str] = []
    args: list[int] = []
    for command in commands:
        keys += (command.key, command.previous)
        args += (command.increment, command.ttl)
    # EVALSHA, loading the script on NOSCRIPT (a restarted Redis has forgotten it).
    replies = await client.register_script(FLUSH_SCRIPT)(keys=keys, args=args)
    return [(parse_total(replies[i]), parse_total(replies[i + 1])) for i in range(0, len(replies), 2)]
