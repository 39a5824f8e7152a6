"""Process plumbing shared by every component: event loop choice, signals, logging."""

from __future__ import annotations

import asyncio
import errno
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, Final

from originguard.errors import ConfigError

if TYPE_CHECKING:
    from originguard.config import LoadedConfig
    from originguard.config.values import HostPort

log = logging.getLogger("originguard")

RECANCEL_EVERY: Final = 0.05


def install_uvloop() -> None:
    """Use uvloop when present (the measured engine); plain asyncio otherwise."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


async def stop_task(task: asyncio.Task[Any] | None) -> None:
    """Cancel `task` and wait until it has ended, cancelling again while it keeps running.

    A cancel can be lost: Python 3.11's `asyncio.wait_for` drops one that lands as its inner call
    finishes (gh-86296), and redis-py's pub/sub `get_message(timeout=...)` loses some too (measured
    here: 5 of 60 cancels sent 1 ms into the read loop; redis/redis-py#2551 is the same class). A
    loop around such a call then runs on: that hung an edge whose start failed with Redis
    configured, and a DNS router stopped right after a reload.
    """
    if task is None:
        return
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=RECANCEL_EVERY)
    if not task.cancelled() and task.exception() is not None:
        log.debug("%s ended with %r", task.get_name(), task.exception())


def setup_logging(level: int = logging.INFO) -> None:
    """Diagnostics to stderr, one line each (access logs are separate JSON lines).

    Our own loggers show INFO (start-up, reload, invalidation lines an operator must see); libraries
    stay at WARNING, so their chatter does not drown those lines.
    """
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    logging.getLogger("originguard").setLevel(level)


async def run_until_signalled(
    on_reload: Callable[[], Coroutine[Any, Any, None]] | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Wait for SIGTERM or SIGINT; run `on_reload` on each SIGHUP meanwhile.

    `on_ready` runs once the handlers are in place, so a "listening" line it logs also means a SIGHUP
    sent from then on reloads (before, the default action would end the process).
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    if on_reload is not None:
        reload = on_reload
        loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(reload()))
    else:  # nothing to reload; SIGHUP's default action would end the process
        loop.add_signal_handler(signal.SIGHUP, lambda: log.info("SIGHUP: nothing to reload"))
    if on_ready is not None:
        on_ready()
    await stop.wait()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.remove_signal_handler(sig)


async def reload_from(source: str, apply: Callable[[LoadedConfig], Awaitable[None]]) -> None:
    """Re-read a config file and apply it; a bad file is logged and the running config keeps serving."""
    from originguard.config import load_config
    from originguard.errors import OriginguardError

    try:
        await apply(load_config(source))
    except OriginguardError as exc:
        log.error("reload refused, the running config keeps serving: %s", exc)


def cannot_listen(
    source: str, key_path: str, component: str, address: HostPort, error: OSError, transport: str = ""
) -> ConfigError:
    """The one-line error of a listener that cannot bind: which component, which address, and why."""
    reasons = {
        errno.EADDRINUSE: "address already in use (another process holds the port)",
        errno.EACCES: "permission denied (ports below 1024 need privileges)",
        errno.EADDRNOTAVAIL: "address not available on this host",
    }
    reason = reasons.get(error.errno or 0) or (error.strerror or str(error)).lower()
    where = f"{address} ({transport})" if transport else str(address)
    return ConfigError(source, key_path, f"{component} cannot listen on {where}: {reason}")
