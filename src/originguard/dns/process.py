"""`originguard dns -c FILE`: run the router until SIGTERM or SIGINT; SIGHUP reloads it in place."""

from __future__ import annotations

import logging

import uvloop

from originguard.config.loader import LoadedConfig
from originguard.dns.server import start_dns_server
from originguard.notify import notify_ready
from originguard.runtime import reload_from, run_until_signalled

log = logging.getLogger("originguard.dns")


def run_dns(loaded: LoadedConfig) -> None:
    """Serve the `dns:` section of `loaded` on uvloop until a termination signal."""
    uvloop.run(_serve(loaded))


async def _serve(loaded: LoadedConfig) -> None:
    handle = await start_dns_server(loaded)
    admin = f", admin on {handle.host}:{handle.admin_port}" if handle.admin_port is not None else ""
    log.info("dns router serving on %s:%d%s", handle.host, handle.port, admin)
    notify_ready()
    try:
        # A reload validates the file first: a bad one is refused and the running zone keeps serving.
        await run_until_signalled(lambda: reload_from(loaded.source, handle.reload))
    finally:
        log.info("dns router stopping")
        await handle.aclose()
