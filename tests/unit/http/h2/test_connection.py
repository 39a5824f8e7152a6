"""The HTTP/2 server connection driven by python-hyper's `h2` client (the oracle), without sockets."""

from __future__ import annotations

import itertools

import h2.errors
import h2.events
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from originguard.http.h2.events import (
    ConnectionTerminated,
    DataReceived,
    RequestReceived,
    StreamEnded,
    StreamReset,
)
from originguard.http.h2.streams import (
    CANCEL,
    HALF_CLOSED_LOCAL,
    HALF_CLOSED_REMOTE,
    OPEN,
    RECV_END,
    RESET,
    SEND_END,
    TRANSITIONS,
    H2Limits,
    transition,
)
from tests.unit.http.h2.h2_peer import (
    client,
    connected,
    exchange,
    frames_of,
    goaway_of,
    request_headers,
    server,
)


def test_preface_settings_are_exchanged_and_acknowledged_both_ways() -> None:
    srv = server(H2Limits(max_concurrent_streams=7, initial_window_size=100_000))
    peer = client()
    seen = exchange(srv, peer)
    changed = seen.of(h2.events.RemoteSettingsChanged)
    assert (
        changed
        and changed[0].changed_settings[h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS].new_value == 7
    )
    assert changed[0].changed_settings[h2.settings.SettingCodes.ENABLE_PUSH].new_value == 0
    assert seen.of(h2.events.SettingsAcknowledged)  # our ACK of the client's SETTINGS
    assert peer.remote_settings.initial_window_size == 100_000
    # our connection window was raised past the default at once
    assert peer.outbound_flow_control_window == 1024 * 1024


def test_a_get_becomes_the_same_request_the_http1_path_builds_and_its_response_reaches_the_client() -> None:
    srv, peer = connected()
    peer.send_headers(1, request_headers(b"/a/b?x=1", user_agent=b"curl"), end_stream=True)
    seen = exchange(srv, peer)
    received = seen.of(RequestReceived)
    assert len(received) == 1 and received[0].end_stream
    request = received[0].request
    assert (request.method, request.target, request.path, request.query) == (
        b"GET",
        b"/a/b?x=1",
        b"/a/b",
        b"x=1",
    )
    assert request.host == b"www.example.com" and request.version == b"2.0" and request.keep_alive
    assert request.headers == [(b"host", b"www.example.com"), (b"user-agent", b"curl")]
    assert request.header(b"host") == b"www.example.com" and request.body is None
    assert (request.client_ip, request.scheme, request.tls_version) == ("192.0.2.7", "https", "TLSv1.3")
    assert [type(e) for e in seen.server_events] == [RequestReceived, StreamEnded]
    assert srv.send_headers(1, 200, [(b"content-type", b"text/plain"), (b"content-length", b"5")])
    assert srv.send_data(1, b"hello", end_stream=True)
    seen = exchange(srv, peer)
    response = seen.of(h2.events.ResponseReceived)[0]
    assert response.headers == [
        (b":status", b"200"),
        (b"content-type", b"text/plain"),
        (b"content-length", b"5"),
    ]
    assert b"".join(e.data for e in seen.of(h2.events.DataReceived)) == b"hello"
    assert seen.of(h2.events.StreamEnded) and not srv.streams


def test_ping_is_answered_with_its_own_octets() -> None:
    srv, peer = connected()
    peer.ping(b"8octets!")
    acks = exchange(srv, peer).of(h2.events.PingAckReceived)
    assert [a.ping_data for a in acks] == [b"8octets!"]


def test_a_request_body_arrives_in_order_and_acknowledging_it_reopens_the_clients_window() -> None:
    srv, peer = connected(H2Limits(initial_window_size=65535))
    body = bytes(range(256)) * 1000  # 256,000 octets: four windows' worth
    peer.send_headers(1, request_headers(b"/up", b"POST", content_length=b"%d" % len(body)))
    sent = 0
    got = bytearray()
    ended = False
    for _ in range(50):
        room = min(peer.local_flow_control_window(1), len(body) - sent, 16384)
        if room:
            peer.send_data(1, body[sent : sent + room], end_stream=sent + room == len(body))
            sent += room
        seen = exchange(srv, peer)
        for event in seen.of(DataReceived):
            got += event.data
            srv.acknowledge(1, event.flow_length)
        ended = ended or bool(seen.of(StreamEnded))
        exchange(srv, peer)
        if ended:
            break
    assert bytes(got) == body and ended


def test_a_response_larger_than_the_clients_window_waits_for_window_updates() -> None:
    srv, peer = connected(initial_window_size=1000)
    peer.send_headers(1, request_headers(), end_stream=True)
    exchange(srv, peer)
    srv.send_headers(1, 200, [])
    srv.send_data(1, b"x" * 5000, end_stream=True)
    seen = exchange(srv, peer)
    assert sum(len(e.data) for e in seen.of(h2.events.DataReceived)) == 1000
    assert srv.buffered(1) == 4000 and not seen.of(h2.events.StreamEnded)
    total = 1000
    for _ in range(10):
        peer.acknowledge_received_data(1000, 1)
        seen = exchange(srv, peer)
        total += sum(len(e.data) for e in seen.of(h2.events.DataReceived))
        if seen.of(h2.events.StreamEnded):
            break
    assert total == 5000 and not srv.streams


def test_a_response_stalled_by_a_closed_window_is_reset_at_the_stall_deadline() -> None:
    srv, peer = connected(H2Limits(stall_timeout=30.0), initial_window_size=0)
    peer.send_headers(1, request_headers(), end_stream=True)
    exchange(srv, peer)
    srv.send_headers(1, 200, [])
    srv.send_data(1, b"x" * 100_000, end_stream=True)
    exchange(srv, peer, now=1.0)
    assert srv.tick(29.0) == [] and srv.buffered(1) == 100_000
    events = srv.tick(31.5)
    assert [(type(e), e.error_code, e.remote) for e in events] == [(StreamReset, CANCEL, False)]
    resets = exchange(srv, peer).of(h2.events.StreamReset)
    assert [r.error_code for r in resets] == [h2.errors.ErrorCodes.CANCEL] and not srv.streams


def test_a_peer_settings_change_of_initial_window_moves_open_streams_windows() -> None:
    srv, peer = connected(initial_window_size=10)
    peer.send_headers(1, request_headers(), end_stream=True)
    exchange(srv, peer)
    srv.send_headers(1, 200, [])
    srv.send_data(1, b"y" * 50, end_stream=True)
    assert sum(len(e.data) for e in exchange(srv, peer).of(h2.events.DataReceived)) == 10
    peer.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 100})
    seen = exchange(srv, peer)
    assert sum(len(e.data) for e in seen.of(h2.events.DataReceived)) == 40 and seen.of(h2.events.StreamEnded)


def test_a_stream_over_max_concurrent_streams_is_refused() -> None:
    srv, peer = connected(H2Limits(max_concurrent_streams=2))
    peer.remote_settings.max_concurrent_streams = 10  # a client that ignores our SETTINGS
    peer.remote_settings.acknowledge()
    for stream_id in (1, 3, 5):
        peer.send_headers(stream_id, request_headers())
    seen = exchange(srv, peer)
    assert [e.stream_id for e in seen.of(RequestReceived)] == [1, 3]
    assert [(r.stream_id, r.error_code) for r in seen.of(h2.events.StreamReset)] == [
        (5, h2.errors.ErrorCodes.REFUSED_STREAM)
    ]


def test_graceful_goaway_finishes_open_streams_and_ignores_later_ones() -> None:
    srv, peer = connected()
    peer.send_headers(1, request_headers(), end_stream=True)
    exchange(srv, peer)
    srv.start_shutdown()
    goaway = goaway_of(srv.data_to_send())
    assert goaway is not None and (goaway.error_code, goaway.last_stream_id) == (0, 1)
    # h2 closes on any GOAWAY it receives, so the rest is read as raw frames
    peer.send_headers(3, request_headers(b"/late"), end_stream=True)
    assert srv.receive(peer.data_to_send(), 0.0) == []  # stream 3 is above the last-stream-id
    assert not srv.should_close  # stream 1 is still being answered
    srv.send_headers(1, 204, [], end_stream=True)
    frames = frames_of(srv.data_to_send())
    assert [(type(f).__name__, f.stream_id) for f in frames] == [("HeadersFrame", 1)]
    assert srv.should_close


def test_client_goaway_closes_once_streams_are_done() -> None:
    srv, peer = connected()
    peer.send_headers(1, request_headers(), end_stream=True)
    peer.close_connection()
    seen = exchange(srv, peer)
    assert seen.of(ConnectionTerminated)[0].remote and not srv.should_close
    srv.send_headers(1, 204, [], end_stream=True)
    assert srv.should_close


def test_a_client_reset_reaches_the_app_and_frees_the_stream() -> None:
    srv, peer = connected()
    peer.send_headers(1, request_headers(b"/up", b"POST"))
    exchange(srv, peer)
    peer.reset_stream(1, h2.errors.ErrorCodes.CANCEL)
    seen = exchange(srv, peer)
    assert [(e.stream_id, e.remote) for e in seen.of(StreamReset)] == [(1, True)]
    assert not srv.streams and not srv.send_data(1, b"late")


def test_trailers_end_the_request_and_are_dropped() -> None:
    srv, peer = connected()
    peer.send_headers(1, request_headers(b"/", b"POST"))
    peer.send_data(1, b"abc")
    peer.send_headers(1, [(b"x-checksum", b"1")], end_stream=True)
    seen = exchange(srv, peer)
    assert [type(e) for e in seen.server_events] == [RequestReceived, DataReceived, StreamEnded]


def test_a_request_body_that_stops_arriving_is_reset_at_the_body_deadline() -> None:
    srv, peer = connected(H2Limits(body_timeout=30.0))
    peer.send_headers(1, request_headers(b"/", b"POST"))
    exchange(srv, peer, now=0.0)
    assert srv.tick(20.0) == []
    assert [type(e) for e in srv.tick(30.5)] == [StreamReset]


def test_an_idle_connection_gets_goaway_at_the_idle_deadline() -> None:
    srv, peer = connected(H2Limits(idle_timeout=60.0))
    srv.tick(59.0)
    assert not srv.should_close
    srv.tick(61.0)
    assert srv.should_close and exchange(srv, peer).of(h2.events.ConnectionTerminated)


def test_an_early_response_resets_the_rest_of_the_request_body_with_no_error() -> None:
    srv, peer = connected()
    peer.send_headers(1, request_headers(b"/up", b"POST"))
    exchange(srv, peer)
    srv.send_headers(1, 403, [], end_stream=True)
    seen = exchange(srv, peer)
    assert [r.error_code for r in seen.of(h2.events.StreamReset)] == [h2.errors.ErrorCodes.NO_ERROR]
    assert not srv.streams


@pytest.mark.parametrize("state", [OPEN, HALF_CLOSED_REMOTE, HALF_CLOSED_LOCAL, 4])
@pytest.mark.parametrize("event", [RECV_END, SEND_END, RESET])
def test_every_stream_state_and_event_pair_moves_by_the_table_or_raises(state: int, event: int) -> None:
    if (state, event) in TRANSITIONS:
        assert transition(state, event) == TRANSITIONS[(state, event)]
    else:
        with pytest.raises(RuntimeError):
            transition(state, event)


def _client_bytes() -> bytes:
    peer = client()
    peer.send_headers(1, request_headers(b"/one"), end_stream=True)
    peer.send_headers(3, request_headers(b"/two", b"POST", content_length=b"11"))
    peer.send_data(3, b"hello ")
    peer.ping(b"pingpong")
    peer.send_data(3, b"world", end_stream=True)
    peer.send_headers(5, request_headers(b"/three?q", cookie=b"a=1"), end_stream=True)
    return peer.data_to_send()


def _summary(events: list[object]) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for event in events:
        if isinstance(event, RequestReceived):
            out.append(("request", event.stream_id, event.request.target, event.end_stream))
        elif isinstance(event, DataReceived):
            if out and out[-1][0] == "data" and out[-1][1] == event.stream_id:
                out[-1] = ("data", event.stream_id, out[-1][2] + event.data)  # type: ignore[operator]
            else:
                out.append(("data", event.stream_id, event.data))
        else:
            out.append((type(event).__name__, getattr(event, "stream_id", 0)))
    return out


CLIENT_BYTES = _client_bytes()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(CLIENT_BYTES)), max_size=12))
def test_any_split_of_the_clients_bytes_gives_the_same_events_and_answers(cuts: list[int]) -> None:
    whole = server()
    expected = _summary(whole.receive(CLIENT_BYTES, 0.0))
    expected_out = whole.data_to_send()
    srv = server()
    events: list[object] = []
    out = b""
    points = sorted({0, len(CLIENT_BYTES), *cuts})
    for start, end in itertools.pairwise(points):
        events += srv.receive(CLIENT_BYTES[start:end], 0.0)
        out += srv.data_to_send()
    assert _summary(events) == expected
    assert out == expected_out
    assert [e[0] for e in expected].count("request") == 3
