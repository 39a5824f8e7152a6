"""`RttReporter`: an edge batches the TCP RTTs it sees per client subnet and posts them to the router."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from urllib.parse import urlsplit

import orjson

from originguard.errors import UpstreamError
from originguard.http import oneshot
from originguard.latency.subnets import subnet_key, subnet_text

log = logging.getLogger("originguard.dns.reporter")  # the name operators filter on, kept


class RttReporter:
    """Collect `record(peer_ip, rtt_ms)` calls; `flush()` posts them to the router's `POST /rtt`."""

    def __init__(self, router_url: str, edge: str, *, interval: float = 5.0, max_pending: int = 10_000,
                 timeout: float = 5.0) -> None:  # fmt: skip
        url = urlsplit(router_url)
        if url.scheme != "http" or url.hostname is None:
            raise ValueError(f"router URL {router_url!r} must be http://HOST:PORT[/rtt]")
        self.host = url.hostname
        self.port = url.port or 80
        self.path = url.path if url.path not in ("", "/") else "/rtt"
        self.edge = edge
        self.interval = interval
        self.max_pending = max_pending
        self.timeout = timeout
        self.pending: list[dict[str, object]] = []
        self.dropped = 0
        self.sent = 0
        self._task: asyncio.Task[None] | None = None

    def record(self, peer_ip: str, rtt_ms: float) -> None:
        """Note one RTT seen for a client; cheap, never blocks; over `max_pending` samples are dropped."""
        if len(self.pending) >= self.max_pending or rtt_ms <= 0:
            self.dropped += 1
            return
        try:
            address = ipaddress.ip_address(peer_ip)
        except ValueError:
            self.dropped += 1
            return
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # a dual-stack socket shows IPv4 clients as ::ffff:a.b.c.d
        self.pending.append({"subnet": subnet_text(subnet_key(address)), "rtt_ms": round(rtt_ms, 3)})

    def start(self) -> None:
        """Flush every `interval` seconds in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="dns-rtt-reporter")

    async def aclose(self) -> None:
        """Stop the background task and send what is left."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.flush()

    async def flush(self) -> bool:
        """Post the pending samples; on failure they are dropped (old RTTs are worth little) and logged."""
        if not self.pending:
            return True
        batch, self.pending = self.pending, []
        body = orjson.dumps({"edge": self.edge, "samples": batch})
        try:
            status = await asyncio.wait_for(self._post(body), self.timeout)
        except (UpstreamError, TimeoutError) as exc:
            log.warning("rtt report to %s:%d failed: %s", self.host, self.port, exc)
            self.dropped += len(batch)
            return False
        if status != 200:
            log.warning("rtt report to %s:%d refused: HTTP %d", self.host, self.port, status)
            self.dropped += len(batch)
            return False
        self.sent += len(batch)
        return True

    async def _post(self, body: bytes) -> int:
        answer = await oneshot.request(
            self.host,
            self.port,
            b"POST",
            self.path.encode(),
            headers=[(b"Content-Type", b"application/json")],
            body=body,
            timeout=self.timeout,
        )
        return answer.status

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.flush()
