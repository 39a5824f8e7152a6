"""Origin requests: signing, connection attempts and primary → secondary failover."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence

from originguard.edge.origins import CompiledOrigin, OriginTarget
from originguard.edge.runtime import EdgeRuntime
from originguard.edge.signing import origin_request_headers, viewer_cuts
from originguard.errors import UpstreamError
from originguard.http.client import InterimSink, UpstreamResponse
from originguard.http.interim import interim_head
from originguard.http.message import Request
from originguard.http.writer import ResponseWriter

log = logging.getLogger("originguard.edge")

PASSIVE_FAIL_TIMEOUT = 10.0  # seconds a failover member is tried last after a failed connect

Header = tuple[bytes, bytes]

# A cache fill asks for the whole representation: the viewer's own conditionals and ranges are
# answered by the edge from what it stores (RFC 9111 §4.3.2), never passed through.
FILL_DROPS = frozenset(
    {b"if-none-match", b"if-modified-since", b"if-match", b"if-unmodified-since", b"range", b"if-range"}
)


async def fetch_from_origin(
    runtime: EdgeRuntime,
    target: OriginTarget,
    request: Request,
    *,
    method: bytes,
    extra: Sequence[Header] = (),
    drop: frozenset[bytes] = frozenset(),
    body: bytes | AsyncIterator[bytes] | None = None,
    content_length: int | None = None,
    interim: ResponseWriter | None = None,
    upgrade: bool = False,
) -> tuple[UpstreamResponse, CompiledOrigin]:
    """Send the request to the target's origins in order; raise the last UpstreamError if all fail.

    A connect that failed sent nothing, so any request (a streamed body too) is tried again on
    the same origin (`connection_attempts`, refused connects) and then fails over to the next
    member; a member whose connect failed goes last for PASSIVE_FAIL_TIMEOUT (nginx's
    `max_fails=1`). After a status failover or any other error only replayable requests go on:
    the origin may have acted on the request. The origin's interim heads (103 Early Hints...) go
    to `interim`, the viewer's response, when one is given (http/interim.py). `upgrade` (a
    WebSocket handshake, edge/websocket.py) takes a 101 as the response."""
    replayable = body is None or isinstance(body, bytes)
    now = runtime.pool.loop.time()
    members = reachable_first(target.members, runtime.origin_out_until, now)
    last_error: UpstreamError | None = None
    for index, origin in enumerate(members):
        is_last = index == len(members) - 1
        headers = origin_request_headers(
            request.headers,
            origin.signing,
            client_ip=request.client_ip,
            scheme=request.scheme,
            edge_name=runtime.view.node.name,
            host=None if origin.config.host_header == "forward" else origin.host_bytes,
            drop=drop,
        )
        headers.extend(extra)
        attempts = origin.config.connection_attempts
        for attempt in range(attempts):
            try:
                response = await runtime.pool.request(
                    origin.upstream(request.scheme),
                    method,
                    request.path + (b"?" + request.query if request.query else b""),
                    headers,
                    body,
                    content_length=content_length,
                    read_timeout=origin.config.read_timeout,
                    on_interim=None if interim is None else _interim_to(interim, runtime, origin),
                    upgrade=upgrade,
                )
            except UpstreamError as exc:
                runtime.origin_errors.inc((origin.id, exc.kind))
                last_error = exc
                if exc.kind == "connect" and attempt + 1 < attempts:
                    runtime.origin_retries.inc((origin.id,))
                    continue  # CloudFront's connection attempts: only refused connects are retried
                if exc.connecting and len(members) > 1:
                    _take_out(runtime, origin, now)
                break
            if response.status in target.failover_statuses and not is_last and replayable:
                log.warning("origin %s answered %d: failing over", origin.id, response.status)
                response.discard()
                break
            return response, origin
        if is_last or not (replayable or (last_error is not None and last_error.connecting)):
            break
        runtime.origin_retries.inc((origin.id,))
        log.warning("origin %s failed (%s): failing over to the next member", origin.id, last_error)
    assert last_error is not None or not target.members
    raise last_error or UpstreamError("connect", "no origin configured")


def _interim_to(response: ResponseWriter, runtime: EdgeRuntime, origin: CompiledOrigin) -> InterimSink:
    """Where an origin's interim heads go: to the viewer, cut as a final head is, with our Via."""

    def send(status: int, raw: bytes) -> None:
        view = runtime.view
        cuts = viewer_cuts(origin.signing, view.targeted)  # made only when an interim head comes
        response.send_interim(interim_head(raw, cuts, b"Via: " + view.via + b"\r\n"))

    return send


def reachable_first(
    members: tuple[CompiledOrigin, ...], out_until: dict[str, float], now: float
) -> tuple[CompiledOrigin, ...]:
    """A failover group's members, those taken out after a failed connect last (still tried:
    a group with every member out fails open, as a target group does)."""
    if len(members) < 2 or not out_until:
        return members
    reachable = tuple(m for m in members if out_until.get(m.id, 0.0) <= now)
    if len(reachable) == len(members):
        return members
    return (*reachable, *(m for m in members if m not in reachable))


def _take_out(runtime: EdgeRuntime, origin: CompiledOrigin, now: float) -> None:
    if runtime.origin_out_until.get(origin.id, 0.0) <= now:
        log.warning("origin %s is out for %gs after a failed connect", origin.id, PASSIVE_FAIL_TIMEOUT)
    runtime.origin_out_until[origin.id] = now + PASSIVE_FAIL_TIMEOUT
