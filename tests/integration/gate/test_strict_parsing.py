"""Every strict-parsing rejection, sent as raw bytes over real TLS: 400/413/414/431, then close."""

from __future__ import annotations

import pytest

from tests.integration.gate.conftest import GateSetup
from tests.support import exchange

H = b"Host: gate.originguard.test\r\n"

REJECTED = {
    "content_length_and_transfer_encoding": b"POST / HTTP/1.1\r\n"
    + H
    + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "duplicate_content_length": b"POST / HTTP/1.1\r\n"
    + H
    + b"Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
    "non_numeric_content_length": b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 3x\r\n\r\nabc",
    "signed_content_length": b"POST / HTTP/1.1\r\n" + H + b"Content-Length: +3\r\n\r\nabc",
    "transfer_encoding_gzip_chunked": b"POST / HTTP/1.1\r\n"
    + H
    + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    "transfer_encoding_identity": b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: identity\r\n\r\n",
    "transfer_encoding_twice": b"POST / HTTP/1.1\r\n"
    + H
    + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "transfer_encoding_on_http_1_0": b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "obsolete_line_folding": b"GET / HTTP/1.1\r\n" + H + b"X-A: b\r\n c\r\n\r\n",
    "control_character_in_header_name": b"GET / HTTP/1.1\r\n" + H + b"X\x01A: b\r\n\r\n",
    "space_in_header_name": b"GET / HTTP/1.1\r\n" + H + b"X A: b\r\n\r\n",
    "space_before_colon": b"GET / HTTP/1.1\r\n" + H + b"X-Origin-Verify : x\r\n\r\n",
    "bare_lf_line_ending": b"GET / HTTP/1.1\n" + H + b"\n",
    "bare_lf_inside_headers": b"GET / HTTP/1.1\r\nHost: gate.originguard.test\nX-A: b\r\n\r\n",
    "bare_cr_inside_headers": b"GET / HTTP/1.1\r\nHost: gate.originguard.test\rX-A: b\r\n\r\n",
    "nul_in_header_value": b"GET / HTTP/1.1\r\n" + H + b"X-A: b\x00c\r\n\r\n",
    "absolute_form_disagreeing_with_host": b"GET http://evil.example/ HTTP/1.1\r\n" + H + b"\r\n",
    "missing_host_on_http_1_1": b"GET / HTTP/1.1\r\n\r\n",
    "two_host_headers": b"GET / HTTP/1.1\r\n" + H + b"Host: other.example\r\n\r\n",
    "invalid_method_token": b"G@T / HTTP/1.1\r\n" + H + b"\r\n",
    "lower_case_method": b"get / HTTP/1.1\r\n" + H + b"\r\n",
    "two_digit_minor_version": b"GET / HTTP/1.10\r\n" + H + b"\r\n",  # RFC 9112 §2.3: one digit each
    "two_digit_major_version": b"GET / HTTP/11.1\r\n" + H + b"\r\n",
    "junk_after_version": b"GET / HTTP/1.2x\r\n" + H + b"\r\n",
    "lower_case_version": b"GET / http/1.1\r\n" + H + b"\r\n",
    "target_starting_with_double_slash": b"GET //evil.example/x HTTP/1.1\r\n" + H + b"\r\n",
}


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_malformed_request_gets_400_and_the_connection_closes(gate: GateSetup, case: str) -> None:
    raw = exchange(gate.port, REJECTED[case], tls=gate.tls)
    assert raw.startswith(b"HTTP/1.1 400 "), raw[:80]
    assert raw.count(b"\r\nDate: ") == 1 and b"Connection: close" in raw  # one response only
    assert sum(app.requests_seen for app in gate.apps) == 0


def test_smuggled_second_request_after_rejection_is_never_parsed(gate: GateSetup) -> None:
    smuggle = (
        b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        b"GET /admin HTTP/1.1\r\n" + H + b"\r\n"
    )
    raw = exchange(gate.port, smuggle, tls=gate.tls)
    assert raw.count(b"\r\nDate: ") == 1 and raw.startswith(b"HTTP/1.1 400 ")


def test_bad_chunk_size_in_an_admitted_body_gets_400_and_the_app_gets_no_request(gate: GateSetup) -> None:
    raw = b"POST / HTTP/1.1\r\n" + H + b"X-Origin-Verify: " + gate.secret.encode() + b"\r\n"
    raw += b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\nabc\r\n0\r\n\r\n"
    assert exchange(gate.port, raw, tls=gate.tls).startswith(b"HTTP/1.1 400 ")
    assert sum(app.requests_seen for app in gate.apps) == 0


def test_header_section_over_16k_gets_431(gate: GateSetup) -> None:
    big = b"GET / HTTP/1.1\r\n" + H + b"X-Big: " + b"a" * 17000 + b"\r\n\r\n"
    assert exchange(gate.port, big, tls=gate.tls).startswith(b"HTTP/1.1 431 ")


def test_more_than_100_header_fields_gets_431(gate: GateSetup) -> None:
    many = b"GET / HTTP/1.1\r\n" + H + b"".join(b"X-%d: v\r\n" % i for i in range(101)) + b"\r\n"
    assert exchange(gate.port, many, tls=gate.tls).startswith(b"HTTP/1.1 431 ")


def test_uri_over_8k_gets_414(gate: GateSetup) -> None:
    long_uri = b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n" + H + b"\r\n"
    assert exchange(gate.port, long_uri, tls=gate.tls).startswith(b"HTTP/1.1 414 ")


def test_declared_body_over_the_limit_gets_413(gate: GateSetup) -> None:
    raw = b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 999999\r\n\r\n"
    assert exchange(gate.port, raw, tls=gate.tls).startswith(b"HTTP/1.1 413 ")


def test_chunked_body_growing_over_the_limit_gets_413(gate: GateSetup) -> None:
    chunk = b"%x\r\n%s\r\n" % (40000, b"a" * 40000)
    raw = b"POST / HTTP/1.1\r\n" + H + b"X-Origin-Verify: " + gate.secret.encode() + b"\r\n"
    raw += b"Transfer-Encoding: chunked\r\n\r\n" + chunk * 2 + b"0\r\n\r\n"
    assert b"HTTP/1.1 413 " in exchange(gate.port, raw, tls=gate.tls)


@pytest.mark.parametrize("version", [b"HTTP/2.0", b"HTTP/1.2", b"HTTP/3.0", b"HTTP/0.9", b"HTTP/9.9"])
def test_well_formed_unsupported_http_version_gets_505(gate: GateSetup, version: bytes) -> None:
    raw = exchange(gate.port, b"GET / " + version + b"\r\n" + H + b"\r\n", tls=gate.tls)
    assert raw.startswith(b"HTTP/1.1 505 "), raw[:80]
    assert raw.count(b"\r\nDate: ") == 1 and b"Connection: close" in raw
    assert sum(app.requests_seen for app in gate.apps) == 0
