"""Answers built from a stored entry: full, HEAD, 304 (RFC 9110 §13.1) and ranges (RFC 9110 §14)."""

from __future__ import annotations

import pytest

from originguard.cache import respond
from originguard.cache.viewer import parse_range
from tests.unit.cache.cache_helpers import NOW, request, stored

LM = b"Tue, 14 Nov 2023 00:00:00 GMT"
ENTRY_HEADERS = (
    (b"Cache-Control", b"max-age=600"),
    (b"ETag", b'"v1"'),
    (b"Last-Modified", LM),
    (b"Content-Type", b"text/plain"),
)
BODY = b"0123456789"


def _status_and_body(raw: bytes) -> tuple[bytes, dict[bytes, bytes], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    fields = {n.lower(): v.strip() for n, _, v in (line.partition(b":") for line in lines[1:])}
    return lines[0], fields, body


def test_rfc9111_4_full_hit_has_age_and_origin_date() -> None:
    entry = stored(*ENTRY_HEADERS, body=BODY)
    status, fields, body = _status_and_body(respond(entry, request(), NOW + 3))
    assert (status, body, fields[b"age"], fields[b"content-length"]) == (
        b"HTTP/1.1 200 OK",
        BODY,
        b"3",
        b"10",
    )
    assert fields[b"date"] == b"Tue, 14 Nov 2023 22:13:20 GMT"  # the origin's Date is kept


def test_rfc9110_9_3_2_head_gets_the_get_head_without_body() -> None:
    status, fields, body = _status_and_body(respond(stored(*ENTRY_HEADERS, body=BODY), request(b"HEAD"), NOW))
    assert (status, body, fields[b"content-length"]) == (b"HTTP/1.1 200 OK", b"", b"10")


CONDITIONALS = [
    ([(b"If-None-Match", b'"v1"')], True, "9110 §13.1.2 strong tag"),
    ([(b"If-None-Match", b'W/"v1"')], True, "9110 §13.1.2 weak comparison"),
    ([(b"If-None-Match", b'"x", "v1"')], True, "9110 §13.1.2 list"),
    ([(b"If-None-Match", b"*")], True, "9110 §13.1.2 star"),
    ([(b"If-None-Match", b'"x"')], False, "9110 §13.1.2 no match"),
    ([(b"If-Modified-Since", LM)], True, "9110 §13.1.3 not modified since"),
    ([(b"If-Modified-Since", b"Mon, 13 Nov 2023 00:00:00 GMT")], False, "9110 §13.1.3 modified since"),
    ([(b"If-Modified-Since", b"garbage")], False, "9110 §13.1.3 invalid date ignored"),
    ([(b"If-None-Match", b'"x"'), (b"If-Modified-Since", LM)], False, "9110 §13.2.2 INM wins over IMS"),
]


@pytest.mark.parametrize(("headers", "is_304", "why"), CONDITIONALS, ids=[c[2] for c in CONDITIONALS])
def test_rfc9110_13_1_viewer_conditionals_answered_from_cache(
    headers: list[tuple[bytes, bytes]], is_304: bool, why: str
) -> None:
    status, fields, body = _status_and_body(
        respond(stored(*ENTRY_HEADERS, body=BODY), request(b"GET", *headers), NOW)
    )
    if is_304:
        assert (status, body) == (b"HTTP/1.1 304 Not Modified", b"")
        assert fields[b"etag"] == b'"v1"' and b"content-type" not in fields  # RFC 9110 §15.4.5
    else:
        assert status == b"HTTP/1.1 200 OK"


def test_rfc9111_4_3_2_if_modified_since_uses_date_without_last_modified() -> None:
    entry = stored((b"Cache-Control", b"max-age=600"), body=BODY)
    req = request(b"GET", (b"If-Modified-Since", b"Tue, 14 Nov 2023 22:13:20 GMT"))
    assert respond(entry, req, NOW).startswith(b"HTTP/1.1 304")


RANGES = [
    (b"bytes=0-3", (0, 3), "first bytes"),
    (b"bytes=5-", (5, 9), "open end"),
    (b"bytes=-3", (7, 9), "suffix"),
    (b"bytes=-30", (0, 9), "suffix longer than the body"),
    (b"bytes=8-100", (8, 9), "end clamped"),
    (b"bytes=10-", "unsatisfiable", "start past the end"),
    (b"bytes=-0", "unsatisfiable", "empty suffix"),
    (b"bytes=5-2", "ignore", "invalid spec"),
    (b"bytes=0-1,3-4", "ignore", "several ranges: full 200"),
    (b"items=0-1", "ignore", "unknown unit"),
    (b"bytes=a-b", "ignore", "garbage"),
]


@pytest.mark.parametrize(("value", "expected", "why"), RANGES, ids=[c[2] for c in RANGES])
def test_rfc9110_14_1_2_parse_range(value: bytes, expected: object, why: str) -> None:
    assert parse_range(value, 10) == expected


def test_rfc9110_14_4_range_gives_206_with_content_range() -> None:
    raw = respond(stored(*ENTRY_HEADERS, body=BODY), request(b"GET", (b"Range", b"bytes=-3")), NOW)
    status, fields, body = _status_and_body(raw)
    assert (status, body) == (b"HTTP/1.1 206 Partial Content", b"789")
    assert (fields[b"content-range"], fields[b"content-length"]) == (b"bytes 7-9/10", b"3")


def test_rfc9110_15_5_17_unsatisfiable_range_gives_416() -> None:
    raw = respond(stored(*ENTRY_HEADERS, body=BODY), request(b"GET", (b"Range", b"bytes=50-")), NOW)
    status, fields, _ = _status_and_body(raw)
    assert (status, fields[b"content-range"]) == (b"HTTP/1.1 416 Range Not Satisfiable", b"bytes */10")


@pytest.mark.parametrize(
    ("if_range", "partial"),
    [
        (b'"v1"', True),
        (b'"v0"', False),
        (b'W/"v1"', False),
        (LM, True),
        (b"Mon, 13 Nov 2023 00:00:00 GMT", False),
    ],
)
def test_rfc9110_13_1_5_if_range(if_range: bytes, partial: bool) -> None:
    req = request(b"GET", (b"Range", b"bytes=0-1"), (b"If-Range", if_range))
    assert respond(stored(*ENTRY_HEADERS, body=BODY), req, NOW).startswith(
        b"HTTP/1.1 206" if partial else b"HTTP/1.1 200"
    )


def test_rfc9111_5_1_age_spliced_once_per_second() -> None:
    entry = stored(*ENTRY_HEADERS, body=BODY)
    first = entry.wire_at(NOW + 5.1)
    assert entry.wire_at(NOW + 5.9) is first  # same second: the same bytes object
    later = entry.wire_at(NOW + 6.0)
    assert later is not first and b"\r\nAge: 6\r\n" in later
    assert entry.wire_at(NOW + 1234).count(b"Age: 1234") == 1


def test_rfc9213_targeted_field_never_reaches_viewers() -> None:
    entry = stored(
        (b"CDN-Cache-Control", b"max-age=60"), (b"Originguard-Cache-Control", b"max-age=9"), body=BODY
    )
    assert b"cache-control" not in entry.wire_at(NOW).lower()
    assert entry.edge_directives == (b"Originguard-Cache-Control", b"max-age=9")


def test_rfc9111_3_1_hop_by_hop_fields_not_stored() -> None:
    entry = stored(
        (b"Cache-Control", b"max-age=60"),
        (b"Connection", b"close, X-Secret"),
        (b"X-Secret", b"1"),
        (b"Transfer-Encoding", b"chunked"),
        (b"Keep-Alive", b"timeout=5"),
        body=BODY,
    )
    head = entry.wire_at(NOW).lower()
    for name in (b"connection", b"x-secret", b"transfer-encoding", b"keep-alive"):
        assert name not in head
    assert b"content-length: 10" in head


def test_rfc9110_6_6_1_date_added_when_origin_sent_none() -> None:
    from originguard.cache import ResponseFacts, make_entry

    resp = ResponseFacts.parse(200, [(b"Cache-Control", b"max-age=60")])
    entry = make_entry(resp, b"x", lifetime=60, no_stale=False, request_time=NOW, response_time=NOW)
    assert b"\r\nDate: Tue, 14 Nov 2023 22:13:20 GMT\r\n" in entry.wire
