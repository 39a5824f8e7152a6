"""HTTP/2 requests follow the HTTP/1.1 path's rules plus RFC 9113 §8's; `h2` sends what it is told."""

from __future__ import annotations

import h2.errors
import h2.events
import pytest

from originguard.http.field_names import UnderscorePolicy
from originguard.http.h2.events import DataReceived, RequestReceived, RequestRefused, StreamReset
from originguard.http.h2.request_head import HeadLimits
from originguard.http.h2.streams import H2Limits
from tests.unit.http.h2.h2_peer import ORIGIN, client, exchange, server

BASE = [(b":method", b"GET"), (b":scheme", b"https"), (b":authority", b"a.example"), (b":path", b"/")]


def _send(fields: list[tuple[bytes, bytes]], end_stream: bool = True, srv=None):  # type: ignore[no-untyped-def]
    srv = srv or server()
    peer = client(validate=False)
    exchange(srv, peer)
    peer.send_headers(1, fields, end_stream=end_stream)
    return srv, peer, exchange(srv, peer)


MALFORMED = {
    "upper-case name": [*BASE, (b"User-Agent", b"x")],
    "connection": [*BASE, (b"connection", b"close")],
    "keep-alive": [*BASE, (b"keep-alive", b"5")],
    "proxy-connection": [*BASE, (b"proxy-connection", b"x")],
    "transfer-encoding": [*BASE, (b"transfer-encoding", b"chunked")],
    "upgrade": [*BASE, (b"upgrade", b"websocket")],
    "te gzip": [*BASE, (b"te", b"gzip")],
    "no :path": BASE[:3],
    "no :method": BASE[1:],
    "no :scheme": [BASE[0], *BASE[2:]],
    "two :path": [*BASE, (b":path", b"/x")],
    "pseudo after regular": [*BASE[:3], (b"accept", b"*/*"), (b":path", b"/")],
    "unknown pseudo": [*BASE, (b":protocol", b"websocket")],
    "response pseudo": [*BASE, (b":status", b"200")],
    "value with LF": [*BASE, (b"x-a", b"a\nb")],
    "value with edge space": [*BASE, (b"x-a", b" a")],
    "bad content-length": [*BASE, (b"content-length", b"1x")],
    "name with colon inside": [*BASE, (b"x:a", b"1")],
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_malformed_request_is_reset_with_protocol_error(name: str) -> None:
    srv, _, seen = _send(MALFORMED[name])
    assert not seen.of(RequestReceived)
    resets = seen.of(h2.events.StreamReset)
    assert [(r.stream_id, r.error_code) for r in resets] == [(1, h2.errors.ErrorCodes.PROTOCOL_ERROR)]
    assert not srv.terminated  # a stream error: the connection goes on


REFUSED = {
    "no authority or host": ([BASE[0], BASE[1], BASE[3]], 400),
    "two hosts": ([*BASE[:2], BASE[3], (b"host", b"a"), (b"host", b"b")], 400),
    "authority and host disagree": ([*BASE, (b"host", b"b.example")], 400),
    "CONNECT": ([(b":method", b"CONNECT"), (b":authority", b"a.example:443")], 400),
    "double-slash path": ([*BASE[:3], (b":path", b"//evil/")], 400),
    "absolute path": ([*BASE[:3], (b":path", b"http://x/")], 400),
    "long target": ([*BASE[:3], (b":path", b"/" + b"a" * 9000)], 414),
    "content-length over the body limit": ([*BASE, (b"content-length", b"99999999999")], 413),
    "unknown expectation": ([*BASE, (b"expect", b"magic")], 417),
    "scheme ftp": ([BASE[0], (b":scheme", b"ftp"), *BASE[2:]], 400),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_request_http1_would_refuse_gets_the_same_status(name: str) -> None:
    fields, status = REFUSED[name]
    _, _, seen = _send(fields)
    assert not seen.of(RequestReceived)
    assert [(e.status) for e in seen.of(RequestRefused)] == [status]
    response = seen.of(h2.events.ResponseReceived)
    assert dict(response[0].headers)[b":status"] == b"%d" % status


def test_host_alone_or_equal_to_authority_is_accepted_and_te_trailers_passes() -> None:
    for fields in (
        [*BASE[:2], BASE[3], (b"host", b"h.example")],
        [*BASE, (b"host", b"a.example"), (b"te", b"trailers")],
    ):
        _, _, seen = _send(fields)
        assert len(seen.of(RequestReceived)) == 1


def test_cookies_are_joined_into_one_field_for_http1() -> None:
    _, _, seen = _send([*BASE, (b"cookie", b"a=1"), (b"accept", b"*/*"), (b"cookie", b"b=2")])
    request = seen.of(RequestReceived)[0].request
    assert request.headers == [(b"host", b"a.example"), (b"cookie", b"a=1; b=2"), (b"accept", b"*/*")]


def test_underscored_fields_are_dropped_as_on_http1() -> None:
    dropped: list[int] = []
    limits = HeadLimits(16384, 100, 8192, 1 << 20, UnderscorePolicy(False, frozenset(), dropped.append))
    srv = server(H2Limits(), limits)
    _, _, seen = _send([*BASE, (b"x_origin_verify", b"forged"), (b"x-ok", b"1")], srv=srv)
    assert seen.of(RequestReceived)[0].request.headers == [(b"host", b"a.example"), (b"x-ok", b"1")]
    assert dropped == [1]


@pytest.mark.parametrize(("declared", "sent"), [(b"5", b"abc"), (b"2", b"abc")])
def test_content_length_disagreeing_with_data_resets_the_stream(declared: bytes, sent: bytes) -> None:
    srv = server()
    peer = client(validate=False)
    exchange(srv, peer)
    peer.send_headers(1, [(b":method", b"POST"), *BASE[1:], (b"content-length", declared)])
    peer.send_data(1, sent, end_stream=True)
    seen = exchange(srv, peer)
    assert [r.error_code for r in seen.of(h2.events.StreamReset)] == [h2.errors.ErrorCodes.PROTOCOL_ERROR]
    assert [e.remote for e in seen.of(StreamReset)] == [False]
    assert sum(len(e.data) for e in seen.of(DataReceived)) <= len(sent)


def test_the_request_keeps_the_connections_facts() -> None:
    _, _, seen = _send(BASE)
    request = seen.of(RequestReceived)[0].request
    assert (request.client_ip, request.client_port, request.server_port) == (
        ORIGIN.client_ip,
        ORIGIN.client_port,
        ORIGIN.server_port,
    )
    assert repr(request) == "Request(b'GET' b'/' from 192.0.2.7)"
