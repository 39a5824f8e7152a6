"""Raw header blocks (pure): lookups and hop-by-hop removal agree with the field-by-field rules."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from originguard.http.head_block import HeadBlock
from originguard.http.headers import strip_hop_by_hop

Header = tuple[bytes, bytes]


def block_of(headers: list[Header]) -> bytes:
    return b"".join(name + b": " + value + b"\r\n" for name, value in headers)


def test_lookups_are_case_insensitive_on_names_and_keep_value_case() -> None:
    head = HeadBlock(b"Content-Length: 42\r\nX-Trace:  Ab C \r\nx-trace:second\r\nDate: Tue\r\n")
    assert head.first(b"content-length") == b"42"
    assert head.values(b"x-trace") == [b"Ab C", b"second"]
    assert head.has(b"date") and not head.has(b"etag")
    assert head.fields() == [
        (b"Content-Length", b"42"),
        (b"X-Trace", b"Ab C"),
        (b"x-trace", b"second"),
        (b"Date", b"Tue"),
    ]


def test_a_name_inside_another_field_or_a_value_is_not_a_match() -> None:
    head = HeadBlock(b"X-Content-Length: 1\r\nVia: content-length: 2\r\n")
    assert head.first(b"content-length") is None
    assert head.without((b"content-length",)) == head.block


def test_connection_listed_fields_go_even_before_the_connection_header() -> None:
    head = HeadBlock(b"X-Drop: 1\r\nKeep-Alive: timeout=5\r\nConnection: close, X-Drop\r\nX-Keep: 2\r\n")
    assert head.without_hop_by_hop() == b"X-Keep: 2\r\n"


names = st.sampled_from(
    [
        b"Connection",
        b"keep-alive",
        b"TE",
        b"Transfer-Encoding",
        b"Upgrade",
        b"X-A",
        b"x-b",
        b"Content-Length",
        b"Date",
        b"Proxy-Authenticate",
        b"Trailer",
        b"Cache-Control",
    ]
)
values = st.one_of(
    st.sampled_from([b"close", b"keep-alive, X-A", b"x-b", b"", b"max-age=60", b"X-A, x-b"]),
    st.binary(min_size=0, max_size=12).map(lambda v: bytes(c for c in v if 0x21 <= c <= 0x7E)),
)


@given(st.lists(st.tuples(names, values), max_size=12))
def test_block_removal_matches_the_field_by_field_rule(headers: list[Header]) -> None:
    head = HeadBlock(block_of(headers))
    expected = [(n, v) for n, v in strip_hop_by_hop(headers) if n.lower() != b"content-length"]
    assert HeadBlock(head.without_hop_by_hop((b"content-length",))).fields() == expected
