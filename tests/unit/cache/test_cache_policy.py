"""Storing (RFC 9111 §3) and lookup decisions (RFC 9111 §4, RFC 5861), each with its reason."""

from __future__ import annotations

import pytest

from originguard.cache import Lookup, RequestFacts, TtlBounds, decide, on_origin_error
from tests.unit.cache.cache_helpers import GET, NO_BOUNDS, NOW, decision, request, response, stored

H = tuple[bytes, bytes]
AUTH = request(b"GET", (b"Authorization", b"Bearer x"))
MIN_30 = TtlBounds(min=30, default=60, max=3600)

STORE_CASES: list[tuple[RequestFacts, list[H], int, TtlBounds, bool, str, str]] = [
    # (request, response headers, status, bounds, stored?, rfc, why)
    (GET, [(b"Cache-Control", b"max-age=60")], 200, NO_BOUNDS, True, "9111 §5.2.2.1", "fresh for 60 s"),
    (GET, [(b"Cache-Control", b"no-store, max-age=60")], 200, NO_BOUNDS, False, "9111 §5.2.2.5", "no-store"),
    (GET, [(b"Cache-Control", b"private, max-age=60")], 200, NO_BOUNDS, False, "9111 §5.2.2.7", "private"),
    (
        GET,
        [(b"Cache-Control", b'private="X", max-age=60')],
        200,
        NO_BOUNDS,
        False,
        "9111 §5.2.2.7",
        "qualified private",
    ),
    (
        GET,
        [(b"Cache-Control", b"no-cache"), (b"ETag", b'"a"')],
        200,
        NO_BOUNDS,
        True,
        "9111 §5.2.2.4",
        "no-cache stored",
    ),
    (
        GET,
        [(b"Cache-Control", b"no-store")],
        200,
        MIN_30,
        True,
        "CloudFront min TTL",
        "min TTL > 0 overrides no-store",
    ),
    (
        GET,
        [(b"Cache-Control", b"max-age=60"), (b"Set-Cookie", b"s=1")],
        200,
        NO_BOUNDS,
        False,
        "9111 §7.3",
        "Set-Cookie",
    ),
    (
        AUTH,
        [(b"Cache-Control", b"max-age=60")],
        200,
        NO_BOUNDS,
        False,
        "9111 §3.5",
        "Authorization, plain max-age",
    ),
    (
        AUTH,
        [(b"Cache-Control", b"public, max-age=60")],
        200,
        NO_BOUNDS,
        True,
        "9111 §5.2.2.1",
        "Authorization + public",
    ),
    (
        AUTH,
        [(b"Cache-Control", b"s-maxage=60")],
        200,
        NO_BOUNDS,
        True,
        "9111 §5.2.2.10",
        "Authorization + s-maxage",
    ),
    (
        AUTH,
        [(b"Cache-Control", b"must-revalidate, max-age=5")],
        200,
        NO_BOUNDS,
        True,
        "9111 §5.2.2.1",
        "Auth + must-revalidate",
    ),
    (
        GET,
        [(b"Cache-Control", b"max-age=60"), (b"Vary", b"*")],
        200,
        NO_BOUNDS,
        False,
        "9111 §4.1",
        "Vary: *",
    ),
    (GET, [(b"Cache-Control", b"max-age=60")], 206, NO_BOUNDS, False, "9111 §3", "206 is never stored"),
    (GET, [], 302, NO_BOUNDS, False, "9111 §4.2.2", "302 without freshness"),
    (GET, [(b"Cache-Control", b"max-age=60")], 302, NO_BOUNDS, True, "9111 §5.2.2.1", "302 with max-age"),
    (
        GET,
        [(b"Cache-Control", b"max-age=0")],
        200,
        NO_BOUNDS,
        False,
        "9111 §4.3.1",
        "stale on arrival, no validator",
    ),
    (
        GET,
        [(b"Cache-Control", b"max-age=0"), (b"ETag", b'"a"')],
        200,
        NO_BOUNDS,
        True,
        "9111 §5.2.2.1",
        "revalidatable",
    ),
    (
        request(b"GET", (b"Cache-Control", b"no-store")),
        [(b"Cache-Control", b"max-age=60")],
        200,
        NO_BOUNDS,
        False,
        "9111 §5.2.1.5",
        "request no-store",
    ),
    (request(b"POST"), [(b"Cache-Control", b"max-age=60")], 200, NO_BOUNDS, False, "9111 §3", "POST"),
    (
        GET,
        [(b"Cache-Control", b"no-store, must-understand, max-age=9")],
        200,
        NO_BOUNDS,
        True,
        "9111 §5.2.2.1",
        "9111 §5.2.2.3 must-understand overrides no-store for a known status",
    ),
    (GET, [(b"Cache-Control", b"max-age=60")], 304, NO_BOUNDS, False, "9111 §3", "a 304 only freshens"),
    (GET, [(b"Cache-Control", b"max-age=60")], 299, NO_BOUNDS, True, "9111 §5.2.2.1", "final status 299"),
    (GET, [(b"Cache-Control", b"max-age=60")], 400, NO_BOUNDS, True, "9111 §5.2.2.1", "final status 400"),
    (GET, [(b"Expires", b"Sun, 21 Nov 2286 04:46:39 GMT")], 599, NO_BOUNDS, True, "9111 §5.3", "599"),
    (GET, [], 599, NO_BOUNDS, False, "9111 §4.2.2", "599 is not heuristically cacheable"),
    (
        GET,
        [(b"Cache-Control", b"max-age=60, no-store, must-understand")],
        599,
        NO_BOUNDS,
        False,
        "9111 §5.2.2.3",
        "must-understand and a status we do not know: never stored",
    ),
    (
        GET,
        [(b"CDN-Cache-Control", b"max-age=60"), (b"Cache-Control", b"private")],
        200,
        NO_BOUNDS,
        True,
        "9111 §5.2.2.1",
        "RFC 9213: targeted field replaces Cache-Control private",
    ),
]


@pytest.mark.parametrize(
    ("req", "headers", "status", "bounds", "expected", "rfc", "why"),
    STORE_CASES,
    ids=[c[6] for c in STORE_CASES],
)
def test_rfc9111_3_can_store(
    req: RequestFacts, headers: list[H], status: int, bounds: TtlBounds, expected: bool, rfc: str, why: str
) -> None:
    verdict = decision(response(*headers, status=status), bounds, req)
    assert verdict.store is expected, verdict
    assert verdict.rfc == rfc
    assert verdict.reason


def test_rfc9111_5_2_2_4_no_cache_entry_is_never_fresh_nor_served_stale() -> None:
    entry = stored((b"Cache-Control", b"no-cache, stale-while-revalidate=60"), (b"ETag", b'"v"'))
    assert decide(GET, entry, NOW + 1).kind is Lookup.STALE_REVALIDATE
    assert not on_origin_error(entry, NOW + 1).serve_stale


def test_cloudfront_min_ttl_caches_no_store_for_min_ttl() -> None:
    entry = stored((b"Cache-Control", b"no-store"), ttl=MIN_30)
    assert decide(GET, entry, NOW + 29).kind is Lookup.HIT
    assert decide(GET, entry, NOW + 31).kind is Lookup.STALE_REVALIDATE


ETAGGED = (
    (b"Cache-Control", b"max-age=60"),
    (b"ETag", b'"v1"'),
    (b"Last-Modified", b"Tue, 14 Nov 2023 00:00:00 GMT"),
)

LOOKUP_CASES: list[tuple[RequestFacts, float, Lookup, str, str]] = [
    # (request, seconds after storing, kind, rfc, why)
    (GET, 10, Lookup.HIT, "9111 §4.2", "fresh"),
    (GET, 61, Lookup.STALE_REVALIDATE, "9111 §4.2", "stale: conditional request"),
    (request(b"HEAD"), 10, Lookup.HIT, "9111 §4.2", "HEAD served from the stored GET"),
    (request(b"POST"), 10, Lookup.PASS, "9111 §4", "unsafe method passes"),
    (request(b"GET", (b"If-None-Match", b'W/"v1"')), 10, Lookup.NOT_MODIFIED, "9110 §13.1", "INM weak match"),
    (request(b"GET", (b"If-None-Match", b'"v2"')), 10, Lookup.HIT, "9111 §4.2", "INM no match -> 200"),
    (
        request(b"GET", (b"Cache-Control", b"no-cache")),
        10,
        Lookup.STALE_REVALIDATE,
        "9111 §5.2.1.4",
        "req no-cache",
    ),
    (
        request(b"GET", (b"Pragma", b"no-cache")),
        10,
        Lookup.STALE_REVALIDATE,
        "9111 §5.2.1.4",
        "9111 §5.4 Pragma",
    ),
    (
        request(b"GET", (b"Cache-Control", b"max-age=5")),
        10,
        Lookup.STALE_REVALIDATE,
        "9111 §5.2.1.1",
        "req max-age",
    ),
    (
        request(b"GET", (b"Cache-Control", b"min-fresh=55")),
        10,
        Lookup.STALE_REVALIDATE,
        "9111 §5.2.1.3",
        "min-fresh",
    ),
    (request(b"GET", (b"Cache-Control", b"max-stale=10")), 65, Lookup.HIT, "9111 §5.2.1.2", "max-stale"),
    (
        request(b"GET", (b"Cache-Control", b"only-if-cached")),
        65,
        Lookup.GATEWAY_TIMEOUT,
        "9111 §5.2.1.7",
        "oic",
    ),
    (
        request(b"GET", (b"Cache-Control", b"no-store")),
        10,
        Lookup.HIT,
        "9111 §4.2",
        "9111 §5.2.1.5 may still hit",
    ),
]


@pytest.mark.parametrize(
    ("req", "after", "kind", "rfc", "why"), LOOKUP_CASES, ids=[c[4] for c in LOOKUP_CASES]
)
def test_rfc9111_4_decide(req: RequestFacts, after: float, kind: Lookup, rfc: str, why: str) -> None:
    result = decide(req, stored(*ETAGGED), NOW + after)
    assert (result.kind, result.rfc) == (kind, rfc), result


def test_rfc9111_4_3_1_stale_decision_carries_validators() -> None:
    result = decide(GET, stored(*ETAGGED), NOW + 61)
    assert dict(result.conditional) == {
        b"If-None-Match": b'"v1"',
        b"If-Modified-Since": b"Tue, 14 Nov 2023 00:00:00 GMT",
    }


def test_rfc9111_4_miss_and_pass_without_entry() -> None:
    assert decide(GET, None, NOW).kind is Lookup.MISS
    assert decide(request(b"GET", (b"Cache-Control", b"no-store")), None, NOW).kind is Lookup.PASS
    assert (
        decide(request(b"GET", (b"Cache-Control", b"only-if-cached")), None, NOW).kind
        is Lookup.GATEWAY_TIMEOUT
    )


def test_cdn_practice_request_directives_can_be_ignored() -> None:
    req = request(b"GET", (b"Cache-Control", b"no-cache"))
    assert decide(req, stored(*ETAGGED), NOW + 1, honor_request_directives=False).kind is Lookup.HIT


SWR = ((b"Cache-Control", b"max-age=60, stale-while-revalidate=30, stale-if-error=600"), (b"ETag", b'"v1"'))


@pytest.mark.parametrize(
    ("after", "kind"),
    [
        (59, Lookup.HIT),
        (61, Lookup.STALE_WHILE_REVALIDATE),
        (89, Lookup.STALE_WHILE_REVALIDATE),
        (91, Lookup.STALE_REVALIDATE),
    ],
)
def test_rfc5861_3_stale_while_revalidate_window(after: float, kind: Lookup) -> None:
    result = decide(GET, stored(*SWR), NOW + after)
    assert result.kind is kind
    if kind is Lookup.STALE_WHILE_REVALIDATE:
        assert result.conditional == ((b"If-None-Match", b'"v1"'),)


@pytest.mark.parametrize(("after", "serve"), [(30, True), (100, True), (659, True), (661, False)])
def test_rfc5861_4_stale_if_error_window(after: float, serve: bool) -> None:
    assert on_origin_error(stored(*SWR), NOW + after).serve_stale is serve


@pytest.mark.parametrize("directive", [b"must-revalidate", b"proxy-revalidate"])
def test_rfc9111_4_2_4_revalidate_directives_forbid_any_stale(directive: bytes) -> None:
    entry = stored(
        (b"Cache-Control", b"max-age=60, stale-while-revalidate=30, stale-if-error=60, " + directive)
    )
    assert decide(GET, entry, NOW + 61).kind is Lookup.STALE_REVALIDATE
    assert (
        decide(request(b"GET", (b"Cache-Control", b"max-stale")), entry, NOW + 61).kind
        is Lookup.STALE_REVALIDATE
    )
    assert not on_origin_error(entry, NOW + 61).serve_stale


def test_rfc5861_4_request_stale_if_error() -> None:
    entry = stored((b"Cache-Control", b"max-age=60"))
    req = request(b"GET", (b"Cache-Control", b"stale-if-error=100"))
    assert on_origin_error(entry, NOW + 100, req).serve_stale
    assert not on_origin_error(entry, NOW + 100).serve_stale
