"""The edge's slow path: WAF on bodies, then the thin async driver of `edge.fill`.

The decisions are `edge.fill`'s (pure): how to route a lookup, what each step of an origin fill
does next, how each viewer of a collapsed fill is answered. This module performs the actions
they return (origin requests, reads, the WAF's response rules, the store, the sends).
Concurrent misses for one key share one origin request (`Collapser`); a follower reuses the
leader's result only when it was stored, so a private answer never reaches another viewer.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, assert_never

from originguard.cache import CacheEntry, RequestFacts, TtlBounds, cache_key, respond
from originguard.edge import routing
from originguard.edge.compression import CompressionPolicy, coding_key, request_coding
from originguard.edge.fetch import FILL_DROPS, fetch_from_origin
from originguard.edge.fill import (
    HIT_MARK,
    Conditional,
    Fetch,
    Filled,
    FillMachine,
    FillOutcome,
    Finish,
    Read304,
    ReadBody,
    Reply,
    Step,
    Store,
    Vet,
    after_fill,
    lookup,
)
from originguard.edge.origins import CompiledOrigin
from originguard.edge.passthrough import pass_through, send_origin_error, viewer_headers
from originguard.edge.signing import OriginSigning, viewer_response_headers
from originguard.errors import UpstreamError
from originguard.http.body import Body
from originguard.http.client import UpstreamResponse
from originguard.http.headers import content_length
from originguard.http.message import Request
from originguard.http.writer import ResponseWriter
from originguard.proxy.forwarding import declared_length

if TYPE_CHECKING:
    from originguard.edge.listener import EdgeContext, EdgeListener
    from originguard.waf import Verdict

log = logging.getLogger("originguard.edge")


@dataclass
class Fill:
    """One (collapsed) origin fetch for a cache key: its pure outcome, and the I/O objects the
    viewers' answers need."""

    outcome: FillOutcome
    upstream: UpstreamResponse | None = None  # unread body, too big to store: only the leader streams it
    head: list[tuple[bytes, bytes]] | None = None
    body: bytes = b""
    error: UpstreamError | None = None
    signing: OriginSigning | None = None
    blocked: Verdict | None = None  # the WAF's CRS response rules refused the response: not stored


_FILL_DROPS_CODED = FILL_DROPS | {b"accept-encoding"}


def _coding(request: Request, compression: CompressionPolicy) -> bytes:
    """The coding this request's copy is kept in (identity for ranges: they address origin bytes)."""
    return request_coding(
        request.header(b"accept-encoding"), request.header(b"range") is not None, compression
    )


async def serve_slow_path(
    app: EdgeListener, request: Request, response: ResponseWriter, context: EdgeContext
) -> None:
    """Answer a request the fast path could not."""
    runtime = app.runtime
    behavior = context.behavior
    target = runtime.view.origins[behavior.config.origin]
    body: bytes | AsyncIterator[bytes] | None = None
    length = None
    if request.body is not None:
        length = declared_length(request)
        body = await _inspect_body(app, request, request.body, context)
        if context.verdict is not None and context.verdict.blocked:
            wire = app.blocked_wire(request, context.verdict)
            response.close_after = True  # the rest of the body stays unread
            response.send_prebuilt(int(wire[9:12]), wire)
            return
    if context.route == routing.RELAY or context.route == routing.PASS:  # not cached
        result = await pass_through(app, request, response, target, body, length, context.key_policy)
        app.log(request, response.status, response.bytes_sent, result, context.verdict)
        return
    facts = RequestFacts.parse(request.method, request.headers)
    key = cache_key(request.host, request.path, request.query, request.headers, context.key_policy)
    compression = behavior.compression
    if compression is not None:
        key = coding_key(key, _coding(request, compression))
    stored = runtime.store.get(key, request.headers)
    routed = lookup(facts, stored, runtime.clock(), in_flight=runtime.collapser.in_flight(key))
    step = routed.step
    if step is Step.HIT and stored is not None:
        await _send_entry(app, request, response, stored, facts, b"Hit", context)
    elif step is Step.GATEWAY_TIMEOUT:
        await response.send(504, [(b"Content-Type", b"text/plain")], b"only-if-cached: not in cache\n")
        app.log(request, 504, response.bytes_sent, "Error", context.verdict)
    elif step is Step.PASS:
        result = await pass_through(app, request, response, target, None, None, context.key_policy)
        app.log(request, response.status, response.bytes_sent, result, context.verdict)
    elif step is Step.STALE_HIT and stored is not None:
        if routed.refresh:
            # RFC 5861 §3: one background refresh; every viewer meanwhile gets the stale copy.
            runtime.pool.loop.create_task(
                _background_refresh(app, request, context, key, stored, routed.conditional)
            )
        await _send_entry(app, request, response, stored, facts, b"Hit", context, result="StaleHit")
    else:  # MISS, REVALIDATE, FOLLOW
        await _fill_and_answer(app, request, response, context, key, stored, routed.conditional, facts)


async def _fill_and_answer(
    app: EdgeListener,
    request: Request,
    response: ResponseWriter,
    context: EdgeContext,
    key: bytes,
    stored: CacheEntry | None,
    conditional: Conditional,
    facts: RequestFacts,
) -> None:
    runtime = app.runtime

    async def fetch() -> Fill:
        return await _fill(app, request, context, key, stored, conditional, interim=response)

    fill, leader = await runtime.collapser.run(key, fetch)
    assert isinstance(fill, Fill)
    reply = after_fill(fill.outcome, leader=leader, stored=stored, request=facts, now=runtime.clock())
    if reply is Reply.REFETCH:
        fill = await fetch()
        reply = after_fill(fill.outcome, leader=True, stored=stored, request=facts, now=runtime.clock())
    if reply is Reply.BLOCKED:
        assert fill.blocked is not None
        wire = app.blocked_wire(request, fill.blocked)
        response.send_prebuilt(int(wire[9:12]), wire)
    elif reply is Reply.STALE and stored is not None:
        await _send_entry(app, request, response, stored, facts, b"Hit", context, result="StaleHit")
        if fill.upstream is not None:
            fill.upstream.discard()
    elif reply is Reply.ERROR:
        assert fill.error is not None
        await send_origin_error(response, fill.error)
        app.log(request, response.status, response.bytes_sent, "Error", context.verdict)
    elif reply is Reply.ENTRY and fill.outcome.entry is not None:
        mark = b"RefreshHit" if fill.outcome.refreshed else b"Miss"
        await _send_entry(app, request, response, fill.outcome.entry, facts, mark, context)
    else:
        await _send_unstored(app, request, response, fill, context)


async def _fill(
    app: EdgeListener,
    request: Request,
    context: EdgeContext,
    key: bytes,
    stored: CacheEntry | None,
    conditional: Conditional,
    *,
    interim: ResponseWriter | None = None,
) -> Fill:
    """Run one `FillMachine`: perform each action it returns, feed back what happened. The
    origin's interim heads go to `interim` (the fetching viewer's response), never to the store."""
    runtime = app.runtime
    view = runtime.view
    compression = context.behavior.compression
    coding = b"" if compression is None else _coding(request, compression)
    machine = FillMachine(
        RequestFacts.parse(b"GET", request.headers),
        TtlBounds.from_config(context.behavior.config.ttl),
        stored=stored,
        conditional=conditional,
        targeted=view.targeted,
        hit_head=view.hit_head,
        max_object_bytes=runtime.store.max_object_bytes,
        compression=compression,
        coding=coding,
    )
    action = machine.start(runtime.clock())
    upstream: UpstreamResponse | None = None
    origin: CompiledOrigin | None = None
    origin_headers: list[tuple[bytes, bytes]] = []
    body = b""
    blocked: Verdict | None = None
    while not isinstance(action, Finish):
        try:
            if isinstance(action, Fetch):
                started = runtime.pool.loop.time()
                # (A refetch after a 304 that matched nothing: that 304 was read to its end and its
                # connection pooled again; reading it once more would hand the connection out twice.)
                extra, drop = action.conditional, FILL_DROPS
                if compression is not None:
                    # The copy is filled for one coding: the origin may send it so encoded, or
                    # plain for us to compress, never one this key's next viewer may not accept.
                    extra, drop = (*extra, (b"Accept-Encoding", coding or b"identity")), _FILL_DROPS_CODED
                upstream, origin = await fetch_from_origin(
                    runtime,
                    view.origins[context.behavior.config.origin],
                    request,
                    method=b"GET",
                    extra=extra,
                    drop=drop,
                    interim=interim,
                )
                runtime.origin_latency.observe(runtime.pool.loop.time() - started)
                # What the cache keeps is what viewers get: never an echoed secret header, never hop-by-hop.
                origin_headers = viewer_response_headers(upstream.headers, origin.signing)
                length = content_length(upstream.headers)
                action = machine.head(upstream.status, origin_headers, length, runtime.clock())
            elif isinstance(action, Read304):
                assert upstream is not None
                await upstream.read_all()
                action = machine.body_304_read(runtime.clock())
            elif isinstance(action, ReadBody):
                assert upstream is not None
                body, complete = await _read_bounded(upstream, action.limit)
                action = machine.body(body, complete)
            elif isinstance(action, Vet):
                assert upstream is not None
                # CRS's response rules (data leakage, web shells) vet the copy once, before it is
                # stored: hits then serve it without inspecting it again.
                verdict = app.inspect_response(request, upstream.status, origin_headers, body)
                if verdict is not None and verdict.blocked:
                    blocked = verdict
                action = machine.vetted(blocked is not None)
            elif isinstance(action, Store):
                action = machine.put_done(runtime.store.put(key, action.entry, action.vary, request.headers))
            else:
                assert_never(action)
        except UpstreamError as exc:
            # No answer, or the origin broke off mid-body (or sent bytes that are not HTTP): nothing
            # to store, and the caller may still answer from a stale copy (RFC 9111 §4.2.4).
            return Fill(machine.failed(f"origin {exc.kind} error").outcome, error=exc)
    outcome = action.outcome
    if upstream is None or origin is None:
        return Fill(outcome)
    return Fill(
        outcome,
        upstream=upstream if outcome.kind is Filled.UNSTORED else None,
        head=upstream.headers,
        body=body,
        signing=origin.signing,
        blocked=blocked,
    )


async def _send_entry(
    app: EdgeListener,
    request: Request,
    response: ResponseWriter,
    entry: CacheEntry,
    facts: RequestFacts,
    mark: bytes,
    context: EdgeContext,
    *,
    result: str | None = None,
) -> None:
    wire = respond(entry, facts, app.runtime.clock())
    if mark != b"Hit":
        wire = wire.replace(HIT_MARK, b"X-Cache: " + mark + b" from originguard", 1)
    if not request.keep_alive:
        line_end = wire.index(b"\r\n") + 2
        wire = wire[:line_end] + b"Connection: close\r\n" + wire[line_end:]
        response.close_after = True
    status = int(wire[9:12])
    response.send_prebuilt(status, wire)
    await response.conn.drain()
    app.log(request, status, len(wire), result or mark.decode(), context.verdict)


async def _send_unstored(
    app: EdgeListener, request: Request, response: ResponseWriter, fill: Fill, context: EdgeContext
) -> None:
    assert fill.signing is not None and fill.head is not None
    headers = viewer_headers(app, fill.head, fill.signing, b"Miss")
    if fill.upstream is None:
        await response.send(fill.outcome.status, headers, fill.body)
    else:
        length = content_length(fill.head)
        await response.start(fill.outcome.status, headers, length)
        try:
            await response.write(fill.body)  # what was read before it proved too big to store
            while chunk := await fill.upstream.read():
                await response.write(chunk)
            await response.end()
        except UpstreamError:
            response.close_after = True
            response.finished = True
    app.log(request, response.status, response.bytes_sent, "Miss", context.verdict)


async def _background_refresh(
    app: EdgeListener,
    request: Request,
    context: EdgeContext,
    key: bytes,
    stored: CacheEntry,
    conditional: Conditional,
) -> None:
    async def fetch() -> Fill:
        return await _fill(app, request, context, key, stored, conditional)

    try:
        fill, _ = await app.runtime.collapser.run(key, fetch)
        if isinstance(fill, Fill) and fill.upstream is not None:
            fill.upstream.discard()
    except Exception:  # a failed background refresh must never reach the viewer it serves
        log.exception("background refresh of %r failed", key)


async def _inspect_body(
    app: EdgeListener, request: Request, body: Body, context: EdgeContext
) -> AsyncIterator[bytes]:
    """Run the WAF on the first N KiB (verdict in `context`); the whole body is still forwarded."""
    waf = app.runtime.view.waf
    if waf is None:
        return _chain(b"", body)
    limit = waf.acl.body_limit
    prefix = b""
    while len(prefix) < limit and (chunk := await body.read()):
        prefix += chunk
    truncated = not body.complete or len(prefix) > limit
    context.verdict = app.inspect(request, prefix[:limit], truncated)
    return _chain(prefix, body)


async def _chain(prefix: bytes, body: Body) -> AsyncIterator[bytes]:
    if prefix:
        yield prefix
    while chunk := await body.read():
        yield chunk


async def _read_bounded(upstream: UpstreamResponse, limit: int) -> tuple[bytes, bool]:
    """Up to `limit` bytes of the body, and whether that was all of it."""
    parts: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = await upstream.read()
        if not chunk:
            return b"".join(parts), True
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts), False
