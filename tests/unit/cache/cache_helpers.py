"""Builders shared by the cache tests: an origin response turned into a stored entry."""

from __future__ import annotations

from originguard.cache import (
    CacheEntry,
    RequestFacts,
    ResponseFacts,
    StoreDecision,
    TtlBounds,
    can_store,
    make_entry,
)
from originguard.cache.httpdate import format_http_date

NOW = 1_700_000_000.0
GET = RequestFacts.parse(b"GET", [])
NO_BOUNDS = TtlBounds(min=0, default=0, max=10**9, error_ttl=0)


def date(offset: float = 0.0) -> bytes:
    """An HTTP-date `offset` seconds from NOW."""
    return format_http_date(NOW + offset)


def response(*headers: tuple[bytes, bytes], status: int = 200, with_date: bool = True) -> ResponseFacts:
    """Response facts with a Date of NOW unless told otherwise."""
    fields = [(b"Date", date()), *headers] if with_date else list(headers)
    return ResponseFacts.parse(status, fields)


def decision(resp: ResponseFacts, ttl: TtlBounds = NO_BOUNDS, request: RequestFacts = GET) -> StoreDecision:
    """can_store at NOW."""
    return can_store(request, resp, ttl, NOW)


def stored(
    *headers: tuple[bytes, bytes],
    body: bytes = b"hello world",
    ttl: TtlBounds = NO_BOUNDS,
    status: int = 200,
    at: float = NOW,
) -> CacheEntry:
    """An entry stored at `at`, as the edge would build it; fails if the response is not storable."""
    resp = ResponseFacts.parse(status, [(b"Date", format_http_date(at)), *headers])
    verdict = can_store(GET, resp, ttl, at)
    assert verdict.store, verdict
    return make_entry(
        resp, body, lifetime=verdict.lifetime, no_stale=verdict.no_stale, request_time=at, response_time=at
    )


def request(method: bytes = b"GET", *headers: tuple[bytes, bytes]) -> RequestFacts:
    """Request facts from header pairs."""
    return RequestFacts.parse(method, list(headers))
