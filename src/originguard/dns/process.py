"""`originguard dns -c FILE`: run the router until SIGTERM or SIGINT, then stop gracefully."""

from __future__ import annotations

import asyncio
import logging
import signal

import uvloop

from originguard.config.loader import LoadedConfig
from originguard.dns.server import start_dns_server

log = logging.getLogger("originguard.dns")


def run_dns(loaded: LoadedConfig) -> None:
    """Serve the `dns:` section of `loaded` on uvloop until a termination signal."""
    uvloop.run(_serve(loaded))


async def _serve(loaded: LoadedConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    handle = await start_dns_server(loaded)
    admin = f", admin on {handle.host}:{handle.admin_port}" if handle.admin_port is not None else ""
    log.info("dns router serving on %s:%d%s", handle.host, handle.port, admin)
    try:
        await stop.wait()
    finally:
        log.info("dns router stopping")
        await handle.aclose()
