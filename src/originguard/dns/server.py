"""The DNS router's asyncio shell: UDP and TCP listeners, health checks and the admin endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from originguard.cluster import RedisLink, SharedHealth, SharedRtt, SharedRttStore
from originguard.config.loader import LoadedConfig
from originguard.config.values import HostPort
from originguard.dns.admin import MAX_HEAD, AdminApi
from originguard.dns.checker import HealthMonitor
from originguard.dns.engine import Outcome, QueryEngine, Transport
from originguard.dns.records import compile_zone
from originguard.dns.rtt import RttStore
from originguard.dns.telemetry import DnsMetrics, QueryLog
from originguard.errors import DnsError

log = logging.getLogger("originguard.dns")

MAX_TCP_MESSAGE = 65535
LOG_FLUSH_INTERVAL = 1.0


@dataclass
class DnsServerHandle:
    """A running router: its bound ports and state, and `aclose()` to stop it gracefully."""

    host: str
    port: int
    admin_port: int | None
    engine: QueryEngine
    monitor: HealthMonitor
    metrics: DnsMetrics
    rtt: RttStore
    _closers: list[Callable[[], object]] = field(default_factory=list)
    _servers: list[asyncio.Server] = field(default_factory=list)
    _query_log: QueryLog | None = None

    async def aclose(self) -> None:
        """Stop listening, stop health checks, flush the query log."""
        for close in self._closers:
            close()
        for server in self._servers:
            server.close()
            await server.wait_closed()
        await self.monitor.aclose()
        if self._query_log is not None:
            self._query_log.close()


class Router:
    """What both listeners share: the engine, health view, metrics, query log, fail-open reporting."""

    def __init__(
        self,
        engine: QueryEngine,
        monitor: HealthMonitor,
        metrics: DnsMetrics,
        query_log: QueryLog | None,
        shared_serving: dict[str, bool] | None = None,
    ) -> None:
        self.engine = engine
        self.monitor = monitor
        # In a cluster every router reads the merged health, so all give the same answers.
        self.serving = shared_serving if shared_serving is not None else monitor.serving
        self.metrics = metrics
        self.query_log = query_log
        self.failing_open: set[str] = set()
        self.clock = asyncio.get_running_loop().time

    def answer(self, wire: bytes, source: str, transport: Transport) -> bytes | None:
        """Answer one query; an unexpected error becomes SERVFAIL, never a dead listener."""
        try:
            outcome = self.engine.answer(wire, source, transport, self.clock(), self.serving)
        except Exception:
            log.exception("dns: error answering a query from %s", source)
            return _servfail(wire)
        if outcome is None:
            self.metrics.dropped.inc()
            return None
        self.metrics.observe(outcome, transport)
        if outcome.fail_open != (outcome.record in self.failing_open):
            self._report_fail_open(outcome)
        if self.query_log is not None:
            self.query_log.write(outcome, transport, time.time())
        return outcome.wire

    def _report_fail_open(self, outcome: Outcome) -> None:
        if outcome.fail_open:
            self.failing_open.add(outcome.record)
            log.error("dns record %s: no healthy target, failing open (%s)", outcome.record, outcome.reason)
        elif outcome.record in self.failing_open and outcome.decision:
            self.failing_open.discard(outcome.record)
            log.warning("dns record %s: healthy targets again (%s)", outcome.record, outcome.reason)


class UdpProtocol(asyncio.DatagramProtocol):
    """One datagram in, at most one datagram out."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)  # uvloop's is not a subclass

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        response = self.router.answer(data, str(addr[0]), "udp")
        if response is not None and self.transport is not None:
            self.transport.sendto(response, addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("dns udp: %s", exc)  # ICMP errors from clients that left; nothing to do


class TcpProtocol(asyncio.Protocol):
    """Length-prefixed messages (RFC 7766 §8), pipelined, closed after an idle timeout (§6.2.3)."""

    def __init__(self, router: Router, idle_timeout: float) -> None:
        self.router = router
        self.idle_timeout = idle_timeout
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.idle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0]) if peer else ""
        self._arm()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= 2 and self.transport is not None:
            (length,) = struct.unpack_from("!H", self.buffer)
            if len(self.buffer) < 2 + length:
                break
            message = bytes(self.buffer[2 : 2 + length])
            del self.buffer[: 2 + length]
            response = self.router.answer(message, self.peer, "tcp")
            if response is None:
                self.transport.close()  # not a query: the stream cannot be trusted further
                return
            self.transport.write(struct.pack("!H", len(response)) + response)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.idle is not None:
            self.idle.cancel()
        self.transport = None

    def _arm(self) -> None:
        if self.idle is not None:
            self.idle.cancel()
        if self.transport is not None:
            self.idle = asyncio.get_running_loop().call_later(self.idle_timeout, self.transport.close)


async def start_dns_server(
    loaded: LoadedConfig,
    *,
    listen: HostPort | None = None,
    admin: HostPort | None = None,
    rand: Callable[[], float] | None = None,
    start_health_checks: bool = True,
) -> DnsServerHandle:
    """Compile the `dns:` section and serve it on UDP+TCP (same port; port 0 picks one) and admin."""
    config = loaded.config.dns
    if config is None:
        raise DnsError(f"{loaded.source}: no dns: section to serve")
    zone = compile_zone(config, loaded.config.edges, loaded.source, loaded.resolve_path)
    measured = config.measured
    loop = asyncio.get_running_loop()
    cluster = await _cluster(loaded, loop.time)
    rtt: RttStore
    if cluster is not None:
        rtt = SharedRttStore(
            cluster.name,
            min_samples=measured.min_samples,
            max_age=measured.max_age,
            window=measured.window,
            max_keys=measured.max_subnets,
            clock=loop.time,
        )
    else:
        rtt = RttStore(min_samples=measured.min_samples, max_age=measured.max_age, window=measured.window,
                       max_keys=measured.max_subnets)  # fmt: skip
    engine = QueryEngine(zone, rtt, rand or random.random, max_udp_payload=config.max_udp_payload)
    metrics = DnsMetrics()

    def on_health(key: str, ok: bool) -> None:
        metrics.target_healthy.labels(key).set(1 if ok else 0)
        if cluster is not None:
            cluster.health.observe(key, ok)  # every router answers from the merged view

    monitor = HealthMonitor(zone.checks, on_health)
    query_log = None
    if config.query_log is not None:
        where_log = config.query_log
        query_log = QueryLog.open(where_log if where_log == "-" else str(loaded.resolve_path(where_log)))
    router = Router(engine, monitor, metrics, query_log, cluster.health.serving if cluster else None)
    where = listen or config.listen
    udp, tcp = await _bind_pair(where, router, config.tcp_idle_timeout)
    port = tcp.sockets[0].getsockname()[1]
    handle = DnsServerHandle(where.host, port, None, engine, monitor, metrics, rtt, _query_log=query_log)
    handle._closers.append(udp.close)
    handle._servers.append(tcp)
    admin_at = admin or config.admin
    if admin_at is not None:
        api = AdminApi(rtt, metrics, [edge.name for edge in loaded.config.edges], loop.time)
        admin_server = await asyncio.start_server(api.handle, admin_at.host, admin_at.port, limit=MAX_HEAD)
        handle.admin_port = admin_server.sockets[0].getsockname()[1]
        handle._servers.append(admin_server)
    if query_log is not None:
        handle._closers.append(_Ticker(LOG_FLUSH_INTERVAL, query_log.flush).cancel)
    if start_health_checks:
        monitor.start()
    if cluster is not None:
        cluster.start(rtt)
        handle._closers.append(lambda: loop.create_task(cluster.aclose()))
    log.info("dns router for %s on %s:%d (udp+tcp)", config.zone, where.host, port)
    return handle


async def _bind_pair(where: HostPort, router: Router,
                     idle_timeout: float) -> tuple[asyncio.DatagramTransport, asyncio.Server]:  # fmt: skip
    loop = asyncio.get_running_loop()
    # With port 0, TCP picks a free port and UDP takes the same number (clients fall back from UDP to
    # TCP on the same port, RFC 7766 §5); a UDP clash is retried with a new TCP port.
    for _ in range(20):
        tcp = await loop.create_server(lambda: TcpProtocol(router, idle_timeout), where.host, where.port,
                                       reuse_address=True)  # fmt: skip
        port = tcp.sockets[0].getsockname()[1]
        try:
            udp, _ = await loop.create_datagram_endpoint(
                lambda: UdpProtocol(router), local_addr=(where.host, port)
            )
        except OSError as exc:
            tcp.close()
            if where.port != 0:
                raise DnsError(f"cannot bind UDP {where}: {exc.strerror}") from None
            continue
        _grow_buffers(udp)
        return udp, tcp
    raise DnsError(f"no free port pair for UDP+TCP on {where.host}")


def _grow_buffers(udp: asyncio.DatagramTransport) -> None:
    sock = udp.get_extra_info("socket")
    if sock is None:
        return
    for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
        with contextlib.suppress(OSError):  # a larger buffer absorbs bursts; the default still works
            sock.setsockopt(socket.SOL_SOCKET, option, 4 * 1024 * 1024)


class _Ticker:
    """Runs `action` every `interval` seconds on the running loop until cancelled."""

    def __init__(self, interval: float, action: Callable[[], None]) -> None:
        self._loop = asyncio.get_running_loop()
        self._interval = interval
        self._action = action
        self._handle = self._loop.call_later(interval, self._tick)

    def _tick(self) -> None:
        self._action()
        self._handle = self._loop.call_later(self._interval, self._tick)

    def cancel(self) -> None:
        self._handle.cancel()


def _servfail(wire: bytes) -> bytes | None:
    if len(wire) < 12 or wire[2] & 0x80:
        return None
    return struct.pack("!2sBBHHHH", wire[:2], 0x80 | (wire[2] & 0x79), 2, 0, 0, 0, 0)


class RouterCluster:
    """A router's Redis-shared RTT figures and edge health (`cluster.redis` in the config)."""

    def __init__(self, link: RedisLink, name: str, edges: list[str]) -> None:
        self.link = link
        self.name = name
        self.health = SharedHealth(link, name, edges)
        self.rtt_sync: SharedRtt | None = None

    def start(self, store: RttStore) -> None:
        assert isinstance(store, SharedRttStore)
        self.rtt_sync = SharedRtt(self.link, self.name, store, store_clock=asyncio.get_running_loop().time)
        self.rtt_sync.start()
        self.health.start()

    async def aclose(self) -> None:
        if self.rtt_sync is not None:
            await self.rtt_sync.aclose()
        await self.health.aclose()
        await self.link.aclose()


async def _cluster(loaded: LoadedConfig, clock: Callable[[], float]) -> RouterCluster | None:
    cluster = loaded.config.cluster
    if cluster is None or cluster.redis is None:
        return None
    link = RedisLink(cluster.redis)
    await link.start()
    # Unique per router instance: figures are kept per router, and a router skips its own.
    name = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
    return RouterCluster(link, name, [e.name for e in loaded.config.edges])
