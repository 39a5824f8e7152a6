# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Forwarding to a target: the plan (which target, which headers) and the relay fast path.

A forwarded request without a body goes to a warm pooled connection of its target as a relay
(http/relay.py): the response is streamed to the client from callbacks. Requests with a body, or
whose target has no idle connection yet, take the coroutine path (`forward`), which also goes on
to the next target when one fails to connect (`next_target`).
"""

from __future__ import annotations

import logging
from typing import Final

from originguard.errors import UpstreamError
from originguard.gate.rules import Match
from originguard.gate.runtime import GateRuntime
from originguard.gate.targets import PASSIVE_FAIL_TIMEOUT, Target, TargetGroupState
from originguard.http.app import HttpApp
from originguard.http.client import Upstream
from originguard.http.endpoints import ViewerEnd
from originguard.http.headers import HOP_BY_HOP, FieldSet, edit_head, fields_to_cut, strip_hop_by_hop
from originguard.http.message import Request
from originguard.http.relay import Relay, RelayHandler, head_to_edit, line_end, render_request
from originguard.http.tunnel import tunnel_response
from originguard.http.upgrade import UPGRADE_REQUEST_FIELDS, is_websocket_handshake
from originguard.http.wire import render_response
from originguard.http.writer import ResponseWriter
from originguard.proxy.forwarding import (
    declared_length,
    forwarded_fields,
    origin_form,
    stream_body,
    target_request_headers,
)

log = logging.getLogger("originguard.gate")

Header = tuple[bytes, bytes]
BAD_GATEWAY: Final = b"502 Bad Gateway: the target did not answer\n"
GATEWAY_TIMEOUT: Final = b"504 Gateway Timeout: the target took too long\n"
TEXT_PLAIN: Final = [(b"Content-Type", b"text/plain")]
# RFC 9110 §9.2.2: a client (and so a proxy) may send these again after a failed connection.
IDEMPOTENT: Final = frozenset({b"GET", b"HEAD", b"OPTIONS", b"TRACE", b"PUT", b"DELETE"})


class ForwardingApp(HttpApp):
    """What forwarding needs of a listener's app; `gate.app.GateListenerApp` is the one subclass.

    A base class rather than an import of gate.app, which calls into this module (that was a
    circle), and rather than a Protocol so the compiled relay handler still reaches these through
    a native vtable and attributes.
    """

    runtime: GateRuntime
    dropped: frozenset[bytes]  # request fields the target never sees
    cut_for_target: FieldSet  # those and the hop-by-hop fields, for edits of the request head

    def target_group_of(self, decision: Match) -> str:
        """The name of the target group `decision` forwards to."""
        raise NotImplementedError

    def log_request(self, request: Request, status: int, size: int, rule: str, target: str | None) -> None:
        """Count and log one answered request."""
        raise NotImplementedError


class ForwardPlan:
    """Where one admitted request goes and what it carries (chosen once, kept across a retry)."""

    __slots__ = ("group", "rule", "target")

    def __init__(self, rule: str, group: TargetGroupState, target: Target) -> None:
        self.rule = rule
        self.group = group
        self.target = target


def plan_forward(app: ForwardingApp, request: Request, decision: Match) -> ForwardPlan:
    """Pick the target (the group's algorithm)."""
    runtime = app.runtime
    name = decision.target_group  # a single group, read at compile time: no call for it
    group = runtime.groups[name if name is not None else app.target_group_of(decision)]
    pick = group.pick()
    if pick.failed_open:
        now = runtime.clock()
        if now >= runtime.fail_open_logged.get(group.name, 0.0):
            # Once a minute per group: a log line per request would itself become the outage.
            runtime.fail_open_logged[group.name] = now + 60.0
            log.warning("no healthy target in group %s: failing open to all targets", group.name)
    return ForwardPlan(decision.rule, group, pick.target)


def target_request_head(app: ForwardingApp, request: Request, client: ViewerEnd) -> bytes:
    """The whole request head a target gets for a body-less request: the viewer's head as it
    came, minus hop-by-hop, secret and gate-set fields, plus X-Forwarded-*; rendered from the
    parsed fields when the raw head is not at hand (split across reads, HTTP/1.0, absolute-form)."""
    raw = head_to_edit(request)
    if raw is None:
        return render_request(
            request.method, origin_form(request), target_request_headers(request, app.dropped)
        )
    cut = fields_to_cut(request.headers, app.cut_for_target)
    return edit_head(raw, line_end(request), request.headers, cut, forwarded_fields(request, client))


_CONTENT_LENGTH: Final = frozenset({b"content-length"})


def target_response_headers(headers: list[Header]) -> list[Header]:
    """What the client gets of a target's response head: no hop-by-hop fields, our own framing."""
    return strip_hop_by_hop(headers, drop=_CONTENT_LENGTH)


def upstream_failure(error: UpstreamError) -> tuple[int, bytes]:
    """The status and body for a target that failed before its response head."""
    return (504, GATEWAY_TIMEOUT) if error.kind == "timeout" else (502, BAD_GATEWAY)


class GateRelayHandler(RelayHandler):
    """The gate's decisions for its relays; `relay.context` is the request's ForwardPlan."""

    def __init__(self, app: ForwardingApp) -> None:
        self.app = app

    def error_response(self, relay: Relay, error: UpstreamError) -> bytes:
        status, text = upstream_failure(error)
        return render_response(status, TEXT_PLAIN, text, keep_alive=relay.request.keep_alive)

    def done(self, relay: Relay) -> None:
        plan = relay.context
        assert isinstance(plan, ForwardPlan)
        plan.target.outstanding -= 1
        if relay.retried:
            return  # the coroutine path sends it again and logs it
        if relay.error is not None and not relay.client_gone:
            self.app.runtime.upstream_errors.inc((plan.group.name, relay.error.kind))
            log.warning("target %s of group %s failed: %s", plan.target.address, plan.group.name, relay.error)
        self.app.log_request(relay.request, relay.status, relay.bytes_sent, plan.rule, plan.target.label)


async def forward(app: ForwardingApp, request: Request, response: ResponseWriter, plan: ForwardPlan) -> None:
    """The coroutine path of a forward: request bodies, cold pools, a relay handed back."""
    runtime = app.runtime
    body = stream_body(request.body) if request.body is not None else None
    target = plan.target
    tried: list[Target] = []
    headers = target_request_headers(request, app.dropped)
    # A WebSocket handshake asks the target for the same upgrade (the viewer's Upgrade and
    # Connection fields are hop-by-hop); any other Upgrade goes on as a plain request.
    upgrade = b"upgrade" in request.header_index() and is_websocket_handshake(request)
    if upgrade:
        headers.extend(UPGRADE_REQUEST_FIELDS)
    while True:
        target.outstanding += 1
        try:
            upstream = await runtime.pool.request(
                Upstream(target.address.host, target.address.port),
                request.method,
                origin_form(request),
                headers,
                body,
                content_length=declared_length(request) if request.body is not None else None,
                read_timeout=plan.group.read_timeout,
                on_interim=response.interim_sink(HOP_BY_HOP),  # 103 Early Hints and the like go on
                upgrade=upgrade,
            )
        except UpstreamError as exc:
            target.outstanding -= 1
            runtime.upstream_errors.inc((plan.group.name, exc.kind))
            log.warning("target %s of group %s failed: %s", target.address, plan.group.name, exc)
            tried.append(target)
            following = next_target(app, request, plan.group, target, exc, tried)
            if following is None:
                status, text = upstream_failure(exc)
                await response.send(status, TEXT_PLAIN, text)
                app.log_request(request, response.status, response.bytes_sent, plan.rule, target.label)
                return
            target = following
            continue
        break
    try:
        if upgrade and upstream.status == 101:
            app.log_request(request, 101, response.bytes_sent, plan.rule, target.label)
            await tunnel_response(response, upstream, plan.group.websocket_idle_timeout)
            return
        await response.start(upstream.status, target_response_headers(upstream.headers), upstream.length)
        while chunk := await upstream.read():
            await response.write(chunk)
        await response.end()
    except UpstreamError as exc:
        runtime.upstream_errors.inc((plan.group.name, exc.kind))
        log.warning("target %s of group %s failed: %s", target.address, plan.group.name, exc)
        response.close_after = True  # a half-sent response can only be cut off
        response.finished = True
    finally:
        target.outstanding -= 1
    app.log_request(request, response.status, response.bytes_sent, plan.rule, target.label)


def next_target(
    app: ForwardingApp,
    request: Request,
    group: TargetGroupState,
    failed: Target,
    error: UpstreamError,
    tried: list[Target],
) -> Target | None:
    """Where a request goes after `failed` gave no response, or None: answer the error.

    As nginx's `proxy_next_upstream error timeout` (its default): a connect that failed sent
    nothing, so any request may go to another target, and the failed one is out for new
    requests at once (`max_fails=1`). An idempotent body-less request (RFC 9110 §9.2.2) also
    goes on after a connection closed before a response; anything else may have been acted
    on, and is never sent twice."""
    if error.connecting:
        _take_out(app, group, failed, error)
    elif not (error.kind == "closed" and request.body is None and request.method in IDEMPOTENT):
        return None
    following = group.next_target(tried)
    if following is not None:
        app.runtime.retries.inc((group.name,))
    return following


def _take_out(app: ForwardingApp, group: TargetGroupState, target: Target, error: UpstreamError) -> None:
    if not target.passively_down:
        log.warning(
            "target %s of group %s is out for %gs after a failed connect (%s)",
            target.address,
            group.name,
            PASSIVE_FAIL_TIMEOUT,
            error.kind,
        )
    token = target.mark_failed()
    app.runtime.pool.loop.call_later(PASSIVE_FAIL_TIMEOUT, target.recover, token)
