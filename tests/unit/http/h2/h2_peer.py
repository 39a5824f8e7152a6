"""Test peers for the HTTP/2 server connection: python-hyper's `h2` client, and raw frames."""

from __future__ import annotations

from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events
import h2.settings
import hpack
import hyperframe.frame

from originguard.http.h2.connection import H2ServerConnection
from originguard.http.h2.events import Event
from originguard.http.h2.frame_types import PREFACE
from originguard.http.h2.request_head import HeadLimits, Origin
from originguard.http.h2.streams import H2Limits

HEAD_LIMITS = HeadLimits(16 * 1024, 100, 8 * 1024, 10 * 1024 * 1024)
ORIGIN = Origin("192.0.2.7", 50123, 443, "TLSv1.3")


def server(limits: H2Limits | None = None, head_limits: HeadLimits = HEAD_LIMITS) -> H2ServerConnection:
    return H2ServerConnection(limits or H2Limits(), head_limits, ORIGIN, now=0.0)


def client(validate: bool = True, **settings: int) -> h2.connection.H2Connection:
    config = h2.config.H2Configuration(
        client_side=True,
        header_encoding=None,
        validate_outbound_headers=validate,
        normalize_outbound_headers=validate,
        validate_inbound_headers=True,
    )
    connection = h2.connection.H2Connection(config)
    initial = {h2.settings.SettingCodes[name.upper()]: value for name, value in settings.items()}
    connection.local_settings = h2.settings.Settings(client=True, initial_values=initial or None)
    connection.initiate_connection()
    return connection


@dataclass
class Exchange:
    """What each side saw over one or more round trips."""

    server_events: list[Event] = field(default_factory=list)
    client_events: list[h2.events.Event] = field(default_factory=list)

    def of(self, kind: type) -> list:  # type: ignore[type-arg]
        return [e for e in self.server_events + self.client_events if isinstance(e, kind)]


def exchange(srv: H2ServerConnection, peer: h2.connection.H2Connection, now: float = 0.0) -> Exchange:
    """Move bytes both ways until neither side has anything to send."""
    seen = Exchange()
    for _ in range(100):
        outgoing = peer.data_to_send()
        if outgoing:
            seen.server_events += srv.receive(outgoing, now)
        back = srv.data_to_send()
        if back:
            seen.client_events += peer.receive_data(back)
        if not outgoing and not back:
            return seen
    raise AssertionError("the peers never went quiet")


def connected(
    limits: H2Limits | None = None, **settings: int
) -> tuple[H2ServerConnection, h2.connection.H2Connection]:
    srv = server(limits)
    peer = client(**settings)
    exchange(srv, peer)
    return srv, peer


def request_headers(path: bytes = b"/", method: bytes = b"GET", **extra: bytes) -> list[tuple[bytes, bytes]]:
    fields = [
        (b":method", method),
        (b":scheme", b"https"),
        (b":authority", b"www.example.com"),
        (b":path", path),
    ]
    return fields + [(name.replace("_", "-").encode(), value) for name, value in extra.items()]


# -- raw frames, for what a well-behaved client library refuses to send ---------------------------


def raw_preface() -> bytes:
    return PREFACE + hyperframe.frame.SettingsFrame(0).serialize()


def raw_headers(stream_id: int, block: bytes, end_stream: bool = True, end_headers: bool = True) -> bytes:
    frame = hyperframe.frame.HeadersFrame(stream_id, block)
    if end_stream:
        frame.flags.add("END_STREAM")
    if end_headers:
        frame.flags.add("END_HEADERS")
    return frame.serialize()


def raw_rst(stream_id: int, code: int = 8) -> bytes:
    return hyperframe.frame.RstStreamFrame(stream_id, error_code=code).serialize()


def raw_data(stream_id: int, data: bytes, end_stream: bool = False) -> bytes:
    frame = hyperframe.frame.DataFrame(stream_id, data)
    if end_stream:
        frame.flags.add("END_STREAM")
    return frame.serialize()


def encode_block(fields: list[tuple[bytes, bytes]], encoder: hpack.Encoder | None = None) -> bytes:
    return (encoder or hpack.Encoder()).encode(fields)


def frames_of(wire: bytes) -> list[hyperframe.frame.Frame]:
    """The server's output as hyperframe reads it."""
    frames = []
    pos = 0
    while pos < len(wire):
        frame, length = hyperframe.frame.Frame.parse_frame_header(memoryview(wire[pos : pos + 9]))
        frame.parse_body(memoryview(wire[pos + 9 : pos + 9 + length]))
        frames.append(frame)
        pos += 9 + length
    return frames


def goaway_of(wire: bytes) -> hyperframe.frame.GoAwayFrame | None:
    found = [f for f in frames_of(wire) if isinstance(f, hyperframe.frame.GoAwayFrame)]
    return found[-1] if found else None
