"""Freshness lifetime under a behaviour's TTLs and age arithmetic (RFC 9111 §4.2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from originguard.cache import TtlBounds, current_age, freshness_lifetime
from originguard.cache.freshness import corrected_initial_age, current_age_at
from originguard.cache.httpdate import format_http_date, parse_http_date
from tests.unit.cache.cache_helpers import NOW, date, response, stored

CLOUDFRONT = TtlBounds(min=0, default=60, max=3600)
MIN_10 = TtlBounds(min=10, default=60, max=3600)

LIFETIMES = [
    # (headers, status, bounds, seconds, source, why)
    ([(b"Cache-Control", b"max-age=100")], 200, CLOUDFRONT, 100, "max-age", "9111 §5.2.2.1 inside bounds"),
    (
        [(b"Cache-Control", b"max-age=99999")],
        200,
        CLOUDFRONT,
        3600,
        "max-age",
        "CloudFront: clamped to max TTL",
    ),
    ([(b"Cache-Control", b"max-age=0")], 200, MIN_10, 10, "max-age", "CloudFront: raised to min TTL"),
    (
        [(b"Cache-Control", b"s-maxage=30, max-age=100")],
        200,
        CLOUDFRONT,
        30,
        "s-maxage",
        "9111 §4.2.1 s-maxage first",
    ),
    ([(b"Expires", date(120))], 200, CLOUDFRONT, 120, "expires", "9111 §5.3 Expires - Date"),
    ([(b"Expires", b"0")], 200, CLOUDFRONT, 0, "expires", "9111 §5.3 invalid Expires = already expired"),
    (
        [(b"Expires", date(120)), (b"Cache-Control", b"max-age=5")],
        200,
        CLOUDFRONT,
        5,
        "max-age",
        "9111 §5.3 max-age wins",
    ),
    ([], 200, CLOUDFRONT, 60, "default-ttl", "CloudFront: no directive -> default TTL (9111 §4.2.2)"),
    ([], 404, CLOUDFRONT, 10, "error-ttl", "9111 §4.2.2 heuristic 404 gets the error TTL"),
    (
        [(b"Cache-Control", b"public")],
        302,
        CLOUDFRONT,
        60,
        "default-ttl",
        "9111 §4.2.2 public allows heuristics",
    ),
    (
        [(b"CDN-Cache-Control", b"max-age=500"), (b"Cache-Control", b"max-age=5")],
        200,
        CLOUDFRONT,
        500,
        "max-age",
        "RFC 9213 §2.1 targeted field wins",
    ),
    (
        [(b"CDN-Cache-Control", b"max-age=500"), (b"Originguard-Cache-Control", b"max-age=50")],
        200,
        CLOUDFRONT,
        50,
        "max-age",
        "RFC 9213 §2.1 our own field is first in the target list",
    ),
    (
        [(b"CDN-Cache-Control", b"public"), (b"Expires", date(1000))],
        200,
        CLOUDFRONT,
        60,
        "default-ttl",
        "RFC 9213 §2.1 targeted field also replaces Expires",
    ),
    (
        [(b"CDN-Cache-Control", b'max-age="x'), (b"Cache-Control", b"max-age=7")],
        200,
        CLOUDFRONT,
        7,
        "max-age",
        "RFC 9213 §2.2 an invalid targeted field is ignored",
    ),
]


@pytest.mark.parametrize(
    ("headers", "status", "bounds", "seconds", "source", "why"), LIFETIMES, ids=[c[5] for c in LIFETIMES]
)
def test_rfc9111_4_2_1_lifetime_bounded_by_ttl(
    headers: list[tuple[bytes, bytes]], status: int, bounds: TtlBounds, seconds: int, source: str, why: str
) -> None:
    lifetime = freshness_lifetime(response(*headers, status=status), bounds, NOW)
    assert lifetime is not None
    assert (lifetime.seconds, lifetime.source) == (seconds, source)


def test_rfc9111_4_2_2_no_heuristics_for_302_without_freshness() -> None:
    assert freshness_lifetime(response(status=302), CLOUDFRONT, NOW) is None


def test_rfc9111_4_2_2_last_modified_heuristic_is_ten_percent_capped_by_default_ttl() -> None:
    bounds = TtlBounds(min=0, default=3600, max=86400, last_modified_heuristic=True)
    recent = freshness_lifetime(response((b"Last-Modified", date(-1000))), bounds, NOW)
    old = freshness_lifetime(response((b"Last-Modified", date(-(10**7)))), bounds, NOW)
    assert recent is not None and (recent.seconds, recent.source) == (100, "last-modified")
    assert old is not None and old.seconds == 3600


def test_rfc9111_4_2_3_age_from_date_age_and_delays() -> None:
    # apparent_age 5 (Date 5 s before receipt) vs corrected_age_value 3 + 2 s delay = 5; Age 10 wins.
    assert corrected_initial_age(NOW - 5, None, NOW - 2, NOW) == 5
    assert corrected_initial_age(NOW - 5, 10, NOW - 2, NOW) == 12
    assert corrected_initial_age(None, None, NOW - 2, NOW) == 2  # response_delay alone
    assert corrected_initial_age(NOW + 50, None, NOW, NOW) == 0  # a Date in the future: apparent 0


def test_rfc9111_4_2_3_stored_entry_ages_from_its_date() -> None:
    entry = stored((b"Cache-Control", b"max-age=100"), at=NOW)
    assert current_age(entry, NOW + 42.5) == pytest.approx(42.5)
    assert entry.wire_at(NOW + 42.5).split(b"\r\n")[1] == b"Age: 42"


@given(
    st.floats(0, 1e6),
    st.one_of(st.none(), st.integers(0, 2**31)),
    st.floats(0, 100),
    st.floats(0, 1e6),
    st.floats(-1e6, 1e6),
    st.floats(0, 1e6),
)
def test_rfc9111_4_2_3_age_never_negative_and_monotonic(
    date_skew: float, age: int | None, delay: float, now_offset: float, clock_step: float, later: float
) -> None:
    response_time = NOW
    initial = corrected_initial_age(response_time - date_skew, age, response_time - delay, response_time)
    assert initial >= 0
    first = current_age_at(initial, response_time, response_time + clock_step)
    second = current_age_at(initial, response_time, response_time + clock_step + later)
    assert 0 <= first <= second


@given(st.integers(0, 4 * 10**9))
def test_rfc9110_5_6_7_http_date_round_trips(seconds: int) -> None:
    assert parse_http_date(format_http_date(seconds)) == seconds


@pytest.mark.parametrize(
    "value",
    [b"Sun, 06 Nov 1994 08:49:37 GMT", b"Sunday, 06-Nov-94 08:49:37 GMT", b"Sun Nov  6 08:49:37 1994"],
)
def test_rfc9110_5_6_7_three_date_formats(value: bytes) -> None:
    assert parse_http_date(value) == 784111777


INVALID_DATES = [
    # (value, why) - RFC 9111 §5.3: each of these must read as "already expired", never as a date.
    (b"0", "the classic 'expire now'"),
    (b"-1", "a number is not a date"),
    (b"", "empty"),
    (b"Sun, 06 Nov 1994 25:49:37 GMT", "hour out of range"),
    (b"Sun, 06 Foo 1994 08:49:37 GMT", "unknown month"),
    (b"Thu, 18 Aug 50 02:01:18 GMT", "IMF-fixdate needs a four-digit year"),
    (b"Thu 18 Aug 2050 02:01:18 GMT", "IMF-fixdate needs the comma after the day name"),
    (b"Thu, 18  Aug  2050 02:01:18 GMT", "exactly one space between fields"),
    (b"Thu, 18-Aug-2050 02:01:18 GMT", "dashes belong to rfc850-date, whose year has two digits"),
    (b"Thu, 18 Aug 2050 02.01.18 GMT", "time-of-day uses colons"),
    (b"Thu, 18 Aug 2050 2:01:18 GMT", "hour has two digits"),
    (b"Thu, 18 Aug 2050 02:01:18 UTC", "GMT is the only zone"),
    (b"Thu, 18 Aug 2050 02:01:18 AEST", "GMT is the only zone"),
    (b"Thursday, 18-Aug-2050 02:01:18 GMT", "rfc850-date has a two-digit year"),
    (b"Thu Aug 8 02:01:18 2050", "asctime pads a one-digit day with a space"),
]


@pytest.mark.parametrize(
    ("value", "why"), INVALID_DATES, ids=[v.decode() or "empty" for v, _ in INVALID_DATES]
)
def test_rfc9110_5_6_7_invalid_dates(value: bytes, why: str) -> None:
    assert parse_http_date(value) is None, why


@pytest.mark.parametrize(
    "value",
    [b"THU, 18 AUG 2050 02:01:18 GMT", b"Thu, 18 aug 2050 02:01:18 gmt", b"thursday, 18-aug-50 02:01:18 gMT"],
)
def test_rfc9111_4_2_cache_matches_date_names_case_insensitively(value: bytes) -> None:
    assert parse_http_date(value) == parse_http_date(b"Thu, 18 Aug 2050 02:01:18 GMT")


def test_rfc9111_5_3_malformed_expires_is_already_expired() -> None:
    # "Thu 18 Aug 2050" (no comma) would be 24 years of freshness to a lenient parser.
    bounds = TtlBounds(min=0, default=0, max=10**10)
    lifetime = freshness_lifetime(response((b"Expires", b"Thu 18 Aug 2050 02:01:18 GMT")), bounds, NOW)
    assert lifetime is not None and lifetime.seconds == 0


AGE_VALUES = [
    # (Age field lines, parsed age, why) - RFC 9111 §5.1
    ([b"30"], 30, "delta-seconds"),
    ([b"abc"], None, "not a number: ignored"),
    ([b"-7200"], None, "negative: ignored"),
    ([b"7200.0"], None, "not an integer: ignored"),
    ([b"0, 7200"], 0, "list value: the first member counts"),
    ([b"7200, 0"], 7200, "list value: the first member counts"),
    ([b"0", b"7200"], 0, "two lines: the first member counts"),
    ([b"7200", b"0"], 7200, "two lines: the first member counts"),
    ([b"2147483649"], 2147483648, "9111 §1.2.2: overflow is 2^31"),
    ([b"7200;foo=bar"], 7200, "a parameter: the sender's number is kept (refetch sooner, never later)"),
]


@pytest.mark.parametrize(("lines", "age", "why"), AGE_VALUES, ids=[c[2] + repr(c[0]) for c in AGE_VALUES])
def test_rfc9111_5_1_age_first_member_and_invalid_ignored(
    lines: list[bytes], age: int | None, why: str
) -> None:
    assert response(*((b"Age", line) for line in lines)).age == age, why


def test_rfc9111_5_1_ignored_age_leaves_a_fresh_response_fresh() -> None:
    entry = stored((b"Cache-Control", b"max-age=3600"), (b"Age", b"-7200"))
    assert entry.fresh_until == pytest.approx(NOW + 3600)
