"""The `h2` library's client as the peer: what it sends we read, what we send it understands."""

from __future__ import annotations

import h2.config
import h2.connection
import h2.events

from originguard.http.h2 import frame_writer as fw
from originguard.http.h2.frame_types import DATA, HEADERS, SETTINGS, WINDOW_UPDATE
from originguard.http.h2.frames import FrameReader
from originguard.http.h2.hpack import Decoder, Encoder

REQUEST = [
    (b":method", b"POST"),
    (b":authority", b"www.example.com"),
    (b":scheme", b"https"),
    (b":path", b"/upload?x=1"),
    (b"user-agent", b"h2-test"),
    (b"authorization", b"Bearer secret-token"),
    (b"content-length", b"5"),
]


def client() -> h2.connection.H2Connection:
    connection = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=None))
    connection.initiate_connection()
    return connection


def test_an_h2_clients_requests_parse_and_decode_with_ours() -> None:
    peer = client()
    peer.increment_flow_control_window(100_000)
    for stream_id in (1, 3, 5):
        peer.send_headers(stream_id, REQUEST)
        peer.send_data(stream_id, b"hello", end_stream=True)
    wire = peer.data_to_send()
    reader = FrameReader()
    decoder = Decoder()
    frames = [frame for cut in range(0, len(wire), 7) for frame in reader.feed(wire[cut : cut + 7])]
    assert [frame.kind for frame in frames] == [SETTINGS, WINDOW_UPDATE] + [HEADERS, DATA] * 3
    for headers in (frame for frame in frames if frame.kind == HEADERS):
        assert decoder.decode(headers.data) == REQUEST
        assert decoder.never_indexed == [5]  # h2 sends authorization never-indexed
    assert frames[1].increment == 100_000
    assert all(frame.data == b"hello" and frame.end_stream for frame in frames if frame.kind == DATA)


def test_an_h2_client_reads_our_settings_response_head_and_body() -> None:
    peer = client()
    peer.send_headers(1, REQUEST[:4], end_stream=True)
    peer.data_to_send()
    encoder = Encoder()
    head = [(b":status", b"200"), (b"content-type", b"text/plain"), (b"x-origin-verify", b"s3cret")]
    wire = (
        fw.serialize_settings([(3, 100), (4, 65535)])
        + fw.serialize_settings_ack()
        + fw.serialize_headers(1, encoder.encode(head, sensitive=frozenset({b"x-origin-verify"})))
        + fw.serialize_data(1, b"body", end_stream=True)
        + fw.serialize_ping(b"12345678")
        + fw.serialize_goaway(1, 0)
    )
    events = peer.receive_data(wire)
    kinds = [type(event) for event in events]
    assert h2.events.RemoteSettingsChanged in kinds and h2.events.SettingsAcknowledged in kinds
    (response,) = [event for event in events if isinstance(event, h2.events.ResponseReceived)]
    assert [(bytes(n), bytes(v)) for n, v in response.headers] == head
    assert type(response.headers[2]).__name__ == "NeverIndexedHeaderTuple"
    (body,) = [event for event in events if isinstance(event, h2.events.DataReceived)]
    assert body.data == b"body"
    assert any(isinstance(event, h2.events.StreamEnded) for event in events)
    assert any(isinstance(event, h2.events.PingReceived) for event in events)
    assert isinstance(events[-1], h2.events.ConnectionTerminated)
