"""The edge's slow path: WAF on bodies, cache decisions, collapsed origin fetches, stale serving.

RFC 9111 decisions come from `originguard.cache` (pure); this module only does the I/O they ask
for. Concurrent misses for one key share one origin request (`Collapser`); a follower reuses the
leader's result only when it was stored, so a private answer never reaches another viewer.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from originguard.cache import (
    CacheEntry,
    Lookup,
    RequestFacts,
    ResponseFacts,
    TtlBounds,
    cache_key,
    can_store,
    decide,
    make_entry,
    merge_304,
    on_origin_error,
    respond,
)
from originguard.edge.fetch import FILL_DROPS, fetch_from_origin
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

HIT_MARK = b"X-Cache: Hit from originguard"


@dataclass
class Fill:
    """The outcome of one (collapsed) origin fetch for a cache key."""

    entry: CacheEntry | None = None
    stored: bool = False
    refreshed: bool = False
    upstream: UpstreamResponse | None = None  # unread body, too big to store: only the leader streams it
    head: list[tuple[bytes, bytes]] | None = None
    body: bytes = b""
    status: int = 0
    error: UpstreamError | None = None
    signing: OriginSigning | None = None
    blocked: Verdict | None = None  # the WAF's CRS response rules refused the response: not stored


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
    if not behavior.config.cache or request.method not in (b"GET", b"HEAD"):
        result = await pass_through(app, request, response, target, body, length, context.key_policy)
        app.log(request, response.status, response.bytes_sent, result, context.verdict)
        return
    facts = RequestFacts.parse(request.method, request.headers)
    key = cache_key(request.host, request.path, request.query, request.headers, context.key_policy)
    now = runtime.clock()
    stored = runtime.store.get(key, request.headers)
    decision = decide(facts, stored, now)
    kind = decision.kind
    if kind in (Lookup.HIT, Lookup.NOT_MODIFIED) and stored is not None:
        await _send_entry(app, request, response, stored, facts, b"Hit", context)
    elif kind is Lookup.GATEWAY_TIMEOUT:
        await response.send(504, [(b"Content-Type", b"text/plain")], b"only-if-cached: not in cache\n")
        app.log(request, 504, response.bytes_sent, "Error", context.verdict)
    elif kind is Lookup.PASS:
        result = await pass_through(app, request, response, target, None, None, context.key_policy)
        app.log(request, response.status, response.bytes_sent, result, context.verdict)
    elif kind is Lookup.STALE_WHILE_REVALIDATE and stored is not None:
        if not runtime.collapser.in_flight(key):
            # RFC 5861 §3: one background refresh; every viewer meanwhile gets the stale copy.
            runtime.pool.loop.create_task(
                _background_refresh(app, request, context, key, stored, decision.conditional)
            )
        await _send_entry(app, request, response, stored, facts, b"Hit", context, result="StaleHit")
    else:
        conditional = decision.conditional if kind is Lookup.STALE_REVALIDATE else ()
        await _fill_and_answer(app, request, response, context, key, stored, conditional, facts)


async def _fill_and_answer(
    app: EdgeListener,
    request: Request,
    response: ResponseWriter,
    context: EdgeContext,
    key: bytes,
    stored: CacheEntry | None,
    conditional: tuple[tuple[bytes, bytes], ...],
    facts: RequestFacts,
) -> None:
    runtime = app.runtime

    async def fetch() -> Fill:
        return await _fill(app, request, context, key, stored, conditional)

    fill, leader = await runtime.collapser.run(key, fetch)
    assert isinstance(fill, Fill)
    if not leader and not fill.stored:
        fill = await fetch()  # not shareable (private, too big, failed): this viewer asks itself
        leader = True
    if fill.blocked is not None:
        wire = app.blocked_wire(request, fill.blocked)
        response.send_prebuilt(int(wire[9:12]), wire)
        return
    if fill.error is not None or (stored is not None and fill.status in (500, 502, 503, 504)):
        if stored is not None and on_origin_error(stored, runtime.clock(), facts).serve_stale:
            # RFC 5861 §4: the origin failed; a stale copy beats an error page.
            await _send_entry(app, request, response, stored, facts, b"Hit", context, result="StaleHit")
            if fill.upstream is not None:
                fill.upstream.discard()
            return
        if fill.error is not None:
            await send_origin_error(response, fill.error)
            app.log(request, response.status, response.bytes_sent, "Error", context.verdict)
            return
    if fill.entry is not None and fill.stored:
        mark = b"RefreshHit" if fill.refreshed else b"Miss"
        await _send_entry(app, request, response, fill.entry, facts, mark, context)
        return
    await _send_unstored(app, request, response, fill, context)


async def _fill(
    app: EdgeListener,
    request: Request,
    context: EdgeContext,
    key: bytes,
    stored: CacheEntry | None,
    conditional: tuple[tuple[bytes, bytes], ...],
) -> Fill:
    """One origin fetch (GET, conditional when revalidating); stores what RFC 9111 allows."""
    runtime = app.runtime
    view = runtime.view
    ttl = TtlBounds.from_config(context.behavior.config.ttl)
    request_time = runtime.clock()
    started = runtime.pool.loop.time()
    try:
        upstream, origin = await fetch_from_origin(
            runtime,
            view.origins[context.behavior.config.origin],
            request,
            method=b"GET",
            extra=conditional,
            drop=FILL_DROPS,
        )
    except UpstreamError as exc:
        return Fill(error=exc)
    runtime.origin_latency.observe(runtime.pool.loop.time() - started)
    response_time = runtime.clock()
    request_facts = RequestFacts.parse(b"GET", request.headers)
    # What the cache keeps is what viewers get: never an echoed secret header, never hop-by-hop.
    origin_headers = viewer_response_headers(upstream.headers, origin.signing)
    if upstream.status == 304 and stored is not None and conditional:
        try:
            await upstream.read_all()
        except UpstreamError as exc:
            return Fill(error=exc)
        merged = merge_304(
            stored,
            request_facts,
            origin_headers,
            request_time=request_time,
            response_time=response_time,
            ttl=ttl,
            targeted=view.targeted,
        )
        if merged.entry is not None:
            entry = _with_hit_head(
                merged.entry, view.hit_head, request_facts, ttl, view.targeted, response_time
            )
            if merged.store:
                runtime.store.put(
                    key,
                    entry,
                    ResponseFacts.parse(entry.status, entry.headers(), view.targeted).vary,
                    request.headers,
                )
            return Fill(entry=entry, stored=True, refreshed=True, status=entry.status)
        # RFC 9111 §4.3.4: a 304 that describes nothing we hold cannot freshen it, and this viewer
        # asked for the content: fetch it whole. (That 304 was read to its end and its connection
        # pooled again; reading `upstream` once more would hand that connection out twice.)
        return await _fill(app, request, context, key, None, ())
    facts = ResponseFacts.parse(upstream.status, origin_headers, view.targeted)
    decision = can_store(request_facts, facts, ttl, response_time)
    limit = runtime.store.max_object_bytes
    length = content_length(upstream.headers)
    if not decision.store or (length is not None and length > limit):
        return Fill(upstream=upstream, head=upstream.headers, status=upstream.status, signing=origin.signing)
    try:
        body, complete = await _read_bounded(upstream, limit)
    except UpstreamError as exc:
        # The origin broke off mid-body (or sent bytes that are not HTTP): nothing to store, and
        # the caller may still answer from a stale copy (RFC 9111 §4.2.4) rather than fail with 500.
        return Fill(error=exc)
    if not complete:  # no Content-Length and bigger than an object may be: stream it through
        return Fill(
            upstream=upstream,
            head=upstream.headers,
            status=upstream.status,
            body=body,
            signing=origin.signing,
        )
    # CRS's response rules (data leakage, web shells) vet the copy once, before it is stored:
    # hits then serve it without inspecting it again.
    refused = app.inspect_response(request, upstream.status, origin_headers, body)
    if refused is not None and refused.blocked:
        return Fill(status=upstream.status, blocked=refused)
    entry = make_entry(
        facts,
        body,
        lifetime=decision.lifetime,
        no_stale=decision.no_stale,
        request_time=request_time,
        response_time=response_time,
        targeted=view.targeted,
        extra_head=view.hit_head,
    )
    stored_ok = runtime.store.put(key, entry, facts.vary, request.headers)
    return Fill(
        entry=entry,
        stored=stored_ok,
        status=upstream.status,
        head=upstream.headers,
        body=body,
        signing=origin.signing,
    )


def _with_hit_head(
    entry: CacheEntry,
    hit_head: bytes,
    request: RequestFacts,
    ttl: TtlBounds,
    targeted: tuple[bytes, ...],
    now: float,
) -> CacheEntry:
    """A 304-merged entry keeps our X-Cache/Via lines (merge_304 rebuilds the head without them)."""
    if HIT_MARK in entry.wire[: entry.head_len]:
        return entry
    facts = ResponseFacts.parse(
        entry.status, [(n, v) for n, v in entry.headers() if n.lower() not in _OWN], targeted
    )
    decision = can_store(request, facts, ttl, now)
    return make_entry(
        facts,
        entry.body,
        lifetime=decision.lifetime if decision.store else 0.0,
        no_stale=decision.no_stale if decision.store else True,
        request_time=now,
        response_time=now,
        targeted=targeted,
        extra_head=hit_head,
    )


_OWN = frozenset({b"x-cache", b"via", b"x-edge-location", b"age", b"content-length"})


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
        await response.send(fill.status, headers, fill.body)
    else:
        length = content_length(fill.head)
        await response.start(fill.status, headers, length)
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
    conditional: tuple[tuple[bytes, bytes], ...],
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
