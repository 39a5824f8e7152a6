"""The DNS router's asyncio shell: listeners, health checks, the admin endpoint, and reload in place."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from originguard.cluster import RedisLink
from originguard.config.dns import DnsConfig
from originguard.config.loader import LoadedConfig
from originguard.config.values import HostPort
from originguard.dns.admin import ADMIN_LIMITS, AdminApi
from originguard.dns.checker import HealthMonitor
from originguard.dns.engine import QueryEngine
from originguard.dns.listeners import Router, bind_pair
from originguard.dns.records import Zone, compile_zone
from originguard.dns.rtt import RttStore
from originguard.dns.shared import SharedHealth, SharedRtt, SharedRttStore
from originguard.dns.telemetry import DnsMetrics, QueryLog
from originguard.errors import ConfigError
from originguard.http.server import HttpServer
from originguard.runtime import cannot_listen

log = logging.getLogger("originguard.dns")

LOG_FLUSH_INTERVAL = 1.0


@dataclass
class DnsServerHandle:
    """A running router: its bound ports and state; `reload()` applies a new config, `aclose()` stops."""

    loaded: LoadedConfig
    router: Router
    monitor: HealthMonitor
    metrics: DnsMetrics
    rtt: RttStore
    cluster: RouterCluster | None
    rand: Callable[[], float]
    health_checks: bool
    listen_override: HostPort | None = None  # tests pass port 0; a reload keeps the override
    admin_override: HostPort | None = None
    host: str = ""
    port: int = 0
    admin_port: int | None = None
    admin: AdminApi | None = None
    _listen: HostPort | None = None  # the address asked for (port 0 included), to spot a change
    _admin_at: HostPort | None = None
    _udp: asyncio.DatagramTransport | None = None
    _tcp: asyncio.Server | None = None
    _admin_server: HttpServer | None = None
    _closers: list[Callable[[], object]] = field(default_factory=list)
    _reloading: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def engine(self) -> QueryEngine:
        """The engine answering now (a reload replaces it)."""
        return self.router.engine

    async def reload(self, loaded: LoadedConfig) -> None:
        """Serve a new config with no gap: build and bind everything first, then swap in one step.

        A file that fails to compile or bind raises and changes nothing. The health of targets probed
        the same way, measured RTTs, metrics and the cluster link carry over.
        """
        async with self._reloading:
            config = _dns_section(loaded)
            zone = compile_zone(config, loaded.config.edges, loaded.source, loaded.resolve_path)
            previous = _dns_section(self.loaded)
            if loaded.config.cluster != self.loaded.config.cluster or config.measured != previous.measured:
                log.warning("dns: changes to cluster: and dns.measured take effect on restart")
            listen = self.listen_override or config.listen
            admin_at = self.admin_override or config.admin
            pair: tuple[asyncio.DatagramTransport, asyncio.Server] | None = None
            admin_server: tuple[HttpServer, HostPort] | None = None
            try:
                if listen != self._listen:
                    pair = await bind_pair(listen, self.router, loaded.source, "dns.listen")
                if admin_at != self._admin_at and admin_at is not None:
                    admin_server = await self._bind_admin(loaded, admin_at)
                query_log = _open_query_log(loaded, config)
            except BaseException:
                for server in pair or ():
                    server.close()
                if admin_server is not None:
                    await admin_server[0].shutdown(grace=0.0)
                raise
            retired = self._swap(loaded, config, zone, query_log)
            if pair is not None:
                self._use_listeners(listen, pair)
            if admin_at != self._admin_at:
                await self._use_admin(admin_at, admin_server)
            log.warning("dns router reloaded from %s (%d records)", loaded.source, len(config.records))
            await retired.aclose()

    async def aclose(self) -> None:
        """Stop listening, stop health checks, flush the query log."""
        for close in self._closers:
            close()
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()
        if self._admin_server is not None:
            await self._admin_server.shutdown(grace=1.0)
        await self.monitor.aclose()
        if self.cluster is not None:
            await self.cluster.aclose()
        if self.router.query_log is not None:
            self.router.query_log.close()

    def _swap(self, loaded: LoadedConfig, config: DnsConfig, zone: Zone,
              query_log: QueryLog | None) -> HealthMonitor:  # fmt: skip
        """Point the router at the new config (no await: no query sees half of it); the old monitor."""
        old_monitor, old_log = self.monitor, self.router.query_log
        old_monitor.stop()
        monitor = HealthMonitor(zone.checks, self._on_health, previous=old_monitor)
        for key in old_monitor.serving.keys() - monitor.serving.keys():
            self.metrics.target_healthy.remove(key)  # a target no longer checked has no health to show
        self.router.engine = QueryEngine(zone, self.rtt, self.rand, max_udp_payload=config.max_udp_payload)
        self.router.tcp_idle_timeout = config.tcp_idle_timeout
        self.router.query_log = query_log
        if self.cluster is not None:
            self.cluster.health.local = dict(monitor.serving)
            self.cluster.health.retain({e.name for e in loaded.config.edges} | monitor.serving.keys())
        else:
            self.router.health = monitor
        self.monitor = monitor
        if self.admin is not None:
            self.admin.edges = frozenset(e.name for e in loaded.config.edges)
        self.loaded = loaded
        if self.health_checks:
            monitor.start()
        if old_log is not None:
            old_log.close()
        return old_monitor

    def _use_listeners(
        self, listen: HostPort, pair: tuple[asyncio.DatagramTransport, asyncio.Server]
    ) -> None:
        old = (self._udp, self._tcp)
        self._udp, self._tcp = pair
        self._listen, self.host, self.port = listen, listen.host, pair[1].sockets[0].getsockname()[1]
        for server in old:
            if server is not None:
                server.close()

    async def _use_admin(self, admin_at: HostPort | None, bound: tuple[HttpServer, HostPort] | None) -> None:
        old, self._admin_at = self._admin_server, admin_at
        self._admin_server = bound[0] if bound is not None else None
        self.admin_port = bound[1].port if bound is not None else None
        if old is not None:
            await old.shutdown(grace=1.0)  # requests in flight on the old address finish

    def _on_health(self, key: str, ok: bool) -> None:
        self.metrics.target_healthy.labels(key).set(1 if ok else 0)
        if self.cluster is not None:
            self.cluster.health.observe(key, ok)  # every router answers from the merged view

    async def _bind_admin(self, loaded: LoadedConfig, where: HostPort) -> tuple[HttpServer, HostPort]:
        if self.admin is None:
            clock = asyncio.get_running_loop().time
            self.admin = AdminApi(self.rtt, self.metrics, [e.name for e in loaded.config.edges], clock)
        server = HttpServer(self.admin.app(), ADMIN_LIMITS)
        try:
            return server, await server.listen(where)
        except OSError as exc:
            await server.shutdown(grace=0.0)
            raise cannot_listen(loaded.source, "dns.admin", "dns router admin", where, exc) from None


async def start_dns_server(
    loaded: LoadedConfig,
    *,
    listen: HostPort | None = None,
    admin: HostPort | None = None,
    rand: Callable[[], float] | None = None,
    start_health_checks: bool = True,
) -> DnsServerHandle:
    """Compile the `dns:` section and serve it on UDP+TCP (same port; port 0 picks one) and admin."""
    config = _dns_section(loaded)
    zone = compile_zone(config, loaded.config.edges, loaded.source, loaded.resolve_path)
    cluster = await _cluster(loaded)
    rtt = _rtt_store(config, cluster)
    rand = rand or random.random
    metrics = DnsMetrics()
    monitor = HealthMonitor(zone.checks)
    router = Router(QueryEngine(zone, rtt, rand, max_udp_payload=config.max_udp_payload),
                    cluster.health if cluster is not None else monitor, metrics,
                    None, config.tcp_idle_timeout)  # fmt: skip
    handle = DnsServerHandle(loaded, router, monitor, metrics, rtt, cluster, rand, start_health_checks,
                             listen, admin)  # fmt: skip
    monitor.on_change = handle._on_health
    try:
        where = listen or config.listen
        handle._use_listeners(where, await bind_pair(where, router, loaded.source, "dns.listen"))
        admin_at = admin or config.admin
        if admin_at is not None:
            await handle._use_admin(admin_at, await handle._bind_admin(loaded, admin_at))
        router.query_log = _open_query_log(loaded, config)
    except BaseException:
        await handle.aclose()
        raise
    handle._closers.append(_Ticker(LOG_FLUSH_INTERVAL, router.flush_log).cancel)
    if start_health_checks:
        monitor.start()
    if cluster is not None:
        cluster.start(rtt)
    log.info("dns router for %s on %s:%d (udp+tcp)", config.zone, handle.host, handle.port)
    return handle


def _dns_section(loaded: LoadedConfig) -> DnsConfig:
    if loaded.config.dns is None:
        raise ConfigError(loaded.source, "dns", "no dns: section to serve")
    return loaded.config.dns


def _rtt_store(config: DnsConfig, cluster: RouterCluster | None) -> RttStore:
    measured = config.measured
    if cluster is None:
        return RttStore(min_samples=measured.min_samples, max_age=measured.max_age, window=measured.window,
                        max_keys=measured.max_subnets)  # fmt: skip
    return SharedRttStore(cluster.name, min_samples=measured.min_samples, max_age=measured.max_age,
                          window=measured.window, max_keys=measured.max_subnets,
                          clock=asyncio.get_running_loop().time)  # fmt: skip


def _open_query_log(loaded: LoadedConfig, config: DnsConfig) -> QueryLog | None:
    where = config.query_log
    if where is None:
        return None
    return QueryLog.open(where if where == "-" else str(loaded.resolve_path(where)))


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


async def _cluster(loaded: LoadedConfig) -> RouterCluster | None:
    cluster = loaded.config.cluster
    if cluster is None or cluster.redis is None:
        return None
    link = RedisLink(cluster.redis)
    await link.start()
    # Unique per router instance: figures are kept per router, and a router skips its own.
    name = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
    return RouterCluster(link, name, [e.name for e in loaded.config.edges])
