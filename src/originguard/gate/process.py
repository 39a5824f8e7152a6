"""Run the gate: listeners, admin port, health checks, SIGHUP reload and graceful SIGTERM."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from originguard.config import LoadedConfig
from originguard.config.gate import GateConfig, Listener
from originguard.config.values import HostPort
from originguard.errors import ConfigError, OriginguardError
from originguard.gate.app import GateListenerApp
from originguard.gate.health_checker import health_summary, run_health_checks
from originguard.gate.rules import CompiledListener, compile_listener
from originguard.gate.runtime import GateRuntime
from originguard.gate.targets import TargetGroupState
from originguard.http.client import UpstreamPool
from originguard.http.field_names import UnderscorePolicy
from originguard.http.limits import Limits
from originguard.http.message import Request
from originguard.http.server import HttpServer
from originguard.http.tls import server_context
from originguard.notify import notify_ready
from originguard.observe.access_log import AccessLog
from originguard.observe.admin import AdminApp, Reply, json_reply
from originguard.observe.metrics import MetricSet
from originguard.runtime import cannot_listen, install_uvloop, reload_from, run_until_signalled, stop_task
from originguard.workers import resolve_workers, run_workers

log = logging.getLogger("originguard.gate")


@dataclass
class GateHandle:
    """A running gate; tests read the bound addresses, `reload` applies a new config."""

    loaded: LoadedConfig
    runtime: GateRuntime
    servers: dict[HostPort, tuple[HttpServer, GateListenerApp]] = field(default_factory=dict)
    listeners: list[HostPort] = field(default_factory=list)
    admin: HostPort | None = None
    admin_server: HttpServer | None = None
    health_tasks: list[asyncio.Task[None]] = field(default_factory=list)
    workers: int = 1
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def reload(self, loaded: LoadedConfig) -> None:
        """Swap rules and target groups; listeners on the same address keep their connections."""
        gate = _gate_section(loaded)
        compiled = [compile_listener(li, loaded.secrets) for li in gate.listeners]
        wanted = {li.port: (li, c) for li, c in zip(gate.listeners, compiled, strict=True)}
        for task in self.health_tasks:
            task.cancel()
        self.runtime.groups = _target_groups(gate, self.runtime.groups)
        self.runtime.config = gate
        self.health_tasks = _start_health_checks(self.runtime)
        for address in [a for a in self.servers if a not in wanted]:
            server, _ = self.servers.pop(address)
            await server.shutdown()
        for address, (listener, rules) in wanted.items():
            if address in self.servers:
                server, app = self.servers[address]
                app.set_listener(rules)
                if server.underscores is not None:  # connections hold the same policy object
                    server.underscores.allowed = listener.underscores_in_headers
                    server.underscores.protected = rules.secret_headers
            else:
                await self._listen(loaded, listener, rules)
        self.loaded = loaded
        log.info("gate config reloaded from %s", loaded.source)

    async def shutdown(self, grace: float = 10.0) -> None:
        for task in self.health_tasks:
            task.cancel()
        servers = [s for s, _ in self.servers.values()]
        if self.admin_server is not None:
            servers.append(self.admin_server)
        await asyncio.gather(*(s.shutdown(grace) for s in servers))
        self.runtime.pool.close()
        self.runtime.access_log.close()
        for close in self.closers:
            await close()

    async def _listen(self, loaded: LoadedConfig, listener: Listener, rules: CompiledListener) -> None:
        gate = _gate_section(loaded)
        index = gate.listeners.index(listener)
        tls = None
        if listener.protocol == "https" and listener.tls is not None:
            tls = server_context(
                loaded.resolve_path(listener.tls.certificate),
                loaded.resolve_path(listener.tls.key),
                source=loaded.source,
                key_path=f"gate.listeners[{index}].tls",
            )
        app = GateListenerApp(self.runtime, rules, f"{listener.protocol}:{listener.port.port}")
        dropped = self.runtime.underscore_fields_dropped.cell((app.name,))

        def count_dropped(fields: int) -> None:
            dropped.value += fields

        underscores = UnderscorePolicy(listener.underscores_in_headers, rules.secret_headers, count_dropped)
        server = HttpServer(app, Limits.from_config(gate.limits), underscores=underscores)
        try:
            bound = await server.listen(listener.port, tls=tls, reuse_port=self.workers > 1)
        except OSError as exc:
            await server.shutdown(0)
            raise cannot_listen(loaded.source, f"gate.listeners[{index}].port", "gate", listener.port,
                                exc) from None  # fmt: skip
        self.servers[listener.port] = (server, app)
        self.listeners.append(bound)


async def start_gate(loaded: LoadedConfig, *, worker: int = 0, workers: int = 1) -> GateHandle:
    """Start every listener, the admin port and health checks (as worker `worker` of `workers`)."""
    gate = _gate_section(loaded)
    runtime = GateRuntime(
        config=gate,
        groups=_target_groups(gate, {}),
        pool=UpstreamPool(),
        access_log=AccessLog(
            gate.access_log if gate.access_log in (None, "-") else str(loaded.resolve_path(gate.access_log))
        ),
        metrics=MetricSet(),
    )
    handle = GateHandle(loaded=loaded, runtime=runtime, workers=workers)
    runtime.access_log.start_flushing(asyncio.get_running_loop())
    try:
        for listener in gate.listeners:
            await handle._listen(loaded, listener, compile_listener(listener, loaded.secrets))
        if gate.admin is not None:
            admin = (
                gate.admin if gate.admin.port == 0 else HostPort(gate.admin.host, gate.admin.port + worker)
            )
            try:
                handle.admin_server, handle.admin = await _start_admin(handle, admin)
            except OSError as exc:
                raise cannot_listen(loaded.source, "gate.admin", "gate", admin, exc) from None
    except OriginguardError:
        await handle.shutdown(0)
        raise
    handle.health_tasks = _start_health_checks(runtime)
    await _watch_rotation(handle)
    return handle


async def _watch_rotation(handle: GateHandle) -> None:
    """In a cluster, a published rotation phase makes the gate re-read its secret file."""
    cluster = handle.loaded.config.cluster
    if cluster is None or cluster.redis is None:
        return
    from originguard.cluster import RedisLink
    from originguard.rotation.channel import RotationChannel

    link = RedisLink(cluster.redis)
    await link.start()

    async def on_phase(state: str, version: int) -> None:
        log.info("rotation phase %s (version %d): reloading the config and header values", state, version)
        await reload_from(handle.loaded.source, handle.reload)

    watcher = asyncio.get_running_loop().create_task(RotationChannel(link).watch(on_phase))

    async def close() -> None:
        await stop_task(watcher)
        await link.aclose()

    handle.closers.append(close)


def run_gate(loaded: LoadedConfig, worker: int | None = None) -> None:
    """`originguard gate -c FILE`: serve until SIGTERM/SIGINT; SIGHUP reloads the file."""
    count = resolve_workers(loaded.config.gate.workers) if loaded.config.gate is not None else 1
    if count > 1 and worker is None:
        run_workers(["gate", "-c", loaded.source], count)
        return
    install_uvloop()

    async def main() -> None:
        handle = await start_gate(loaded, worker=worker or 0, workers=count)

        def ready() -> None:  # once SIGHUP reloads: "listening" and READY=1 both promise that
            log.info("gate listening on %s", ", ".join(map(str, handle.listeners)))
            notify_ready()

        await run_until_signalled(lambda: reload_from(loaded.source, handle.reload), on_ready=ready)
        await handle.shutdown()

    asyncio.run(main())


def _gate_section(loaded: LoadedConfig) -> GateConfig:
    if loaded.config.gate is None:
        raise ConfigError(loaded.source, "gate", "the config has no gate: section")
    return loaded.config.gate


def _target_groups(gate: GateConfig, previous: dict[str, TargetGroupState]) -> dict[str, TargetGroupState]:
    groups = {name: TargetGroupState(name, tg) for name, tg in gate.target_groups.items()}
    for name, group in groups.items():
        old = previous.get(name)
        if old is not None:  # keep what health checks already know about unchanged targets
            known = {t.address: t.health for t in old.targets}
            for target in group.targets:
                target.health = known.get(target.address, target.health)
    return groups


def _start_health_checks(runtime: GateRuntime) -> list[asyncio.Task[None]]:
    return [asyncio.get_running_loop().create_task(run_health_checks(g)) for g in runtime.groups.values()]


async def _start_admin(handle: GateHandle, address: HostPort) -> tuple[HttpServer, HostPort]:
    admin = AdminApp()

    async def metrics(_: Request, __: bytes) -> Reply:
        return 200, b"text/plain; version=0.0.4", handle.runtime.metrics.render()

    async def healthz(_: Request, __: bytes) -> Reply:
        return 200, b"text/plain", b"ok\n"

    async def targets(_: Request, __: bytes) -> Reply:
        return json_reply({name: health_summary(g) for name, g in handle.runtime.groups.items()})

    admin.route(b"GET", b"/metrics", metrics)
    admin.route(b"GET", b"/healthz", healthz)
    admin.route(b"GET", b"/targets", targets)
    server = HttpServer(admin, Limits())
    return server, await server.listen(address)


__all__ = ["GateHandle", "run_gate", "start_gate"]
