"""Strict request-head checks (pure) and hop-by-hop header rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from originguard.errors import BadRequest, BodyTooLarge, ExpectationFailed, ProtocolError, VersionNotSupported
from originguard.http.headers import strip_hop_by_hop
from originguard.http.request_checks import check_head, index_headers, version_rejection

HOST = [(b"Host", b"a.example")]


def head(
    target: bytes = b"/",
    version: str = "1.1",
    headers: list[tuple[bytes, bytes]] | None = None,
    method: bytes = b"GET",
) -> object:
    return check_head(method, target, version, index_headers(HOST if headers is None else headers), 1000)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"headers": []}, BadRequest),  # RFC 9112 §3.2: Host is required on HTTP/1.1
        ({"headers": [*HOST, (b"host", b"b")]}, BadRequest),
        ({"headers": [*HOST, (b"Transfer-Encoding", b"gzip, chunked")]}, BadRequest),
        (
            {"headers": [*HOST, (b"Transfer-Encoding", b"chunked"), (b"Transfer-Encoding", b"chunked")]},
            BadRequest,
        ),
        ({"version": "1.0", "headers": [(b"Transfer-Encoding", b"chunked")]}, BadRequest),  # RFC 9112 §6.1
        ({"headers": [*HOST, (b"Content-Length", b"1001")]}, BodyTooLarge),
        ({"headers": [*HOST, (b"Expect", b"200-ok")]}, ExpectationFailed),
        ({"target": b"http://b.example/"}, BadRequest),  # absolute-form must agree with Host
        ({"target": b"http://user@a.example/"}, BadRequest),
        ({"target": b"//a.example/x"}, BadRequest),
        ({"target": b"*"}, BadRequest),  # asterisk-form only for OPTIONS
        ({"target": b"a.example:443", "method": b"CONNECT"}, BadRequest),
        ({"version": "0.9"}, VersionNotSupported),  # well-formed, not spoken: 505 (RFC 9110 §15.6.6)
        ({"version": "2.0"}, VersionNotSupported),
    ],
)
def test_ambiguous_or_invalid_heads_are_refused(
    kwargs: dict[str, object], error: type[ProtocolError]
) -> None:
    with pytest.raises(error):
        head(**kwargs)  # type: ignore[arg-type]


def test_valid_heads_are_split_into_path_query_and_host() -> None:
    path, query, version, host, has_body, _ = check_head(
        b"GET", b"/a/b?x=1&y=2", "1.1", index_headers(HOST), 10
    )
    assert (path, query, version, host, has_body) == (b"/a/b", b"x=1&y=2", b"1.1", b"a.example", False)
    absolute = check_head(b"GET", b"http://A.example/p?q", "1.1", index_headers(HOST), 10)
    assert absolute[:2] == (b"/p", b"q")
    chunked = check_head(
        b"POST", b"/", "1.1", index_headers([*HOST, (b"Transfer-Encoding", b" Chunked ")]), 10
    )
    assert chunked[4]  # has_body
    assert check_head(b"OPTIONS", b"*", "1.1", index_headers(HOST), 10)[0] == b"*"
    assert check_head(b"GET", b"/", "1.0", index_headers([]), 10)[3] == b""  # no Host on HTTP/1.0
    assert check_head(b"GET", b"/p?q#frag", "1.1", index_headers(HOST), 10)[:2] == (b"/p", b"q")
    for spaced in (b"a.example \t", b"\ta.example", b" a.example "):  # OWS is not part of a value
        assert check_head(b"GET", b"/", "1.1", index_headers([(b"Host", spaced)]), 10)[3] == b"a.example"


def test_hop_by_hop_fields_and_connection_listed_fields_are_removed_except_protected() -> None:
    headers = [
        (b"Connection", b"keep-alive, X-Origin-Verify, X-Drop"),
        (b"Keep-Alive", b"timeout=5"),
        (b"TE", b"trailers"),
        (b"Upgrade", b"h2c"),
        (b"Proxy-Authorization", b"x"),
        (b"X-Origin-Verify", b"secret"),
        (b"X-Drop", b"1"),
        (b"X-Keep", b"1"),
    ]
    kept = strip_hop_by_hop(headers, protected=frozenset({b"x-origin-verify"}))
    assert kept == [(b"X-Origin-Verify", b"secret"), (b"X-Keep", b"1")]


@given(st.lists(st.tuples(st.sampled_from([b"Connection", b"X-A", b"TE", b"x-b"]), st.binary(max_size=20))))
def test_stripping_never_keeps_a_hop_by_hop_field(headers: list[tuple[bytes, bytes]]) -> None:
    kept = strip_hop_by_hop(headers)
    assert not any(name.lower() in (b"connection", b"te") for name, _ in kept)


@pytest.mark.parametrize(
    ("after_target", "status"),
    [
        (b"HTTP/1.2\r\nHost: a\r\n\r\n", 505),
        (b"HTTP/3.0\r\n", 505),
        (b"HTTP/1.2", 505),  # the read ends after the digits: llhttp found them well-formed
        (b"HTTP/1.2\r", 505),
        (None, 505),
        (b"HTTP/1.23\r\n", 400),  # RFC 9112 §2.3: exactly one digit each
        (b"HTTP/1.2x\r\n", 400),
        (b"HTTP/1.2 \r\n", 400),
        (b"HTTP/1.2\nHost: a\n\n", 400),  # bare LF, refused everywhere else too
    ],
)
def test_a_version_llhttp_refused_is_505_only_when_well_formed(
    after_target: bytes | None, status: int
) -> None:
    assert version_rejection(after_target).status == status
