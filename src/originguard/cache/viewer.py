"""Answering a viewer from a stored entry: full, HEAD, 304, 206 and 416 responses as bytes."""

from __future__ import annotations

from typing import Final, Literal

from originguard.cache.entry import CacheEntry
from originguard.cache.facts import RequestFacts
from originguard.cache.freshness import current_age
from originguard.cache.httpdate import format_http_date, parse_http_date

_NOT_MODIFIED_FIELDS: Final = frozenset(
    {b"cache-control", b"content-location", b"date", b"etag", b"expires", b"vary"}
)
"""RFC 9110 §15.4.5: what a 304 carries (plus Last-Modified when there is no ETag)."""

RangeOutcome = tuple[int, int] | Literal["ignore", "unsatisfiable"]


def respond(stored: CacheEntry, request: RequestFacts, now: float) -> bytes:
    """The bytes answering `request` from `stored`: conditionals first, then HEAD, then Range."""
    if request.plain:
        return stored.wire_at(now)
    if not_modified(stored, request):
        return not_modified_response(stored, now)
    if request.method == b"HEAD":
        return stored.head_at(now)
    if request.range is not None and stored.status == 200 and _if_range_holds(stored, request.if_range):
        return _ranged(stored, request.range, now)
    return stored.wire_at(now)


def not_modified(stored: CacheEntry, request: RequestFacts) -> bool:
    """Does a viewer precondition make the answer 304 (RFC 9110 §13.1.2, §13.1.3, RFC 9111 §4.3.2)."""
    if not 200 <= stored.status < 300 or request.method not in (b"GET", b"HEAD"):
        return False
    if request.if_none_match is not None:
        # If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2) and compares weakly.
        return weak_match(request.if_none_match, stored.header(b"etag"))
    if request.if_modified_since is not None:
        since = parse_http_date(request.if_modified_since)
        if since is None:
            return False  # an invalid date is ignored (RFC 9110 §13.1.3)
        # RFC 9111 §4.3.2: without Last-Modified, the stored Date stands in.
        changed = stored.header(b"last-modified") or stored.header(b"date")
        when = parse_http_date(changed) if changed is not None else None
        return when is not None and when <= since
    return False


def weak_match(if_none_match: bytes, etag: bytes | None) -> bool:
    """RFC 9110 §8.8.3.2 weak comparison of an If-None-Match list against the stored ETag."""
    if etag is None:
        return False
    if if_none_match.strip() == b"*":
        return True
    opaque = etag.removeprefix(b"W/")
    return any(tag.strip().removeprefix(b"W/") == opaque for tag in if_none_match.split(b","))


def not_modified_response(stored: CacheEntry, now: float) -> bytes:
    """A 304 built from the stored fields a 304 may carry."""
    fields = stored.headers()
    has_etag = any(n.lower() == b"etag" for n, _ in fields)
    lines = [
        b"%s: %s\r\n" % (n, v)
        for n, v in fields
        if n.lower() in _NOT_MODIFIED_FIELDS or (not has_etag and n.lower() == b"last-modified")
    ]
    age = int(current_age(stored, now))
    return b"HTTP/1.1 304 Not Modified\r\nAge: %d\r\n%s\r\n" % (age, b"".join(lines))


def parse_range(value: bytes, length: int) -> RangeOutcome:
    """One byte range (first, last inclusive) of a `length`-byte body (RFC 9110 §14.1.2)."""
    unit, eq, spec = value.partition(b"=")
    if not eq or unit.strip().lower() != b"bytes" or b"," in spec:
        return "ignore"  # other units and multipart ranges: a full 200 is allowed (RFC 9110 §14.2)
    first, dash, last = spec.strip().partition(b"-")
    if (
        not dash
        or not (first or last)
        or not (first.isdigit() or not first)
        or not (last.isdigit() or not last)
    ):
        return "ignore"
    if not first:  # suffix range: the last N bytes
        suffix = int(last)
        if suffix == 0 or length == 0:
            return "unsatisfiable"
        return (max(0, length - suffix), length - 1)
    start = int(first)
    if last and int(last) < start:
        return "ignore"  # an invalid range-spec makes the field invalid, hence ignored
    if start >= length:
        return "unsatisfiable"
    return (start, min(int(last), length - 1) if last else length - 1)


def _if_range_holds(stored: CacheEntry, if_range: bytes | None) -> bool:
    """RFC 9110 §13.1.5: Range applies only while the If-Range validator still matches."""
    if if_range is None:
        return True
    if if_range.startswith((b'"', b"W/")):
        etag = stored.header(b"etag")
        return etag is not None and not etag.startswith(b"W/") and etag == if_range  # strong comparison
    last_modified = stored.header(b"last-modified")
    when = parse_http_date(if_range)
    return when is not None and last_modified is not None and parse_http_date(last_modified) == when


def _ranged(stored: CacheEntry, range_value: bytes, now: float) -> bytes:
    """A 206 for one satisfiable range, a 416 when none is, a 200 when Range is ignored."""
    wire = stored.wire_at(now)
    head_len = wire.index(b"\r\n\r\n") + 4
    length = len(wire) - head_len
    outcome = parse_range(range_value, length)
    if outcome == "ignore":
        return wire
    if outcome == "unsatisfiable":
        return (
            b"HTTP/1.1 416 Range Not Satisfiable\r\nDate: %s\r\nContent-Range: bytes */%d\r\n"
            b"Content-Length: 0\r\n\r\n" % (format_http_date(now), length)
        )
    start, end = outcome
    lines = b"".join(b"%s: %s\r\n" % (n, v) for n, v in stored.headers() if n.lower() != b"content-length")
    head = (
        b"HTTP/1.1 206 Partial Content\r\nAge: %d\r\n%s"
        b"Content-Range: bytes %d-%d/%d\r\nContent-Length: %d\r\n\r\n"
        % (
            int(current_age(stored, now)),
            lines,
            start,
            end,
            length,
            end - start + 1,
        )
    )
    return b"".join((head, memoryview(wire)[head_len + start : head_len + end + 1]))
