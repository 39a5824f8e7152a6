"""Sans-IO RFC 9111 decisions: may a response be stored, and how is a request answered.

Every decision carries a short `reason` and the RFC section it follows; `now` is always passed in.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from originguard.cache.directives import NO_DIRECTIVES
from originguard.cache.entry import CacheEntry
from originguard.cache.facts import RequestFacts, ResponseFacts
from originguard.cache.freshness import TtlBounds, current_age, freshness_lifetime
from originguard.cache.viewer import not_modified

UNDERSTOOD_STATUSES: Final = frozenset(
    {200, 203, 204, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 451, 500, 501, 502, 503, 504}
)
"""Statuses whose caching rules this cache implements: the only ones stored under must-understand."""

NEVER_STORED: Final = frozenset({206, 304})
"""RFC 9111 §3: storing these needs rules we do not implement (combining ranges, §3.4; a 304 only
freshens, §4.3.4)."""

ORIGIN_ERROR_STATUSES: Final = frozenset({500, 502, 503, 504})
"""RFC 5861 §4: the statuses that count as an error for stale-if-error."""

CACHEABLE_METHODS: Final = frozenset({b"GET", b"HEAD"})


@dataclass(frozen=True, slots=True)
class StoreDecision:
    """Whether to store an origin response; `lifetime` seconds and `no_stale` apply when stored."""

    store: bool
    reason: str
    rfc: str
    lifetime: float = 0.0
    no_stale: bool = False


class Lookup(enum.Enum):
    """What the edge does with a request, given what is stored."""

    HIT = "hit"
    NOT_MODIFIED = "not-modified"
    STALE_WHILE_REVALIDATE = "stale-while-revalidate"
    STALE_REVALIDATE = "stale-revalidate"
    MISS = "miss"
    PASS = "pass"
    GATEWAY_TIMEOUT = "gateway-timeout"


@dataclass(frozen=True, slots=True)
class LookupDecision:
    """A lookup outcome; `conditional` holds If-None-Match / If-Modified-Since for the origin.

    Outcomes without conditional headers are shared constants: a hit allocates nothing.
    """

    kind: Lookup
    reason: str
    rfc: str
    conditional: tuple[tuple[bytes, bytes], ...] = ()


_FRESH: Final = LookupDecision(Lookup.HIT, "fresh", "9111 §4.2")
_MAX_STALE: Final = LookupDecision(Lookup.HIT, "stale within request max-stale", "9111 §5.2.1.2")
_NOT_MODIFIED: Final = LookupDecision(Lookup.NOT_MODIFIED, "viewer validator matches", "9110 §13.1")
_MISS: Final = LookupDecision(Lookup.MISS, "not stored", "9111 §4")
_NO_STORE_MISS: Final = LookupDecision(Lookup.PASS, "request no-store: fetch, do not store", "9111 §5.2.1.5")
_UNSAFE: Final = LookupDecision(Lookup.PASS, "method not cacheable", "9111 §4")
_ONLY_IF_CACHED_MISS: Final = LookupDecision(
    Lookup.GATEWAY_TIMEOUT, "only-if-cached and nothing stored", "9111 §5.2.1.7"
)
_ONLY_IF_CACHED_STALE: Final = LookupDecision(
    Lookup.GATEWAY_TIMEOUT, "only-if-cached and stored is stale", "9111 §5.2.1.7"
)


@dataclass(frozen=True, slots=True)
class StaleDecision:
    """Whether a stale entry may answer because the origin failed."""

    serve_stale: bool
    reason: str
    rfc: str


def can_store(
    request: RequestFacts,
    response: ResponseFacts,
    ttl: TtlBounds,
    now: float,
    *,
    honor_request_directives: bool = True,
) -> StoreDecision:
    """May this response to this request be stored, and for how long (RFC 9111 §3)."""
    cc = response.cache_control
    if request.method != b"GET":
        return StoreDecision(False, "only GET responses are stored", "9111 §3")
    # RFC 9111 §3: any final status may be stored; whether it gets a lifetime (explicit, or
    # heuristic for §4.2.2 statuses) is freshness_lifetime's call below.
    if response.status < 200 or response.status in NEVER_STORED:
        return StoreDecision(False, f"status {response.status} not stored", "9111 §3")
    if cc.must_understand and response.status not in UNDERSTOOD_STATUSES:
        return StoreDecision(False, f"must-understand and status {response.status} unknown", "9111 §5.2.2.3")
    if response.vary == (b"*",):
        return StoreDecision(False, "Vary: * never matches", "9111 §4.1")
    if honor_request_directives and request.cache_control.no_store:
        return StoreDecision(False, "request no-store", "9111 §5.2.1.5")
    if response.set_cookie:
        # A Set-Cookie answer belongs to one viewer; replaying it would hand out their session.
        return StoreDecision(False, "set-cookie", "9111 §7.3")
    if request.authorization and not (cc.public or cc.s_maxage is not None or cc.must_revalidate):
        return StoreDecision(False, "authorized request without public/s-maxage/must-revalidate", "9111 §3.5")
    # must-understand with a status we understand overrides no-store (§5.2.2.3).
    no_store = cc.no_store and not cc.must_understand
    if (no_store or cc.private or cc.no_cache) and ttl.min > 0:
        # CloudFront semantics: a minimum TTL above 0 caches even no-store/private/no-cache.
        return StoreDecision(
            True, "minimum TTL overrides no-store/private/no-cache", "CloudFront min TTL", ttl.min
        )
    if no_store:
        return StoreDecision(False, "no-store", "9111 §5.2.2.5")
    if cc.private:
        return StoreDecision(False, "private", "9111 §5.2.2.7")
    lifetime = freshness_lifetime(response, ttl, now)
    if lifetime is None:
        return StoreDecision(
            False, "no explicit freshness, status not heuristically cacheable", "9111 §4.2.2"
        )
    # A shared cache treats proxy-revalidate and s-maxage like must-revalidate (§5.2.2.8, §5.2.2.10);
    # an explicit RFC 5861 window still wins over the implied form, as the origin asked for it.
    no_stale = cc.must_revalidate or cc.proxy_revalidate or cc.no_cache
    if cc.no_cache:
        return StoreDecision(True, "no-cache: stored, revalidated on every use", "9111 §5.2.2.4", 0.0, True)
    if lifetime.seconds <= 0 and not _revalidatable(response):
        return StoreDecision(False, "stale on arrival and nothing to revalidate with", "9111 §4.3.1")
    return StoreDecision(True, lifetime.source, lifetime.rfc, lifetime.seconds, no_stale)


def decide(
    request: RequestFacts,
    stored: CacheEntry | None,
    now: float,
    *,
    honor_request_directives: bool = True,
) -> LookupDecision:
    """How to answer `request` given the matching stored entry (RFC 9111 §4)."""
    if request.plain and stored is not None and now < stored.fresh_until:
        return _FRESH
    if request.method not in CACHEABLE_METHODS:
        return _UNSAFE
    rcc = request.cache_control if honor_request_directives else None
    if stored is None:
        if rcc is not None and rcc.only_if_cached:
            return LookupDecision(
                Lookup.GATEWAY_TIMEOUT, "only-if-cached and nothing stored", "9111 §5.2.1.7"
            )
        if rcc is not None and rcc.no_store:
            return _NO_STORE_MISS
        return _MISS
    fresh, why, rfc = now < stored.fresh_until, "stale", "9111 §4.2"
    if rcc is not None and rcc is not NO_DIRECTIVES:
        if rcc.no_cache:
            return _revalidate(stored, "request no-cache", "9111 §5.2.1.4")
        if rcc.max_age is not None and current_age(stored, now) > rcc.max_age:
            fresh, why, rfc = False, "older than request max-age", "9111 §5.2.1.1"
        if rcc.min_fresh is not None and stored.fresh_until - now < rcc.min_fresh:
            fresh, why, rfc = False, "fresh for less than request min-fresh", "9111 §5.2.1.3"
        stale_for = now - stored.fresh_until
        if not fresh and not stored.no_stale and rcc.max_stale is not None and stale_for <= rcc.max_stale:
            return _MAX_STALE
    if fresh:
        if not request.plain and not_modified(stored, request):
            return _NOT_MODIFIED
        return _FRESH
    if not stored.no_stale and stored.swr_until is not None and now < stored.swr_until:
        return LookupDecision(
            Lookup.STALE_WHILE_REVALIDATE,
            "stale within stale-while-revalidate: serve, refresh once in background",
            "5861 §3",
            conditional_headers(stored),
        )
    if rcc is not None and rcc.only_if_cached:
        return _ONLY_IF_CACHED_STALE
    return _revalidate(stored, why, rfc)


def on_origin_error(stored: CacheEntry, now: float, request: RequestFacts | None = None) -> StaleDecision:
    """After a failed refresh (no answer or a 500/502/503/504), may the stale entry answer (RFC 5861 §4)."""
    if stored.no_stale:
        return StaleDecision(False, "must-revalidate/proxy-revalidate/no-cache forbid stale", "9111 §4.2.4")
    if now < stored.fresh_until:
        return StaleDecision(True, "still fresh", "9111 §4.2")
    if stored.sie_until is not None and now < stored.sie_until:
        return StaleDecision(True, "origin failed, within stale-if-error", "5861 §4")
    request_window = request.cache_control.stale_if_error if request is not None else None
    if request_window is not None and now - stored.fresh_until <= request_window:
        return StaleDecision(True, "origin failed, within request stale-if-error", "5861 §4")
    return StaleDecision(False, "no stale-if-error window", "5861 §4")


def conditional_headers(stored: CacheEntry) -> tuple[tuple[bytes, bytes], ...]:
    """If-None-Match / If-Modified-Since from the stored validators (RFC 9111 §4.3.1)."""
    etag, last_modified = None, None
    for name, value in stored.headers():
        lower = name.lower()
        if lower == b"etag" and etag is None:
            etag = value
        elif lower == b"last-modified" and last_modified is None:
            last_modified = value
    out: list[tuple[bytes, bytes]] = []
    if etag is not None:
        out.append((b"If-None-Match", etag))
    if last_modified is not None:
        out.append((b"If-Modified-Since", last_modified))
    return tuple(out)


def _revalidate(stored: CacheEntry, why: str, rfc: str) -> LookupDecision:
    """A conditional refresh of `stored`; without validators the refresh is a plain fetch."""
    headers = conditional_headers(stored)
    reason = f"{why}: revalidate" if headers else f"{why}: refetch (no validator)"
    return LookupDecision(Lookup.STALE_REVALIDATE, reason, rfc, headers)


def _revalidatable(response: ResponseFacts) -> bool:
    """Worth keeping while stale: a validator to revalidate with or a stale window to serve in."""
    cc = response.cache_control
    return (
        response.etag is not None
        or response.last_modified is not None
        or bool(cc.stale_while_revalidate)
        or bool(cc.stale_if_error)
    )
