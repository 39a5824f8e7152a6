# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Compiled (mypyc): serializers for the HTTP/2 frames a server sends (RFC 9113 §6), bytes out.

The caller gives valid arguments (stream ids below 2^31, sizes within what the peer allows): these
functions build octets and check nothing, so a wrong argument is a bug in the connection layer.
No padding is ever sent, and PRIORITY and PUSH_PROMISE are not (a server has no use for them).
"""

from __future__ import annotations

from typing import Final

from originguard.http.h2.frame_types import (
    ACK,
    CONTINUATION,
    DATA,
    END_HEADERS,
    END_STREAM,
    GOAWAY,
    HEADERS,
    PING,
    RST_STREAM,
    SETTINGS,
    WINDOW_UPDATE,
)

SETTINGS_ACK: Final = b"\x00\x00\x00\x04\x01\x00\x00\x00\x00"


def frame_header(length: int, kind: int, flags: int, stream_id: int) -> bytes:
    """The 9-octet frame header (§4.1); the reserved bit is sent as 0."""
    return bytes(
        [
            (length >> 16) & 0xFF,
            (length >> 8) & 0xFF,
            length & 0xFF,
            kind,
            flags,
            (stream_id >> 24) & 0x7F,
            (stream_id >> 16) & 0xFF,
            (stream_id >> 8) & 0xFF,
            stream_id & 0xFF,
        ]
    )


def serialize_data(stream_id: int, data: bytes, end_stream: bool = False) -> bytes:
    """One DATA frame (no padding); `data` must fit the peer's SETTINGS_MAX_FRAME_SIZE."""
    return frame_header(len(data), DATA, END_STREAM if end_stream else 0, stream_id) + data


def serialize_headers(
    stream_id: int, block: bytes, end_stream: bool = False, max_frame_size: int = 16384
) -> bytes:
    """HEADERS carrying `block`, followed by CONTINUATIONs when it exceeds `max_frame_size` (§4.3)."""
    flags = END_STREAM if end_stream else 0
    if len(block) <= max_frame_size:
        return frame_header(len(block), HEADERS, flags | END_HEADERS, stream_id) + block
    parts = [frame_header(max_frame_size, HEADERS, flags, stream_id), block[:max_frame_size]]
    pos = max_frame_size
    while pos < len(block):
        chunk = block[pos : pos + max_frame_size]
        pos += len(chunk)
        parts.append(
            frame_header(len(chunk), CONTINUATION, END_HEADERS if pos >= len(block) else 0, stream_id)
        )
        parts.append(chunk)
    return b"".join(parts)


def serialize_settings(settings: list[tuple[int, int]]) -> bytes:
    """A SETTINGS frame with these (identifier, value) pairs, in order (§6.5.1)."""
    payload = bytearray()
    for identifier, value in settings:
        payload += identifier.to_bytes(2, "big") + value.to_bytes(4, "big")
    return frame_header(len(payload), SETTINGS, 0, 0) + bytes(payload)


def serialize_settings_ack() -> bytes:
    """The empty SETTINGS frame with ACK (§6.5.3)."""
    return SETTINGS_ACK


def serialize_ping(opaque: bytes, ack: bool = False) -> bytes:
    """PING with 8 opaque octets; a reply carries the received ones with ACK (§6.7)."""
    return frame_header(8, PING, ACK if ack else 0, 0) + opaque


def serialize_rst_stream(stream_id: int, error_code: int) -> bytes:
    """RST_STREAM ending one stream with an error code (§6.4)."""
    return frame_header(4, RST_STREAM, 0, stream_id) + error_code.to_bytes(4, "big")


def serialize_goaway(last_stream_id: int, error_code: int, debug: bytes = b"") -> bytes:
    """GOAWAY: streams above `last_stream_id` were not processed (§6.8)."""
    payload = (last_stream_id & 0x7FFFFFFF).to_bytes(4, "big") + error_code.to_bytes(4, "big") + debug
    return frame_header(len(payload), GOAWAY, 0, 0) + payload


def serialize_window_update(stream_id: int, increment: int) -> bytes:
    """WINDOW_UPDATE granting `increment` (1..2^31-1) octets on a stream, or 0 for the connection (§6.9)."""
    return frame_header(4, WINDOW_UPDATE, 0, stream_id) + increment.to_bytes(4, "big")
