"""The request-line version shortcut agrees with llhttp whenever it answers."""

from __future__ import annotations

import httptools
from hypothesis import given
from hypothesis import strategies as st

from originguard.http.connection import _line_version


class _Version:
    def __init__(self) -> None:
        self.parser = httptools.HttpRequestParser(self)
        self.version: str | None = None
        self.url = b""
        self.method = b""

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_headers_complete(self) -> None:
        self.version = self.parser.get_http_version()
        self.method = self.parser.get_method()


lines = st.builds(
    lambda method, target, version, rest: method + b" " + target + b" " + version + b"\r\n" + rest,
    st.sampled_from([b"GET", b"HEAD", b"POST", b"G", b""]),
    st.sampled_from([b"/", b"/a?b", b"/HTTP/1.1", b"* HTTP/1.0", b"/x y"]),
    st.sampled_from(
        [b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"HTTP/0.9", b"http/1.1", b"HTTP/1.1 ", b"HTTP/11"]
    ),
    st.sampled_from([b"Host: a\r\n\r\n", b"\r\n", b"Host: a HTTP/1.0\r\n\r\n"]),
)


@given(st.one_of(lines, st.binary(max_size=40)), st.sampled_from([b"", b"\r\n", b"GE"]))
def test_shortcut_version_is_what_llhttp_parsed(data: bytes, before: bytes) -> None:
    # `before`: what an earlier read held (an empty line, a method's start); the shortcut is given
    # the read the request began with, whichever that was.
    parsed = _Version()
    try:
        parsed.parser.feed_data(before)
        parsed.parser.feed_data(data)
    except httptools.HttpParserError:
        return  # llhttp refuses the request: the shortcut's answer is never used
    if parsed.version is not None:
        for source in (before, data, before + data):
            assert _line_version(source, parsed.method, parsed.url) in ("", parsed.version)


def test_shortcut_reads_the_common_request_lines() -> None:
    assert _line_version(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", b"GET", b"/") == "1.1"
    assert _line_version(b"GET /x HTTP/1.0\r\n\r\n", b"GET", b"/x") == "1.0"
    assert _line_version(b"\r\nGET / HTTP/1.1\r\n", b"GET", b"/") == ""  # an empty line first: ask llhttp
    assert _line_version(b"T / HTTP/1.1\r\n", b"GET", b"/") == ""  # the rest of a method split across reads
