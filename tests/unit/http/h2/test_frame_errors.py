"""Each frame-level violation gets the RFC 9113 error, as a connection error or on its stream."""

from __future__ import annotations

import pytest

from originguard.errors import H2Error
from originguard.http.h2.frame_types import PREFACE
from originguard.http.h2.frame_writer import frame_header
from originguard.http.h2.frames import FrameReader
from originguard.http.h2.hpack import Decoder

PROTOCOL_ERROR, FLOW_CONTROL_ERROR, FRAME_SIZE_ERROR, ENHANCE_YOUR_CALM = 0x1, 0x3, 0x6, 0xB


def frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    return frame_header(len(payload), kind, flags, stream) + payload


def setting(identifier: int, value: int) -> bytes:
    return identifier.to_bytes(2, "big") + value.to_bytes(4, "big")


HEADERS_OPEN = frame(1, 0, 1, b"\x82")  # HEADERS without END_HEADERS


@pytest.mark.parametrize(
    ("wire", "code", "reason"),
    [
        (frame(0, 0, 1, b"x" * 16385), FRAME_SIZE_ERROR, "SETTINGS_MAX_FRAME_SIZE"),
        (frame(0, 0, 0, b"x"), PROTOCOL_ERROR, "DATA on stream 0"),
        (frame(0, 0x8, 1, b"\x05abcd"), PROTOCOL_ERROR, "padding"),
        (frame(0, 0x8, 1, b""), FRAME_SIZE_ERROR, "pad length"),
        (frame(1, 0x4 | 0x8, 1, b"\x05ab"), PROTOCOL_ERROR, "padding"),
        (frame(1, 0x4 | 0x20, 1, b"\x00\x00"), FRAME_SIZE_ERROR, "priority"),
        (frame(1, 0x4, 0, b"\x82"), PROTOCOL_ERROR, "HEADERS on stream 0"),
        (frame(4, 0, 1, b""), PROTOCOL_ERROR, "SETTINGS on a stream"),
        (frame(4, 1, 0, setting(1, 0)), FRAME_SIZE_ERROR, "ACK with a payload"),
        (frame(4, 0, 0, b"\x00\x01\x00"), FRAME_SIZE_ERROR, "multiple of 6"),
        (frame(4, 0, 0, setting(2, 2)), PROTOCOL_ERROR, "0 or 1"),
        (frame(4, 0, 0, setting(4, 2**31)), FLOW_CONTROL_ERROR, "INITIAL_WINDOW_SIZE"),
        (frame(4, 0, 0, setting(5, 16383)), PROTOCOL_ERROR, "MAX_FRAME_SIZE"),
        (frame(4, 0, 0, setting(5, 2**24)), PROTOCOL_ERROR, "MAX_FRAME_SIZE"),
        (frame(4, 0, 0, setting(8, 3)), PROTOCOL_ERROR, "0 or 1"),
        (frame(5, 0x4, 1, b"\x00\x00\x00\x02"), PROTOCOL_ERROR, "PUSH_PROMISE sent to a server"),
        (frame(6, 0, 0, b"1234567"), FRAME_SIZE_ERROR, "8 octets"),
        (frame(6, 0, 1, b"12345678"), PROTOCOL_ERROR, "PING on a stream"),
        (frame(7, 0, 0, b"\x00\x00\x00"), FRAME_SIZE_ERROR, "GOAWAY payload"),
        (frame(7, 0, 3, b"\x00" * 8), PROTOCOL_ERROR, "GOAWAY on a stream"),
        (frame(3, 0, 0, b"\x00" * 4), PROTOCOL_ERROR, "RST_STREAM on stream 0"),
        (frame(3, 0, 1, b"\x00" * 5), FRAME_SIZE_ERROR, "RST_STREAM payload"),
        (frame(8, 0, 0, b"\x00\x00\x00\x00"), PROTOCOL_ERROR, "WINDOW_UPDATE of 0 on the connection"),
        (frame(8, 0, 1, b"\x00\x00\x01"), FRAME_SIZE_ERROR, "WINDOW_UPDATE payload"),
        (frame(2, 0, 0, b"\x00" * 5), PROTOCOL_ERROR, "PRIORITY on stream 0"),
        (frame(9, 0x4, 1, b"\x82"), PROTOCOL_ERROR, "CONTINUATION without"),
        (HEADERS_OPEN + frame(0, 0, 1, b"x"), PROTOCOL_ERROR, "interrupted"),
        (HEADERS_OPEN + frame(9, 0x4, 3, b"\x84"), PROTOCOL_ERROR, "interrupted"),
        (HEADERS_OPEN + frame(0xFA, 0, 0, b"ext"), PROTOCOL_ERROR, "interrupted"),  # §5.5
    ],
)
def test_connection_errors_carry_their_rfc_error_code(wire: bytes, code: int, reason: str) -> None:
    with pytest.raises(H2Error) as caught:
        FrameReader(expect_preface=False).feed(wire)
    assert (caught.value.code, caught.value.stream_id) == (code, 0)
    assert reason in caught.value.reason


def test_a_frame_too_large_is_refused_from_its_header_before_the_payload_arrives() -> None:
    with pytest.raises(H2Error) as caught:
        FrameReader(expect_preface=False).feed(frame_header(2**24 - 1, 0, 1, 0))
    assert caught.value.code == FRAME_SIZE_ERROR


def test_a_wrong_preface_is_a_protocol_error_even_when_split() -> None:
    reader = FrameReader()
    assert reader.feed(PREFACE[:5]) == []
    with pytest.raises(H2Error) as caught:
        reader.feed(b"GET / HTTP/1.1\r\n\r\n")
    assert caught.value.code == PROTOCOL_ERROR


@pytest.mark.parametrize(
    ("wire", "code"),
    [
        (frame(8, 0, 7, b"\x00\x00\x00\x00"), PROTOCOL_ERROR),  # §6.9 WINDOW_UPDATE 0 on a stream
        (frame(2, 0, 7, b"\x00" * 4), FRAME_SIZE_ERROR),  # §6.3
        (frame(2, 0, 7, b"\x00\x00\x00\x07\x10"), PROTOCOL_ERROR),  # §5.3.1 depends on itself
        (frame(1, 0x4 | 0x20, 7, b"\x00\x00\x00\x07\x10\x82"), PROTOCOL_ERROR),
    ],
)
def test_stream_errors_come_out_on_the_frame_and_reading_goes_on(wire: bytes, code: int) -> None:
    ping = frame(6, 0, 0, b"12345678")
    first, after = FrameReader(expect_preface=False).feed(wire + ping)
    assert first.error is not None
    assert (first.error.code, first.error.stream_id) == (code, 7)
    assert after.kind == 6


def test_unknown_frame_types_and_settings_are_ignored() -> None:
    wire = frame(0xFA, 0, 0, b"ext") + frame(4, 0, 0, setting(0x99, 5) + setting(3, 100))
    (settings,) = FrameReader(expect_preface=False).feed(wire)
    assert settings.settings == [(3, 100)]


def test_continuation_flood_is_cut_at_the_field_block_cap() -> None:
    reader = FrameReader(expect_preface=False, max_field_block_size=4096)
    reader.feed(HEADERS_OPEN)
    empty = frame(9, 0, 1, b"")
    with pytest.raises(H2Error) as caught:
        for _ in range(4096 // 9 + 1):  # empty CONTINUATIONs count 9 octets each
            reader.feed(empty)
    assert (caught.value.code, caught.value.stream_id) == (ENHANCE_YOUR_CALM, 0)


def test_hpack_errors_are_connection_compression_errors() -> None:
    (headers,) = FrameReader(expect_preface=False).feed(frame(1, 0x4, 1, b"\xbe"))
    with pytest.raises(H2Error) as caught:
        Decoder().decode(headers.data)
    assert (caught.value.code, caught.value.stream_id) == (0x9, 0)
