"""Field forwarding on proxy paths (pure): the length-guarded set and one-pass rendering agree
with the field-by-field hop-by-hop rule."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from originguard.http.headers import HOP_BY_HOP, FieldSet, forward_fields, strip_hop_by_hop

Header = tuple[bytes, bytes]
DROP = FieldSet({*HOP_BY_HOP, b"content-length"})


def test_field_set_matches_any_case_and_only_whole_names() -> None:
    assert DROP.holds(b"Content-Length") and DROP.holds(b"CONNECTION") and DROP.holds(b"te")
    assert not DROP.holds(b"Content-Type") and not DROP.holds(b"X-Te") and not DROP.holds(b"")


def test_connection_listed_fields_go_even_before_the_connection_header() -> None:
    headers = [
        (b"X-Drop", b"1"),
        (b"Keep-Alive", b"timeout=5"),
        (b"Connection", b"close, X-Drop"),
        (b"Date", b"d"),
    ]
    assert forward_fields(headers, DROP) == (b"Date: d\r\n", True)


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
        b"EXPIRES",
    ]
)
values = st.sampled_from([b"close", b"keep-alive, X-A", b"x-b", b"", b"max-age=60", b"X-A, x-b", b"Date"])


@given(st.lists(st.tuples(names, values), max_size=12))
def test_forwarded_lines_match_the_field_by_field_rule(headers: list[Header]) -> None:
    expected = [(n, v) for n, v in strip_hop_by_hop(headers) if n.lower() != b"content-length"]
    lines, has_date = forward_fields(headers, DROP)
    assert lines == b"".join(n + b": " + v + b"\r\n" for n, v in expected)
    assert has_date == any(n.lower() == b"date" for n, _ in expected)
