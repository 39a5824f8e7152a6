"""Run one edge: viewer listeners, the admin API (invalidations, metrics, WAF samples), reload."""

from __future__ import annotations

import asyncio
import gc
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

from originguard.cache import MemoryStore
from originguard.config import LoadedConfig
from originguard.config.values import HostPort
from originguard.edge.app import EdgeApp
from originguard.edge.cluster import EdgeCluster
from originguard.edge.runtime import EdgeConfigView, EdgeRuntime, compile_edge
from originguard.errors import ConfigError, OriginguardError
from originguard.http.client import UpstreamPool
from originguard.http.field_names import UnderscorePolicy
from originguard.http.h2.streams import H2Limits
from originguard.http.limits import Limits
from originguard.http.message import Request
from originguard.http.server import HttpServer
from originguard.http.tls import add_sni_contexts, server_context
from originguard.latency.reporter import RttReporter
from originguard.latency.tcp_info import tcp_rtt_ms
from originguard.notify import notify_ready
from originguard.observe.access_log import AccessLog
from originguard.observe.admin import AdminApp, Reply, json_reply
from originguard.observe.metrics import MetricSet
from originguard.runtime import cannot_listen, install_uvloop, reload_from, run_until_signalled
from originguard.workers import resolve_workers, run_workers

log = logging.getLogger("originguard.edge")


@dataclass
class EdgeHandle:
    """A running edge; tests read `http`, `https` and `admin` for the bound addresses."""

    name: str
    loaded: LoadedConfig
    runtime: EdgeRuntime
    servers: list[HttpServer] = field(default_factory=list)
    apps: list[EdgeApp] = field(default_factory=list)
    http: HostPort | None = None
    https: HostPort | None = None
    admin: HostPort | None = None
    worker: int = 0
    workers: int = 1
    reporter: RttReporter | None = None
    cluster: EdgeCluster | None = None
    # The viewer listeners' rule for `_` in field names; one object, updated in place on reload.
    underscores: UnderscorePolicy | None = None

    def on_connect(self, transport: asyncio.Transport, client_ip: str) -> None:
        """Sample the viewer's TCP round trip for the DNS router's latency routing."""
        if self.reporter is not None:
            rtt = tcp_rtt_ms(transport.get_extra_info("socket"))
            if rtt is not None:
                self.reporter.record(client_ip, rtt)

    async def reload(self, loaded: LoadedConfig) -> None:
        """New behaviours, origins, secrets and WAF rules; the cache and connections stay."""
        self.runtime.view = compile_edge(
            loaded, self.name, self.runtime.view, self.cluster.rate if self.cluster else None
        )
        self.loaded = loaded
        settle_heap()
        if self.underscores is not None:
            self.underscores.allowed = self.runtime.view.node.underscores_in_headers
            self.underscores.protected = _secret_header_names(self.runtime.view)
        log.info("edge %s reloaded from %s", self.name, loaded.source)

    async def reload_from_source(self) -> None:
        """Re-read the config file (a rotation phase changed the secret file); keep serving on error."""
        await reload_from(self.loaded.source, self.reload)

    async def shutdown(self, grace: float = 10.0) -> None:
        await asyncio.gather(*(s.shutdown(grace) for s in self.servers))
        if self.reporter is not None:
            await self.reporter.aclose()
        if self.cluster is not None:
            await self.cluster.aclose()
        self.runtime.pool.close()
        self.runtime.access_log.close()


def settle_heap() -> None:
    """Take what start-up or a reload built (the compiled rule sets, CRS's ~300k objects first)
    out of the garbage collector's view. Each full collection walked all of it: a ~30 ms pause
    every few hundred requests, the WAF's p99 (bench/crs.md)."""
    gc.unfreeze()  # an earlier freeze's objects, a replaced rule set among them, collectable again
    gc.collect()
    gc.freeze()


async def start_edge(
    loaded: LoadedConfig,
    name: str,
    *,
    worker: int = 0,
    workers: int = 1,
    clock: Callable[[], float] = time.time,
) -> EdgeHandle:
    """Start the named edge of a config (as worker `worker` of `workers` sharing its ports).

    `clock` gives the wall-clock seconds its cache and WAF decide with (tests move it)."""
    cluster = await EdgeCluster.connect(loaded, f"{name}/{worker}")
    view = compile_edge(loaded, name, rate=cluster.rate if cluster else None)
    distribution = view.distribution
    connect_timeout = min(o.connect_timeout for o in distribution.origins)
    runtime = EdgeRuntime(
        view=view,
        store=MemoryStore(distribution.cache_max_bytes, distribution.cache_max_object_bytes),
        pool=UpstreamPool(
            connect_timeout=connect_timeout,
            idle_timeout=min(o.keepalive_timeout for o in distribution.origins),
        ),
        access_log=AccessLog(_log_path(loaded, distribution.access_log, name)),
        metrics=MetricSet(),
        clock=clock,
    )
    handle = EdgeHandle(name, loaded, runtime, worker=worker, workers=workers, cluster=cluster)
    settle_heap()
    runtime.access_log.start_flushing(asyncio.get_running_loop())
    if cluster is not None:
        cluster.start(runtime.store.invalidate_paths, handle.reload_from_source)
    limits = Limits.from_config(distribution.limits)
    dropped = runtime.metrics.counters(
        "originguard_edge_underscore_fields_dropped_total",
        "Viewer request fields dropped for a `_` in their name (underscores_in_headers)",
        (),
    ).cell(())

    def count_dropped(fields: int) -> None:
        dropped.value += fields

    handle.underscores = UnderscorePolicy(
        view.node.underscores_in_headers, _secret_header_names(runtime.view), count_dropped
    )
    if distribution.rtt_report_url is not None:
        handle.reporter = RttReporter(distribution.rtt_report_url, name)
        handle.reporter.start()
    node = view.node
    index = [e.name for e in loaded.config.edges].index(name)
    try:
        if node.https is not None:
            if node.tls is None:
                raise ConfigError(
                    loaded.source, f"edges[{index}].tls", "an edge with https needs tls: {certificate, key}"
                )
            tls = server_context(
                loaded.resolve_path(node.tls.certificate),
                loaded.resolve_path(node.tls.key),
                source=loaded.source,
                key_path=f"edges[{index}].tls",
                http2=True,
            )
            extra = {}
            for ci, cert in enumerate(node.certificates):
                context = server_context(
                    loaded.resolve_path(cert.certificate),
                    loaded.resolve_path(cert.key),
                    source=loaded.source,
                    key_path=f"edges[{index}].certificates[{ci}]",
                    http2=True,
                )
                extra.update(dict.fromkeys(cert.names, context))
            add_sni_contexts(tls, extra)
            handle.https = await _listen(
                handle,
                EdgeApp(runtime, "https", None),
                limits,
                node.https,
                tls,
                loaded,
                f"edges[{index}].https",
            )
        if node.http is not None:
            https_port = handle.https.port if handle.https is not None else None
            handle.http = await _listen(
                handle,
                EdgeApp(runtime, "http", https_port),
                limits,
                node.http,
                None,
                loaded,
                f"edges[{index}].http",
            )
        if node.admin is not None:
            admin_server = HttpServer(_admin_app(handle), Limits())
            handle.servers.append(admin_server)
            admin_at = worker_admin_address(node.admin, worker)
            try:
                handle.admin = await admin_server.listen(admin_at)
            except OSError as exc:
                raise cannot_listen(loaded.source, f"edges[{index}].admin", f"edge {name}", admin_at,
                                    exc) from None  # fmt: skip
    except (OriginguardError, OSError):
        await handle.shutdown(0)
        raise
    return handle


async def _listen(
    handle: EdgeHandle,
    app: EdgeApp,
    limits: Limits,
    address: HostPort,
    tls: ssl.SSLContext | None,
    loaded: LoadedConfig,
    key: str,
) -> HostPort:

    server = HttpServer(
        app,
        limits,
        on_connect=handle.on_connect if handle.reporter is not None else None,
        underscores=handle.underscores,
        # HTTPS offers h2 (the contexts say so: server_context(http2=True)); timeouts as for HTTP/1.1
        h2=H2Limits(body_timeout=limits.body_timeout, idle_timeout=limits.keepalive_timeout) if tls else None,
    )
    handle.servers.append(server)
    handle.apps.append(app)
    try:
        return await server.listen(address, tls=tls, reuse_port=handle.workers > 1)
    except OSError as exc:
        raise cannot_listen(loaded.source, key, f"edge {handle.name}", address, exc) from None


def _secret_header_names(view: EdgeConfigView) -> frozenset[bytes]:
    """The origins' custom header names (lower-case): never taken from a viewer in `_` spelling."""
    return frozenset().union(*(m.signing.names for t in view.origins.values() for m in t.members))


def _admin_app(handle: EdgeHandle) -> AdminApp:
    token_ref = handle.runtime.view.distribution.admin_token
    token = None
    if token_ref is not None and token_ref.secret in handle.loaded.secrets:
        token = handle.loaded.secrets[token_ref.secret].current.reveal()
    admin = AdminApp(token)

    async def metrics(_: Request, __: bytes) -> Reply:
        return 200, b"text/plain; version=0.0.4", handle.runtime.metrics.render()

    async def healthz(_: Request, __: bytes) -> Reply:
        return 200, b"text/plain", b"ok\n"

    async def invalidations(request: Request, body: bytes) -> Reply:
        try:
            paths = orjson.loads(body)["paths"]
            if not isinstance(paths, list) or not all(
                isinstance(p, str) and p.startswith("/") for p in paths
            ):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            return json_reply({"error": 'expected {"paths": ["/path", "/prefix*"]}'}, 400)
        if handle.cluster is not None:
            # Through Redis every edge and worker applies it, and one that was cut off catches up.
            published = await handle.cluster.bus.publish(paths)
            reply = {
                "paths": paths,
                "invalidated": published.applied,
                "broadcast": published.entry_id is not None,
            }
            return json_reply(reply, 201)
        dropped = handle.runtime.store.invalidate_paths(paths)
        if handle.workers > 1 and request.header(FANOUT) is None:
            dropped += await _fan_out(handle, request, body)
        log.info("edge %s invalidated %s (%d responses)", handle.name, paths, dropped)
        return json_reply({"paths": paths, "invalidated": dropped}, 201)

    async def waf_samples(_: Request, __: bytes) -> Reply:
        waf = handle.runtime.view.waf
        if waf is None:
            return json_reply({"web_acl": None, "rules": {}, "samples": []})
        return json_reply(
            {"web_acl": waf.name, "rules": waf.stats.snapshot(), "samples": list(waf.samples.items())}
        )

    admin.route(b"GET", b"/metrics", metrics)
    admin.route(b"GET", b"/healthz", healthz)
    admin.route(b"POST", b"/invalidations", invalidations, protected=True)
    admin.route(b"GET", b"/waf", waf_samples, protected=True)
    return admin


def run_edge(loaded: LoadedConfig, name: str, worker: int | None = None) -> None:
    """`originguard edge -c FILE --name EDGE`: serve until SIGTERM/SIGINT; SIGHUP reloads."""
    node = next((e for e in loaded.config.edges if e.name == name), None)
    count = resolve_workers(node.workers) if node is not None else 1
    if count > 1 and worker is None:
        run_workers(["edge", "-c", loaded.source, "--name", name], count)
        return
    install_uvloop()

    async def main() -> None:
        handle = await start_edge(loaded, name, worker=worker or 0, workers=count)
        listening = ", ".join(str(a) for a in (handle.http, handle.https) if a)

        def ready() -> None:  # once SIGHUP reloads: "listening" and READY=1 both promise that
            log.info("edge %s listening on %s", name, listening)
            notify_ready()

        await run_until_signalled(lambda: reload_from(loaded.source, handle.reload), on_ready=ready)
        await handle.shutdown()

    asyncio.run(main())


FANOUT = b"x-originguard-fanout"


def worker_admin_address(address: HostPort, worker: int) -> HostPort:
    """Worker i's admin API listens on the configured port + i (port 0 stays "any free port")."""
    return address if address.port == 0 else HostPort(address.host, address.port + worker)


async def _fan_out(handle: EdgeHandle, request: Request, body: bytes) -> int:
    """Repeat an invalidation on every sibling worker (each has its own cache)."""
    from originguard.http.client import Upstream

    node_admin = handle.runtime.view.node.admin
    assert node_admin is not None
    dropped = 0
    for sibling in range(handle.workers):
        if sibling == handle.worker:
            continue
        address = worker_admin_address(node_admin, sibling)
        headers = [
            (b"Host", b"localhost"),
            (b"Authorization", request.header(b"authorization") or b""),
            (FANOUT, b"1"),
        ]
        try:
            answer = await handle.runtime.pool.request(
                Upstream(address.host, address.port), b"POST", b"/invalidations", headers, body
            )
            reply = await answer.read_all()
            dropped += int(orjson.loads(reply).get("invalidated", 0)) if answer.status == 201 else 0
        except (OriginguardError, ValueError) as exc:
            log.error("invalidation fan-out to worker %d failed: %s", sibling, exc)
    return dropped


def _log_path(loaded: LoadedConfig, destination: str | None, edge: str) -> str | None:
    """`{edge}` in the path names each edge's own file (several edges share one config)."""
    if destination is None or destination == "-":
        return destination
    return str(loaded.resolve_path(destination.replace("{edge}", edge)))
