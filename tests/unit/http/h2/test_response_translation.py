"""HTTP/1.1 response octets an app writes -> the HTTP/2 head and body a stream sends."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from originguard.http.h2.response_translation import ResponseTranslator, TranslationError

PLAIN = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nConnection: close, X-Hop\r\n"
    b"X-Hop: 1\r\nKeep-Alive: timeout=5\r\nX-Cache: Hit from originguard\r\n\r\nhello world"
)
CHUNKED = (
    b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nContent-Length: 99\r\n\r\n"
    b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
)


def _translate(wire: bytes, cuts: list[int], head_request: bool = False) -> tuple[int, object, bytes, bool]:
    translator = ResponseTranslator(head_request)
    body = b""
    head = None
    points = sorted({0, len(wire), *cuts})
    for start, end in itertools.pairwise(points):
        body += translator.feed(wire[start:end])
        if translator.head is not None:
            head, translator.head = translator.head, None
    return translator.status, head, body, translator.complete


@given(st.lists(st.integers(min_value=0, max_value=len(PLAIN)), max_size=8))
def test_a_plain_response_keeps_its_fields_minus_the_connection_specific_ones(cuts: list[int]) -> None:
    status, head, body, complete = _translate(PLAIN, cuts)
    assert status == 200 and complete and body == b"hello world"
    assert head == [
        (b"content-type", b"text/plain"),
        (b"content-length", b"11"),
        (b"x-cache", b"Hit from originguard"),
    ]


@given(st.lists(st.integers(min_value=0, max_value=len(CHUNKED)), max_size=8))
def test_a_chunked_body_is_dechunked_and_its_length_dropped(cuts: list[int]) -> None:
    status, head, body, complete = _translate(CHUNKED, cuts)
    assert (status, head, body, complete) == (201, [], b"hello world", True)


def test_interim_heads_are_dropped_and_head_responses_carry_no_body() -> None:
    wire = b"HTTP/1.1 100 Continue\r\n\r\n" + PLAIN
    assert _translate(wire, [])[2] == b"hello world"
    status, head, body, complete = _translate(PLAIN, [], head_request=True)
    assert status == 200 and body == b"" and complete and (b"content-length", b"11") in head  # type: ignore[operator]


def test_a_body_without_a_length_runs_until_the_app_ends_it() -> None:
    status, _, body, complete = _translate(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabc", [])
    assert (status, body, complete) == (200, b"abc", False)


def test_octets_that_are_no_response_are_refused() -> None:
    with pytest.raises(TranslationError):
        ResponseTranslator(False).feed(b"garbage\r\n\r\n")
