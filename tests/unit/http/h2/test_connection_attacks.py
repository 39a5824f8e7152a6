"""Attacks on the HTTP/2 server connection, sent as their real bytes, refused with bounded cost."""

from __future__ import annotations

import time

import h2.errors
import h2.events
import hpack
import hyperframe.frame

from originguard.http.h2.events import ConnectionTerminated, RequestReceived
from originguard.http.h2.streams import ENHANCE_YOUR_CALM, FLOW_CONTROL_ERROR, H2Limits
from tests.unit.http.h2.h2_peer import (
    connected,
    encode_block,
    exchange,
    goaway_of,
    raw_data,
    raw_headers,
    raw_preface,
    request_headers,
    server,
)


def test_rapid_reset_beyond_the_budget_gets_goaway_enhance_your_calm() -> None:
    srv, peer = connected(H2Limits(reset_burst=100.0, reset_rate=20.0))
    for stream_id in range(1, 2 * 500, 2):  # 500 streams opened and reset at once (CVE-2023-44487)
        peer.send_headers(stream_id, request_headers())
        peer.reset_stream(stream_id)
    events = srv.receive(peer.data_to_send(), 1.0)
    goaway = goaway_of(srv.data_to_send())
    assert goaway is not None and goaway.error_code == ENHANCE_YOUR_CALM
    # the work done is bounded by the budget, not by what the client sent
    assert len([e for e in events if isinstance(e, RequestReceived)]) == 101
    assert srv.should_close and srv.receive(b"\x00" * 100, 2.0) == []


def test_resets_at_a_browsers_pace_are_allowed_indefinitely() -> None:
    srv, peer = connected(H2Limits(reset_burst=100.0, reset_rate=20.0))
    stream_id = 1
    for second in range(60):
        for _ in range(10):  # 10 cancellations a second, for a minute
            peer.send_headers(stream_id, request_headers())
            peer.reset_stream(stream_id)
            stream_id += 2
        exchange(srv, peer, now=float(second))
    assert not srv.terminated


def test_a_continuation_flood_is_cut_at_the_field_block_cap() -> None:
    srv = server(H2Limits(max_field_block_size=80 * 1024))
    srv.receive(raw_preface(), 0.0)
    srv.data_to_send()
    flood = raw_headers(1, b"", end_stream=True, end_headers=False)
    flood += hyperframe.frame.ContinuationFrame(1, b"").serialize() * 100_000
    started = time.perf_counter()
    events = srv.receive(flood, 0.0)
    assert time.perf_counter() - started < 1.0
    goaway = goaway_of(srv.data_to_send())
    assert goaway is not None and goaway.error_code == ENHANCE_YOUR_CALM
    assert [type(e) for e in events] == [ConnectionTerminated]


def test_an_hpack_bomb_is_refused_at_the_header_list_cap() -> None:
    srv = server(H2Limits(max_header_list_size=64 * 1024))
    srv.receive(raw_preface(), 0.0)
    srv.data_to_send()
    encoder = hpack.Encoder()
    block = encoder.encode([*request_headers(), (b"x-bomb", b"a" * 4000)])
    # one indexed reference (one octet) to the 4 KB dynamic entry, repeated: 49 MB if decoded
    block += bytes([0x80 | 62]) * 12000
    started = time.perf_counter()
    srv.receive(raw_headers(1, block), 0.0)
    assert time.perf_counter() - started < 0.5
    goaway = goaway_of(srv.data_to_send())
    assert goaway is not None and goaway.error_code == h2.errors.ErrorCodes.COMPRESSION_ERROR


def test_a_header_section_over_the_http1_limit_gets_431_not_a_connection_error() -> None:
    srv, peer = connected()
    peer.send_headers(1, request_headers(**{f"x_f{i}": b"v" * 200 for i in range(90)}), end_stream=True)
    seen = exchange(srv, peer)
    response = seen.of(h2.events.ResponseReceived)
    assert response and dict(response[0].headers)[b":status"] == b"431"
    assert not srv.terminated


def test_a_ping_flood_gets_goaway_enhance_your_calm() -> None:
    srv, peer = connected(H2Limits(control_burst=500.0, control_rate=50.0))
    for n in range(2000):
        peer.ping(n.to_bytes(8, "big"))
    srv.receive(peer.data_to_send(), 1.0)
    out = srv.data_to_send()
    goaway = goaway_of(out)
    assert goaway is not None and goaway.error_code == ENHANCE_YOUR_CALM
    assert out.count(b"\x00\x00\x08\x06\x01") <= 501  # PING ACKs queued before the cut


def test_an_empty_data_flood_gets_goaway_enhance_your_calm() -> None:
    srv = server(H2Limits(control_burst=500.0))
    wire = raw_preface() + raw_headers(1, encode_block(request_headers(method=b"POST")), end_stream=False)
    wire += raw_data(1, b"") * 1000
    srv.receive(wire, 0.0)
    goaway = goaway_of(srv.data_to_send())
    assert goaway is not None and goaway.error_code == ENHANCE_YOUR_CALM


def test_data_beyond_the_connection_window_is_a_flow_control_error() -> None:
    srv = server(H2Limits(connection_window=65535, initial_window_size=1 << 20))
    wire = raw_preface() + raw_headers(1, encode_block(request_headers(method=b"POST")), end_stream=False)
    wire += raw_data(1, b"z" * 16384) * 5  # 81,920 octets into a 65,535 window
    srv.receive(wire, 0.0)
    goaway = goaway_of(srv.data_to_send())
    assert goaway is not None and goaway.error_code == FLOW_CONTROL_ERROR


def test_data_beyond_the_stream_window_resets_only_that_stream() -> None:
    srv = server(H2Limits(initial_window_size=65535))
    wire = raw_preface() + raw_headers(1, encode_block(request_headers(method=b"POST")), end_stream=False)
    wire += raw_data(1, b"z" * 16384) * 5  # 81,920 octets into a 65,535 window
    srv.receive(wire, 0.0)
    out = srv.data_to_send()
    assert goaway_of(out) is None and not srv.streams
    assert b"\x00\x00\x04\x03\x00\x00\x00\x00\x01\x00\x00\x00\x03" in out  # RST_STREAM 1 FLOW_CONTROL_ERROR
