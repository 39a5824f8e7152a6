# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""The gate as an HTTP app: match rules, answer denies from prebuilt bytes, forward the rest."""

from __future__ import annotations

import logging
import random
from typing import Any

from originguard.config.gate import Action
from originguard.gate.relaying import (
    ForwardingApp,
    ForwardPlan,
    GateRelayHandler,
    forward,
    plan_forward,
    target_request_head,
)
from originguard.gate.responses import prebuild_fixed, redirect_location
from originguard.gate.rules import CompiledListener, Match, match
from originguard.gate.runtime import GateRuntime
from originguard.http.endpoints import ViewerEnd
from originguard.http.headers import HOP_BY_HOP, FieldSet
from originguard.http.message import Request
from originguard.http.relay import start_relay
from originguard.http.upgrade import is_websocket_handshake
from originguard.http.wire import DATE
from originguard.http.writer import ResponseWriter
from originguard.observe.metrics import CounterCell
from originguard.proxy.forwarding import (
    dropped_for_target,
)
from originguard.proxy.prebuilt import PrebuiltResponse, prebuild

log = logging.getLogger("originguard.gate")


class FixedAnswer:
    """A fixed response of one rule, prebuilt, with its request counter."""

    __slots__ = ("counter", "prebuilt", "rule")

    def __init__(self, prebuilt: PrebuiltResponse, rule: str, counter: CounterCell) -> None:
        self.prebuilt = prebuilt
        self.rule = rule
        self.counter = counter


class GateListenerApp(ForwardingApp):
    """Serves one listener; `listener` may be swapped on reload (new requests see the new rules)."""

    def __init__(self, runtime: GateRuntime, listener: CompiledListener, name: str) -> None:
        self.runtime = runtime
        self.name = name
        self.listener = listener
        self._fixed: dict[int, FixedAnswer] = {}
        self._status_cells: dict[str, dict[int, CounterCell]] = {}  # rule → status → its counter
        self.relay_handler = GateRelayHandler(self)
        self._relayed = runtime.relayed.cell((name,))
        self.set_listener(listener)

    def set_listener(self, listener: CompiledListener) -> None:
        fixed = {}
        for decision in [listener.default_match, *(r.match for r in listener.rules)]:
            action = decision.action.fixed_response
            if action is not None:
                counter = self.runtime.requests.cell((self.name, decision.rule, str(action.status)))
                fixed[id(decision)] = FixedAnswer(prebuild_fixed(action), decision.rule, counter)
        # Swapped before the listener: a request never pairs new rules with old answers.
        self._fixed = fixed
        secrets = listener.secret_headers if self.runtime.config.strip_matched_secret else frozenset()
        self.dropped = dropped_for_target(secrets)
        self.cut_for_target = FieldSet(HOP_BY_HOP | self.dropped)
        self.listener = listener

    # -- HttpApp -----------------------------------------------------------------------------

    def respond_now(self, request: Request) -> bytes | None:
        decision = match(self.listener, request)
        fixed = self._fixed.get(id(decision))
        if fixed is None:
            if decision.kind == "forward":
                request.context = decision
                return None
            wire, status = self._answer(request, decision)
            self._log(request, status, len(wire), decision.rule, None)
            return wire
        # The deny path: prebuilt bytes, a counter cell, no clock read (the answer is written
        # within this callback: the first latency bucket).
        prebuilt = fixed.prebuilt
        if request.method == b"HEAD":
            wire = prebuilt.wire(keep_alive=request.keep_alive, head_only=True)
        elif request.keep_alive:
            wire = prebuilt.status_line + DATE.line + prebuilt.keep_alive
        else:
            wire = prebuilt.status_line + DATE.line + prebuilt.close
        fixed.counter.value += 1.0
        runtime = self.runtime
        runtime.latency.observe_instant()
        if runtime.log_lines:
            self._log_line(request, prebuilt.status, len(wire), fixed.rule, None, 0.0)
        return wire

    def begin(self, request: Request, client: ViewerEnd) -> bool:
        decision = request.context
        if request.body is not None or not isinstance(decision, Match):
            return False
        if b"upgrade" in request.header_index() and is_websocket_handshake(request):
            return False  # it may become a tunnel: the coroutine path (forward)
        plan = plan_forward(self, request, decision)
        request.context = plan  # a retry or the coroutine path goes to the same target
        target = plan.target
        pool = self.runtime.pool
        idle = target.idle
        if idle is None:
            idle = target.idle = pool.idle_list(target.pool_key)
        upstream = pool.take_idle_from(idle, client.now)
        if upstream is None:
            return False
        target.outstanding += 1
        self._relayed.value += 1.0
        head = target_request_head(self, request, client)
        start_relay(client, request, upstream, head, self.relay_handler, plan, plan.group.read_timeout)
        return True

    async def handle(self, request: Request, response: ResponseWriter) -> None:
        context = request.context
        if isinstance(context, ForwardPlan):
            await forward(self, request, response, context)
            return
        decision = context if isinstance(context, Match) else match(self.listener, request)
        if decision.kind != "forward":
            # A denied request with a body: answer without reading it, then close (never relay it).
            response.close_after = True
            wire, status = self._answer(request, decision, keep_alive=False)
            response.send_prebuilt(status, wire)
            self._log(request, status, len(wire), decision.rule, None)
            return
        await forward(self, request, response, plan_forward(self, request, decision))

    def on_rejected(self, client_ip: str, status: int, reason: str) -> None:
        self.runtime.requests.inc((self.name, "rejected", str(status)))
        self.runtime.access_log.write(
            {
                "listener": self.name,
                "client": client_ip,
                "status": status,
                "rule": "rejected",
                "reason": reason,
            }
        )

    # -- paths -------------------------------------------------------------------------------

    def _answer(self, request: Request, decision: Match, keep_alive: bool | None = None) -> tuple[bytes, int]:
        alive = request.keep_alive if keep_alive is None else keep_alive
        head_only = request.method == b"HEAD"
        fixed = self._fixed.get(id(decision))
        if fixed is not None:
            return fixed.prebuilt.wire(keep_alive=alive, head_only=head_only), fixed.prebuilt.status
        redirect = decision.action.redirect
        assert redirect is not None
        location = redirect_location(
            redirect,
            scheme=request.scheme,
            host=request.host,
            port=request.server_port,
            path=request.path,
            query=request.query,
        )
        built = prebuild(redirect.status_code, [(b"Location", location)], b"")
        return built.wire(keep_alive=alive, head_only=head_only), redirect.status_code

    def target_group_of(self, decision: Match) -> str:
        """The target group a forward action sends to (weighted groups: a random pick by weight)."""
        return decision.target_group or _pick_group(decision.action)

    def log_request(self, request: Request, status: int, size: int, rule: str, target: str | None) -> None:
        """Access log line and counters for a request that was forwarded."""
        self._log(request, status, size, rule, target)

    def _log(self, request: Request, status: int, size: int, rule: str, target: str | None) -> None:
        runtime = self.runtime
        # By rule, then status: no key tuple to build and hash per request.
        by_status = self._status_cells.get(rule)
        if by_status is None:
            by_status = self._status_cells[rule] = {}
        cell = by_status.get(status)
        if cell is None:
            cell = by_status[status] = runtime.requests.cell((self.name, rule, str(status)))
        cell.value += 1.0
        elapsed = runtime.clock() - request.started_at
        runtime.latency.observe(elapsed)
        if runtime.log_lines:
            self._log_line(request, status, size, rule, target, elapsed)

    def _log_line(
        self, request: Request, status: int, size: int, rule: str, target: str | None, elapsed: float
    ) -> None:
        record: dict[str, Any] = {
            "listener": self.name,
            "client": request.client_ip,
            "method": request.method.decode("latin-1"),
            "host": request.host.decode("latin-1"),
            "path": request.path.decode("latin-1"),
            "status": status,
            "bytes": size,
            "duration_ms": round(elapsed * 1000, 3),
            "rule": rule,
            "target": target,
            "tls_version": request.tls_version,
        }
        self.runtime.access_log.write(record)


def _pick_group(action: Action) -> str:
    forward = action.forward
    assert forward is not None
    if forward.target_group is not None:
        return forward.target_group
    groups = forward.target_groups or []
    return random.choices([g.name for g in groups], weights=[g.weight for g in groups])[0]
