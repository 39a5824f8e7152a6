"""Process plumbing shared by every component: event loop choice, signals, logging."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from originguard.config import LoadedConfig

log = logging.getLogger("originguard")


def install_uvloop() -> None:
    """Use uvloop when present (the measured engine); plain asyncio otherwise."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


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
