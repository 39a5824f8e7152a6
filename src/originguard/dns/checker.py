"""Active health checks of record targets (asyncio shell over the `health` state machine)."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable, Sequence

from originguard.dns import health
from originguard.dns.records import CheckSpec
from originguard.errors import UpstreamError
from originguard.http import oneshot
from originguard.runtime import stop_task

log = logging.getLogger("originguard.dns.health")


class HealthMonitor:
    """Runs every check spec on its interval; `serving[key]` is True unless a check of the key fails."""

    def __init__(
        self,
        specs: Sequence[CheckSpec],
        on_change: Callable[[str, bool], None] | None = None,
        *,
        previous: HealthMonitor | None = None,
    ) -> None:
        self.specs = tuple(specs)
        # A reload keeps what is known of every target it still probes the same way: without this a
        # dead edge would be answered again (as `initial`) until its first probe after the reload.
        known = {_probed(spec): state for spec, state in previous.states.items()} if previous else {}
        self.states: dict[CheckSpec, health.HealthState] = {
            spec: known.get(_probed(spec), health.HealthState()) for spec in self.specs
        }
        self.serving: dict[str, bool] = {}
        if previous is not None:
            for key in {spec.key for spec in self.specs} & previous.serving.keys():
                self.serving[key] = self._verdict(key)
        self.on_change = on_change  # who hears of a changed verdict (the router wires it after start)
        self._stopped = False
        self._tasks: list[asyncio.Task[None]] = []
        self._contexts: dict[tuple[str | None, bool], ssl.SSLContext] = {}

    def start(self) -> None:
        """Start one checking task per spec (the first probe runs at once)."""
        for spec in self.specs:
            self._tasks.append(asyncio.create_task(self._run(spec), name=f"dns-health-{spec.key}"))

    def stop(self) -> None:
        """Cancel every check now: no result of this monitor is published after this returns."""
        self._stopped = True
        for task in self._tasks:
            task.cancel()

    async def aclose(self) -> None:
        """Stop every check and wait for the tasks to end."""
        self.stop()
        for task in self._tasks:
            await stop_task(task)
        self._tasks.clear()

    async def _run(self, spec: CheckSpec) -> None:
        thresholds = health.Thresholds(spec.check.healthy, spec.check.unhealthy)
        while not self._stopped:
            ok, detail = await self.probe(spec)
            if self._stopped:
                return
            transition = health.step(self.states[spec], "pass" if ok else "fail", thresholds, detail)
            self.states[spec] = transition.state
            if transition.changed:
                log.warning("dns target %s (%s:%d) %s", spec.key, spec.host, spec.port, transition.reason)
            self._publish(spec.key)
            await asyncio.sleep(spec.check.interval)

    def _verdict(self, key: str) -> bool:
        return all(state.serving for spec, state in self.states.items() if spec.key == key)

    def _publish(self, key: str) -> None:
        serving = self._verdict(key)
        if self.serving.get(key) != serving:
            self.serving[key] = serving
            if self.on_change is not None:
                self.on_change(key, serving)

    async def probe(self, spec: CheckSpec) -> tuple[bool, str]:
        """One check: TCP connect, or HTTP(S) GET expecting 200-399; (passed, detail)."""
        try:
            return await asyncio.wait_for(self._probe(spec), spec.check.timeout)
        except TimeoutError:
            return False, f"timeout after {spec.check.timeout:g}s"
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError, ValueError) as exc:
            return False, f"{type(exc).__name__}: {exc}"

    async def _probe(self, spec: CheckSpec) -> tuple[bool, str]:
        check = spec.check
        if check.protocol == "tcp":
            _, writer = await asyncio.open_connection(spec.host, spec.port)
            writer.close()
            return True, "connected"
        context = self._context(spec) if check.protocol == "https" else None
        host = check.server_name or spec.host
        try:
            answer = await oneshot.request(
                spec.host,
                spec.port,
                b"GET",
                check.path.encode(),
                headers=[(b"User-Agent", b"originguard-dns")],
                tls=context,
                server_name=host,
                host_header=host.encode(),
                timeout=check.timeout,
                read_body=False,
            )
        except UpstreamError as exc:
            if exc.kind == "timeout":
                raise TimeoutError from None
            return False, f"{exc.kind}: {exc.detail}"
        return 200 <= answer.status < 400, f"HTTP {answer.status}"

    def _context(self, spec: CheckSpec) -> ssl.SSLContext:
        key = (spec.ca_file, spec.check.server_name is not None)
        context = self._contexts.get(key)
        if context is None:
            # Verify as a browser would: a health check that accepts any certificate would mark a
            # hijacked edge healthy. The dev CA comes in through `ca_bundle`.
            context = ssl.create_default_context(cafile=spec.ca_file)
            self._contexts[key] = context
        return context


def _probed(spec: CheckSpec) -> tuple[object, ...]:
    """What a check probes; thresholds and timing may change on reload without losing the state."""
    check = spec.check
    return spec.key, spec.host, spec.port, check.protocol, check.path, check.server_name, spec.ca_file
