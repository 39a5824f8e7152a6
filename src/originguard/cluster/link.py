"""One Redis client shared by the cluster features, with health; nothing here raises into a request path.

    available ──command fails──▶ unavailable ──INFO server answers──▶ available
                                  └─ probe retried after 0.1 s, doubling to 5 s ─┘

While unavailable every feature runs on its local state (rate counters, its own cache, its own health
view); `execute` returns None instead of raising, so callers need only one "no answer" branch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Final, TypeVar
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from originguard.runtime import stop_task

log = logging.getLogger("originguard.cluster")

T = TypeVar("T")
FIRST_DELAY: Final = 0.1
MAX_DELAY: Final = 5.0
WARN_EVERY: Final = 60.0
LINK_ERRORS: Final = (RedisError, OSError, asyncio.TimeoutError)


def next_delay(delay: float) -> float:
    """The reconnect backoff after `delay`: doubling, capped at 5 s."""
    return min(delay * 2, MAX_DELAY)


def redacted(url: str) -> str:
    """The URL without its password, for logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


class WarningThrottle:
    """Lets one warning through per `every` seconds: an outage must not flood the log at request rate."""

    __slots__ = ("_last", "every")

    def __init__(self, every: float = WARN_EVERY) -> None:
        self.every = every
        self._last: float | None = None

    def due(self, now: float) -> bool:
        """Whether to log now; records the time when it says yes."""
        if self._last is not None and now - self._last < self.every:
            return False
        self._last = now
        return True


class RedisLink:
    """A redis.asyncio client plus an `available` flag kept by a probe loop with backoff."""

    def __init__(
        self, url: str, *, timeout: float = 2.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.url = url
        # Retries are ours (the backoff loop); redis-py's own retries would stall a flush for seconds.
        self.client: Redis = Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0)
        )
        self.timeout = timeout
        self.available = False
        # Bumped when the server's run_id changes: a restart without persistence lost every count,
        # so features that track "what I already sent" must start over (see RateSync).
        self.epoch = 0
        self._run_id: str | None = None
        self._up = asyncio.Event()
        self._clock = clock
        self._throttle = WarningThrottle()
        self._probe: asyncio.Task[None] | None = None
        self._closed = False

    async def start(self) -> None:
        """Probe once; when that fails, keep probing in the background (never raises)."""
        try:
            await self._identify()
        except LINK_ERRORS as error:
            self.mark_down(error)
            return
        self._set_up()

    async def aclose(self) -> None:
        """Stop probing and close the client's connections."""
        self._closed = True
        await stop_task(self._probe)
        with contextlib.suppress(*LINK_ERRORS):
            await self.client.aclose()

    async def execute(self, command: Callable[[Redis], Awaitable[T]]) -> T | None:
        """Run `command(client)`; None when Redis is unavailable or the command fails."""
        if not self.available:
            return None
        try:
            return await command(self.client)
        except RedisConnectionError:
            pass  # likely a pooled connection the server closed while idle (restart): one fresh try
        except LINK_ERRORS as error:
            self.mark_down(error)
            return None
        try:
            return await command(self.client)
        except LINK_ERRORS as error:
            self.mark_down(error)
            return None

    async def wait_available(self) -> None:
        """Return once Redis answers (at once when it does now)."""
        await self._up.wait()

    def mark_down(self, error: BaseException) -> None:
        """Record a failure: log at most once a minute and start the reconnect loop."""
        was_available, self.available = self.available, False
        self._up.clear()
        if self._throttle.due(self._clock()):
            log.warning("Redis unreachable at %s (%s); running on local state", redacted(self.url), error)
        elif was_available:
            log.debug("Redis unreachable again: %s", error)
        if not self._closed and (self._probe is None or self._probe.done()):
            self._probe = asyncio.get_running_loop().create_task(self._reconnect(), name="redis-reconnect")

    async def _reconnect(self) -> None:
        # Pooled connections to a server that went away are dead, and with no retries their first use
        # after recovery would fail and mark the link down again: drop them all now.
        with contextlib.suppress(*LINK_ERRORS):
            await self.client.connection_pool.disconnect()
        delay = FIRST_DELAY
        while True:
            await asyncio.sleep(delay)
            try:
                await self._identify()
            except LINK_ERRORS:
                delay = next_delay(delay)
                continue
            log.info("Redis reachable again at %s; shared state resumes", redacted(self.url))
            self._set_up()
            return

    async def _identify(self) -> None:
        info = await self.client.info("server")
        run_id = str(info.get("run_id", ""))
        if run_id != self._run_id:
            self._run_id = run_id
            self.epoch += 1

    def _set_up(self) -> None:
        self.available = True
        self._up.set()
