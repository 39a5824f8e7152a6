"""Cache-Control (RFC 9111 §5.2) and targeted fields (RFC 9213) parse into plain data."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from originguard.cache.directives import MAX_DELTA, CacheControl, parse_cache_control, parse_targeted

CASES = [
    # (field lines, expected fields, why)
    ([b"max-age=60"], {"max_age": 60}, "9111 §5.2.2.1"),
    ([b"MAX-AGE=60, Public"], {"max_age": 60, "public": True}, "9111 §5.2: names are case-insensitive"),
    ([b'max-age="60"'], {"max_age": 60}, "9111 §5.2: quoted-string accepted from senders that quote"),
    ([b"s-maxage=10, max-age=60"], {"s_maxage": 10, "max_age": 60}, "9111 §5.2.2.10"),
    ([b"no-store"], {"no_store": True}, "9111 §5.2.2.5"),
    ([b'no-cache="Set-Cookie, X-Foo"'], {"no_cache": True}, "9111 §5.2.2.4: qualified counts as no-cache"),
    ([b'private="X-User"'], {"private": True}, "9111 §5.2.2.7: qualified counts as private"),
    ([b"max-age=abc"], {"max_age": 0}, "9111 §4.2.1: invalid value -> stale"),
    ([b"max-age=60", b"max-age=70"], {"max_age": 0}, "9111 §4.2.1: conflicting duplicates -> stale"),
    ([b"max-age=60, max-age=60"], {"max_age": 60}, "identical duplicates are harmless"),
    ([b"max-age=99999999999999"], {"max_age": MAX_DELTA}, "9111 §1.2.2: overflow -> 2^31"),
    ([b"max-stale"], {"max_stale": MAX_DELTA}, "9111 §5.2.1.2: any staleness"),
    (
        [b"stale-while-revalidate=30, stale-if-error=600"],
        {"stale_while_revalidate": 30, "stale_if_error": 600},
        "5861",
    ),
    (
        [b"must-revalidate, proxy-revalidate"],
        {"must_revalidate": True, "proxy_revalidate": True},
        "9111 §5.2.2",
    ),
    ([b"only-if-cached, min-fresh=5"], {"only_if_cached": True, "min_fresh": 5}, "9111 §5.2.1"),
    ([b" , ,max-age=1,,"], {"max_age": 1}, "9110 §5.6.1: empty list members are ignored"),
    ([b'community="UCI"'], {"extensions": ("community",)}, "9111 §5.2.3: extensions kept, ignored"),
]


@pytest.mark.parametrize(("lines", "expected", "why"), CASES, ids=[c[2] for c in CASES])
def test_rfc9111_5_2_cache_control_parses(lines: list[bytes], expected: dict[str, object], why: str) -> None:
    assert parse_cache_control(lines) == CacheControl(**expected)  # type: ignore[arg-type]


TARGETED = [
    (b"max-age=60", CacheControl(max_age=60), "RFC 9213 §2.2: Integer"),
    (b"max-age=60, must-revalidate", CacheControl(max_age=60, must_revalidate=True), "dictionary"),
    (b'no-cache=("a" "b");x=1', CacheControl(no_cache=True), "inner list with parameters"),
    (b"private=?0, max-age=5", CacheControl(max_age=5), "boolean false switches the directive off"),
    (b'max-age="60", public', CacheControl(public=True), "a String is not the Integer max-age needs"),
    (b"Max-Age=60", None, "RFC 8941 keys are lower case: the field is invalid"),
    (b"max-age=60,", None, "trailing comma: invalid"),
    (b"", None, "empty field: ignored (RFC 9213 §2.1)"),
    (b"max-age=60 public", None, "missing comma: invalid"),
]


@pytest.mark.parametrize(("value", "expected", "why"), TARGETED, ids=[c[2] for c in TARGETED])
def test_rfc9213_2_2_targeted_fields_are_sf_dictionaries(
    value: bytes, expected: CacheControl | None, why: str
) -> None:
    assert parse_targeted(value) == expected


_token = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12)
_directive = st.one_of(
    _token,
    st.builds(lambda n, v: f"{n}={v}", _token, st.integers(0, 10**12)),
    st.builds(lambda n, v: f'{n}="{v}"', _token, st.text(alphabet="abc ,=", max_size=8)),
)


@given(st.lists(st.binary(max_size=60), max_size=4))
def test_rfc9111_5_2_parser_never_raises_on_garbage(lines: list[bytes]) -> None:
    parse_cache_control(lines)
    for line in lines:
        parse_targeted(line)


@given(st.lists(_directive, max_size=8), st.integers(0, MAX_DELTA * 4))
def test_rfc9111_5_2_max_age_survives_any_neighbours(others: list[str], seconds: int) -> None:
    others = [o for o in others if not o.startswith("max-age")]
    parsed = parse_cache_control([", ".join([*others, f"max-age={seconds}"]).encode()])
    assert parsed.max_age == min(seconds, MAX_DELTA)


@given(st.integers(0, 10**15 - 1), st.booleans(), st.booleans())  # RFC 8941: 15 digits max
def test_rfc9213_targeted_and_classic_agree_on_simple_values(
    seconds: int, public: bool, no_store: bool
) -> None:
    parts = [f"max-age={seconds}"] + (["public"] if public else []) + (["no-store"] if no_store else [])
    value = ", ".join(parts).encode()
    assert parse_targeted(value) == parse_cache_control([value])
