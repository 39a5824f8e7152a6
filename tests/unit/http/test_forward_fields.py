"""Field forwarding on proxy paths (pure): which lines a proxy cuts, and the head edited in place,
agree with the field-by-field hop-by-hop rule."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from originguard.http.headers import HOP_BY_HOP, FieldSet, edit_head, fields_to_cut, strip_hop_by_hop

Header = tuple[bytes, bytes]
DROP = FieldSet(HOP_BY_HOP)


LINE_END = len(b"HTTP/1.1 200 OK")


def raw_head(headers: list[Header]) -> bytes:
    """As `Request.raw_head` gives it: through the last field's value, no final CRLF."""
    return b"HTTP/1.1 200 OK" + b"".join(b"\r\n" + n + b": " + v for n, v in headers)


def test_field_set_matches_any_case_and_only_whole_names() -> None:
    assert DROP.holds(b"CONNECTION") and DROP.holds(b"te") and DROP.holds(b"Keep-Alive")
    assert not DROP.holds(b"Content-Type") and not DROP.holds(b"X-Te") and not DROP.holds(b"")


def test_connection_listed_fields_go_even_before_the_connection_header() -> None:
    headers = [
        (b"X-Drop", b"1"),
        (b"Keep-Alive", b"timeout=5"),
        (b"Connection", b"close, X-Drop"),
        (b"Date", b"d"),
    ]
    cut = fields_to_cut(headers, DROP)
    assert edit_head(raw_head(headers), LINE_END, headers, cut, b"X-Added: 1\r\n") == (
        b"HTTP/1.1 200 OK\r\nDate: d\r\nX-Added: 1\r\n\r\n"
    )


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


spacing = st.sampled_from([b" ", b"", b"  ", b"\t"])
trailing = st.sampled_from([b"", b"", b"", b" ", b"\t "])


@given(
    st.lists(st.tuples(names, values, spacing, trailing), max_size=12),
    st.sampled_from([LINE_END, LINE_END, LINE_END - 1, 3]),
)
def test_edited_head_matches_the_field_by_field_rule(
    lines: list[tuple[bytes, bytes, bytes, bytes]], line_end: int
) -> None:
    # The raw head as a sender wrote it (any OWS around the value); the parsed fields as llhttp
    # gives them (OWS gone). Unusual spacing, or a wrong first-line length, takes the searching
    # fallback.
    raw = b"HTTP/1.1 200 OK" + b"".join(b"\r\n" + n + b":" + ows + v + end for n, v, ows, end in lines)
    headers = [(n, v) for n, v, _, _ in lines]
    cut = fields_to_cut(headers, DROP)
    kept = set(range(len(lines))) - set(cut)
    expected = b"HTTP/1.1 200 OK" + b"".join(
        b"\r\n" + n + b":" + ows + v + end for i, (n, v, ows, end) in enumerate(lines) if i in kept
    )
    assert edit_head(raw, line_end, headers, cut, b"") == expected + b"\r\n\r\n"
    assert [(n, v) for i, (n, v) in enumerate(headers) if i in kept] == strip_hop_by_hop(headers)
