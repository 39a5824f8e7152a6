"""Origin requests: signing, connection attempts and primary → secondary failover."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence

from originguard.edge.origins import CompiledOrigin, OriginTarget
from originguard.edge.runtime import EdgeRuntime
from originguard.edge.signing import origin_request_headers
from originguard.errors import UpstreamError
from originguard.http.client import UpstreamResponse
from originguard.http.message import Request

log = logging.getLogger("originguard.edge")

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
) -> tuple[UpstreamResponse, CompiledOrigin]:
    """Send the request to the target's origins in order; raise the last UpstreamError if all fail."""
    replayable = body is None or isinstance(body, bytes)
    last_error: UpstreamError | None = None
    for index, origin in enumerate(target.members):
        is_last = index == len(target.members) - 1
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
        attempts = origin.config.connection_attempts if replayable else 1
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
                )
            except UpstreamError as exc:
                runtime.origin_errors.inc((origin.id, exc.kind))
                last_error = exc
                if exc.kind == "connect" and attempt + 1 < attempts:
                    continue  # CloudFront's connection attempts: only refused connects are retried
                break
            if response.status in target.failover_statuses and not is_last and replayable:
                log.warning("origin %s answered %d: failing over", origin.id, response.status)
                response.discard()
                break
            return response, origin
        if not replayable or is_last:
            break
        log.warning("origin %s failed (%s): failing over to the next member", origin.id, last_error)
    assert last_error is not None or not target.members
    raise last_error or UpstreamError("connect", "no origin configured")
