"""Cache invalidations shared by every edge and worker through the Redis Stream `og:invalidations`.

A stream, not pub/sub: entries stay (trimmed to about 10 000), so a subscriber that lost Redis for a
while resumes from the last ID it applied and applies what it missed. A fresh subscriber starts at
the stream's end ("$"): a freshly started edge has an empty cache, so older entries concern nothing.
Applying is idempotent (a path is invalidated twice at worst), which lets the publisher apply at once
locally and again when its own entry comes back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import orjson
from redis.asyncio import Redis

from originguard.cluster.link import RedisLink
from originguard.runtime import stop_task

log = logging.getLogger("originguard.cluster")

STREAM: Final = "og:invalidations"
MAXLEN: Final = 10_000
BLOCK_MS: Final = 1000  # below the link's socket timeout, so a blocked read is never taken for a failure
START_AT_END: Final = "$"


@dataclass(frozen=True, slots=True)
class Published:
    """What `publish` did: entries invalidated locally, and the stream entry ID (None: Redis down)."""

    applied: int
    entry_id: str | None


class InvalidationBus:
    """Publishes invalidation paths to the stream and applies every entry it reads with `apply`."""

    def __init__(
        self, link: RedisLink, edge_name: str, apply: Callable[[list[str]], int], *, batch: int = 100
    ) -> None:
        self.link = link
        self.edge_name = edge_name
        self.apply = apply
        self.batch = batch
        self.last_id = START_AT_END
        self.entries_applied = 0
        self._task: asyncio.Task[None] | None = None

    async def publish(self, paths: list[str]) -> Published:
        """Apply `paths` here at once, then XADD them for every edge (local apply even if Redis is down)."""
        applied = self.apply(paths)
        fields: dict[Any, Any] = {"edge": self.edge_name, "paths": orjson.dumps(paths)}
        entry_id = await self.link.execute(
            lambda client: client.xadd(STREAM, fields, maxlen=MAXLEN, approximate=True)
        )
        if entry_id is None:
            log.warning(
                "invalidation of %d path(s) applied on %s only: Redis unreachable", len(paths), self.edge_name
            )
        return Published(applied, _text(entry_id) if entry_id is not None else None)

    def start(self) -> None:
        """Start the subscriber task."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="invalidation-bus")

    async def aclose(self) -> None:
        """Stop the subscriber."""
        await stop_task(self._task)

    async def read_once(self) -> int:
        """One XREAD (blocking ≤ 1 s) from the last seen ID; entries applied (0 if Redis is down)."""
        if self.last_id == START_AT_END:
            # Pin "$" to a concrete ID once: a later XREAD with "$" would skip entries between reads.
            newest: list[Any] | None = await self.link.execute(
                lambda client: client.xrevrange(STREAM, count=1)
            )
            if newest is None:
                return 0
            self.last_id = _text(newest[0][0]) if newest else "0-0"
        last_id = self.last_id
        replies = await self.link.execute(lambda client: _read(client, last_id, self.batch))
        if not replies:
            return 0
        for entry_id, fields in replies:
            self._apply_entry(fields)
            self.last_id = _text(entry_id)
        return len(replies)

    async def _run(self) -> None:
        while True:
            await self.link.wait_available()
            try:
                await self.read_once()
            except Exception:  # a bad entry or apply bug must not stop the bus for good
                log.exception("invalidation bus read failed")
                await asyncio.sleep(1.0)

    def _apply_entry(self, fields: dict[bytes, bytes]) -> None:
        try:
            paths = orjson.loads(fields[b"paths"])
        except (KeyError, orjson.JSONDecodeError):
            log.warning("ignoring malformed invalidation entry %r", fields)
            return
        if isinstance(paths, list) and all(isinstance(p, str) for p in paths):
            self.apply(paths)
            self.entries_applied += 1


async def _read(client: Redis, last_id: str, count: int) -> list[tuple[bytes, dict[bytes, bytes]]]:
    reply: Any = await client.xread({STREAM: last_id}, count=count, block=BLOCK_MS)
    if not reply:
        return []  # the block timed out: an empty answer, not a failure
    return [entry for _, entries in reply for entry in entries]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
