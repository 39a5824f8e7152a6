"""The upstream response head scan (http/response_head.py): framing, Date, the lines a proxy cuts."""

from __future__ import annotations

import httptools
import pytest
from hypothesis import given
from hypothesis import strategies as st

from originguard.http.headers import HOP_BY_HOP
from originguard.http.response_head import (
    HOP_BY_HOP_CUTS,
    CutSet,
    fields_of,
    forwarded_head,
    keeps_alive,
    scan_head,
    status_at,
)

Header = tuple[bytes, bytes]

NGINX = (
    b"HTTP/1.1 200 OK\r\n"
    b"Server: nginx/1.22.1\r\n"
    b"Date: Wed, 02 Dec 2026 01:00:00 GMT\r\n"
    b"Content-Type: application/octet-stream\r\n"
    b"Content-Length: 1024\r\n"
    b"Connection: keep-alive\r\n"
    b'ETag: "6560a1b0-400"\r\n'
)


def test_nginx_head_keeps_all_but_connection_and_reports_length_and_date() -> None:
    head = scan_head(NGINX, HOP_BY_HOP_CUTS)
    assert head.length == b"1024" and head.codings is None and head.has_date
    assert forwarded_head(head, b"Via: x\r\n") == NGINX.replace(b"Connection: keep-alive\r\n", b"") + (
        b"Via: x\r\n\r\n"
    )


def test_names_match_in_any_case_and_only_whole_names() -> None:
    raw = (
        b"HTTP/1.1 200 OK\r\nKEEP-alive: timeout=5\r\nTE-Extra: 1\r\nte: trailers\r\n"
        b"Upgrade-Insecure: 1\r\nPROXY-Authenticate: Basic\r\nProxy-Other: 2\r\n"
    )
    kept = forwarded_head(scan_head(raw, HOP_BY_HOP_CUTS), b"")
    assert kept == b"HTTP/1.1 200 OK\r\nTE-Extra: 1\r\nUpgrade-Insecure: 1\r\nProxy-Other: 2\r\n\r\n"


def test_chunked_codings_are_joined_across_lines_and_cut() -> None:
    # RFC 9112 §6.1: Transfer-Encoding lines combine; the last coding decides the framing (§6.3).
    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nX: 1\r\ntransfer-encoding:  Chunked \r\n"
    head = scan_head(raw, HOP_BY_HOP_CUTS)
    assert head.codings == b"gzip,chunked" and head.length is None and not head.has_date
    assert forwarded_head(head, b"") == b"HTTP/1.1 200 OK\r\nX: 1\r\n\r\n"


def test_fields_connection_lists_are_cut_even_before_connection() -> None:
    # RFC 9110 §7.6.1: a proxy removes the fields Connection names, wherever they are.
    raw = b"HTTP/1.1 200 OK\r\nX-Hop: 1\r\nDate: d\r\nConnection: close, X-Hop , date\r\nX-Keep: 2\r\n"
    head = scan_head(raw, HOP_BY_HOP_CUTS)
    assert forwarded_head(head, b"") == b"HTTP/1.1 200 OK\r\nX-Keep: 2\r\n\r\n"
    assert not head.has_date  # the Date that stays counts, and none stays


def test_connection_cannot_cut_the_framing_length() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: content-length\r\n"
    head = scan_head(raw, HOP_BY_HOP_CUTS)
    assert head.length == b"3"
    assert forwarded_head(head, b"") == b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"


def test_a_cut_set_removes_its_own_names_and_a_date_it_cuts_does_not_count() -> None:
    cuts = CutSet({*HOP_BY_HOP, b"x-origin-verify", b"via", b"date"})
    raw = b"HTTP/1.1 200 OK\r\nX-Origin-Verify: s3cret\r\nVia: 1.1 a\r\nDate: d\r\nVia: 1.1 b\r\nX: 1\r\n"
    head = scan_head(raw, cuts)
    assert forwarded_head(head, b"") == b"HTTP/1.1 200 OK\r\nX: 1\r\n\r\n" and not head.has_date


def test_a_head_without_fields_and_a_replaced_status_line() -> None:
    head = scan_head(b"HTTP/1.0 204 No Content\r\n", HOP_BY_HOP_CUTS)
    assert forwarded_head(head, b"A: 1\r\n") == b"HTTP/1.0 204 No Content\r\nA: 1\r\n\r\n"
    assert forwarded_head(head, b"", b"HTTP/1.1 204 No Content") == b"HTTP/1.1 204 No Content\r\n\r\n"
    old = scan_head(b"HTTP/1.0 200 OK\r\nConnection: close\r\nX: 1\r\n", HOP_BY_HOP_CUTS)
    assert forwarded_head(old, b"", b"HTTP/1.1 200 OK") == b"HTTP/1.1 200 OK\r\nX: 1\r\n\r\n"


def test_fields_of_gives_names_as_sent_and_values_without_surrounding_whitespace() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Type:text/plain\r\nX-Pad: \t a b \t\r\nEmpty:\r\n"
    assert fields_of(raw) == [(b"Content-Type", b"text/plain"), (b"X-Pad", b"a b"), (b"Empty", b"")]
    assert fields_of(b"HTTP/1.1 200 OK\r\n") == []


class Collector:
    def __init__(self) -> None:
        self.fields: list[Header] = []

    def on_header(self, name: bytes, value: bytes) -> None:
        self.fields.append((name, value))


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n",  # obs-fold
        b"HTTP/1.1 200 OK\r\nA : b\r\n\r\n",  # whitespace before the colon
        b"HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n",  # bare CR
        b"HTTP/1.1 200 OK\r\nA: b\nB: c\r\n\r\n",  # bare LF
        b"HTTP/1.1 200 OK\r\nA\x01: b\r\n\r\n",  # a control character in a name
    ],
)
def test_llhttp_refuses_the_heads_the_scan_does_not_handle(raw: bytes) -> None:
    # The scan's premise: every line of an accepted head is `name:OWS value` ending in CRLF.
    with pytest.raises(httptools.HttpParserError):
        httptools.HttpResponseParser(Collector()).feed_data(raw)


LETTERS = "abcdefghijklmnopqrstuvwxyz"
token = st.text(alphabet=LETTERS + LETTERS.upper() + "0123456789-", min_size=1, max_size=20)
names = st.one_of(token, st.sampled_from(["Connection", "TE", "Te", "Date", "Via", "Keep-Alive", "Upgrade"]))
values = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 ,;=/\t", max_size=30).map(str.strip)


@given(st.lists(st.tuples(names, values), max_size=12))
def test_scan_agrees_with_llhttp_fields_and_a_field_by_field_filter(fields: list[tuple[str, str]]) -> None:
    lines = [f"{name}: {value}\r\n".encode() for name, value in fields if name.lower() != "transfer-encoding"]
    raw = b"HTTP/1.1 200 OK\r\n" + b"".join(lines)
    collector = Collector()
    httptools.HttpResponseParser(collector).feed_data(raw + b"Content-Length: 0\r\n\r\n")
    assert fields_of(raw) == [(n, v.strip()) for n, v in collector.fields[:-1]]
    listed = {
        token.strip().lower()
        for name, value in fields_of(raw)
        if name.lower() == b"connection"
        for token in value.split(b",")
    } - {b"close", b"keep-alive", b"content-length", b""}
    kept = [(n, v) for n, v in fields_of(raw) if n.lower() not in HOP_BY_HOP and n.lower() not in listed]
    expected = b"HTTP/1.1 200 OK\r\n" + b"".join(b"%s: %s\r\n" % field for field in kept) + b"\r\n"
    head = scan_head(raw, HOP_BY_HOP_CUTS)
    assert forwarded_head(head, b"") == expected
    assert head.has_date == any(n.lower() == b"date" for n, _ in kept)


class HeadVerdict:
    """What llhttp says of a response head once it is parsed: status and keep-alive."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.status = 0
        self.keep_alive: bool | None = None

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.keep_alive = self.parser.should_keep_alive()


connection_lines = st.lists(
    st.sampled_from(["close", "keep-alive", "Keep-Alive", "CLOSE", "close, x-a", "upgrade", "x-a"]),
    max_size=2,
)
framing = st.sampled_from(
    ["", "Content-Length: 5\r\n", "Transfer-Encoding: chunked\r\n", "Transfer-Encoding: gzip\r\n"]
)


@given(
    st.sampled_from(["HTTP/1.1", "HTTP/1.0"]),
    st.sampled_from([100, 103, 200, 204, 206, 301, 304, 404, 500, 503]),
    st.sampled_from([" OK", " ", ""]),
    connection_lines,
    framing,
)
def test_status_and_keep_alive_read_off_the_head_agree_with_llhttp(
    version: str, status: int, reason: str, connections: list[str], frame: str
) -> None:
    # The upstream connection reads both off the head it scans instead of asking the parser by
    # name; where it cannot tell (-1, 0) it asks, so every answer it gives must be llhttp's.
    lines = "".join(f"Connection: {value}\r\n" for value in connections)
    raw = f"{version} {status}{reason}\r\nServer: t\r\n{lines}{frame}".encode()
    verdict = HeadVerdict()
    verdict.parser.feed_data(raw + b"\r\n")
    assert verdict.status == status
    assert status_at(raw, 0) == status
    head = scan_head(raw, HOP_BY_HOP_CUTS)
    answer = keeps_alive(head, status)
    assert answer == -1 or answer == int(bool(verdict.keep_alive)), (raw, answer, verdict.keep_alive)


def test_plain_heads_are_answered_without_the_parser() -> None:
    head = scan_head(NGINX, HOP_BY_HOP_CUTS)
    assert status_at(NGINX, 0) == 200 and keeps_alive(head, 200) == 1
    closing = scan_head(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n", HOP_BY_HOP_CUTS)
    assert keeps_alive(closing, 200) == 0
    until_close = scan_head(b"HTTP/1.1 200 OK\r\nServer: t\r\n", HOP_BY_HOP_CUTS)
    assert keeps_alive(until_close, 200) == 0 and keeps_alive(until_close, 304) == 1
    old = scan_head(b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n", HOP_BY_HOP_CUTS)
    assert keeps_alive(old, 200) == 0


@pytest.mark.parametrize(
    ("raw", "start"),
    [
        (b"HTTP/1.1 200 OK\r\n", 4),  # after an interim head: the parser says
        (b"HTTP/2.0 200 OK\r\n", 0),
        (b"HTTP/1.1 20x OK\r\n", 0),
        (b"HTTP/1.1 2000 OK\r\n", 0),
        (b"HTTP/1.1 200", 0),  # too short to tell
    ],
)
def test_status_lines_not_read_off_are_left_to_the_parser(raw: bytes, start: int) -> None:
    assert status_at(raw, start) == 0
