"""The secret rotation phase shared by every edge and gate: key `og:rotation` plus channel `og:rotation`.

Only the phase name and a version travel through Redis, never a secret value: Redis is commonly
reachable without TLS by many hosts, it answers KEYS/MONITOR to anyone connected and may be dumped to
disk, and the origin header is the one thing that separates viewers from the origin. A change message
only tells a component to re-read its own secret file (0600, written by `originguard secret`).

The key makes the phase durable: a watcher reads it when it starts and after every reconnect, so one
that missed a PUBLISH (it was down, or Redis was) still converges to the current phase.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

import orjson
from redis.asyncio import Redis

from originguard.cluster.link import LINK_ERRORS, RedisLink

log = logging.getLogger("originguard.cluster")

KEY: Final = "og:rotation"
CHANNEL: Final = "og:rotation"
POLL_S: Final = 1.0


@dataclass(frozen=True, slots=True)
class RotationPhase:
    """A published phase: the `rotation.RotationState` value and a version that grows on each change."""

    state: str
    version: int

    def encode(self) -> bytes:
        """The JSON carried by the key and the channel."""
        return orjson.dumps({"state": self.state, "version": self.version})

    @classmethod
    def decode(cls, raw: bytes | str | None) -> RotationPhase | None:
        """Parse a key value or message; None when absent or malformed."""
        if raw is None:
            return None
        try:
            data = orjson.loads(raw)
            state, version = data["state"], data["version"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return None
        if not isinstance(state, str) or not isinstance(version, int) or isinstance(version, bool):
            return None
        return cls(state, version)


class RotationChannel:
    """Publishes the rotation phase and lets components watch it."""

    def __init__(self, link: RedisLink) -> None:
        self.link = link

    async def publish(self, state: str, version: int) -> bool:
        """Store and announce the phase; False when Redis is unreachable (watchers converge later)."""
        payload = RotationPhase(state, version).encode()

        async def store_and_announce(client: Redis) -> bool:
            async with client.pipeline(transaction=True) as pipe:
                pipe.set(KEY, payload)
                pipe.publish(CHANNEL, payload)
                await pipe.execute()
            return True

        return await self.link.execute(store_and_announce) is not None

    async def current(self) -> RotationPhase | None:
        """The stored phase, if Redis answers and one was published."""
        return RotationPhase.decode(await self.link.execute(lambda client: client.get(KEY)))

    async def watch(self, on_change: Callable[[str, int], Awaitable[None]]) -> None:
        """Call `on_change(state, version)` for every new phase, until cancelled (survives outages)."""
        last: RotationPhase | None = None

        async def deliver(raw: bytes | str | None) -> None:
            nonlocal last
            phase = RotationPhase.decode(raw)
            if phase is not None and phase != last:
                await on_change(phase.state, phase.version)
                last = phase  # only once handled: a failed callback is retried from the key

        while True:
            await self.link.wait_available()
            try:
                async with self.link.client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    # Read the key after subscribing: a change made in between arrives as a message.
                    await deliver(await self.link.client.get(KEY))
                    while True:
                        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=POLL_S)
                        if message is not None:
                            await deliver(message["data"])
            except LINK_ERRORS as error:
                self.link.mark_down(error)
            except Exception:  # on_change failed: re-subscribe and retry it from the key
                log.exception("rotation watcher callback failed")
                await asyncio.sleep(POLL_S)
