"""Merging a 304 into the stored response (RFC 9111 §3.2, §4.3.4)."""

from __future__ import annotations

from originguard.cache import CacheEntry, Lookup, Revalidated, TtlBounds, decide, merge_304
from tests.unit.cache.cache_helpers import GET, NO_BOUNDS, NOW, date, stored

BODY = b"stored body"


def _merge(
    entry_headers: tuple[tuple[bytes, bytes], ...], headers_304: list[tuple[bytes, bytes]], at: float = 100
) -> tuple[CacheEntry, Revalidated]:
    entry = stored(*entry_headers, body=BODY)
    return entry, merge_304(
        entry, GET, headers_304, request_time=NOW + at, response_time=NOW + at, ttl=NO_BOUNDS
    )


def test_rfc9111_4_3_4_304_refreshes_freshness_and_headers() -> None:
    entry, result = _merge(
        ((b"Cache-Control", b"max-age=10"), (b"ETag", b'"v1"'), (b"X-Version", b"old")),
        [(b"Date", date(100)), (b"ETag", b'"v1"'), (b"Cache-Control", b"max-age=50"), (b"X-Version", b"new")],
    )
    assert result.store and result.entry is not None
    assert decide(GET, entry, NOW + 120).kind is Lookup.STALE_REVALIDATE
    assert decide(GET, result.entry, NOW + 120).kind is Lookup.HIT  # fresh again until +150
    wire = result.entry.wire_at(NOW + 120)
    assert b"X-Version: new" in wire and b"old" not in wire
    assert wire.endswith(b"\r\n\r\n" + BODY) and b"Age: 20" in wire


def test_rfc9111_3_2_304_never_changes_content_length_or_encoding() -> None:
    _, result = _merge(
        ((b"Cache-Control", b"max-age=10"), (b"ETag", b'"v1"'), (b"Content-Encoding", b"gzip")),
        [
            (b"ETag", b'"v1"'),
            (b"Content-Length", b"0"),
            (b"Content-Encoding", b"br"),
            (b"Connection", b"close"),
        ],
    )
    assert result.entry is not None
    wire = result.entry.wire_at(NOW + 100)
    assert b"Content-Length: %d" % len(BODY) in wire and b"Content-Encoding: gzip" in wire
    assert b"br" not in wire and b"Connection" not in wire


def test_rfc9111_4_3_4_mismatched_strong_validator_does_not_update() -> None:
    _, result = _merge(((b"Cache-Control", b"max-age=10"), (b"ETag", b'"v1"')), [(b"ETag", b'"v2"')])
    assert (result.entry, result.store, result.rfc) == (None, False, "9111 §4.3.4")


def test_rfc9111_4_3_4_304_that_turns_no_store_is_served_once_not_stored() -> None:
    _, result = _merge(
        ((b"Cache-Control", b"max-age=10"), (b"ETag", b'"v1"')), [(b"Cache-Control", b"no-store")]
    )
    assert result.entry is not None and not result.store


def test_rfc9213_targeted_field_survives_a_304_without_it() -> None:
    _, result = _merge(
        ((b"CDN-Cache-Control", b"max-age=500"), (b"Cache-Control", b"no-cache"), (b"ETag", b'"v1"')),
        [(b"Date", date(100)), (b"ETag", b'"v1"'), (b"Cache-Control", b"no-cache")],
    )
    assert result.entry is not None and result.store
    assert decide(GET, result.entry, NOW + 500).kind is Lookup.HIT  # still governed by max-age=500
    assert b"CDN-Cache-Control" not in result.entry.wire_at(NOW + 500)


def test_cloudfront_bounds_apply_after_a_304() -> None:
    entry = stored((b"Cache-Control", b"max-age=10"), (b"ETag", b'"v1"'))
    ttl = TtlBounds(min=0, default=60, max=30)
    result = merge_304(
        entry, GET, [(b"Cache-Control", b"max-age=999")], request_time=NOW, response_time=NOW, ttl=ttl
    )
    assert result.entry is not None and result.entry.fresh_until == NOW + 30
