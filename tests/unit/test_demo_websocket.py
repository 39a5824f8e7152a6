"""The demo app's RFC 6455 frame reader and writer (demo_websocket.py)."""

from __future__ import annotations

import os
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from originguard.demo_websocket import (
    BINARY,
    PING,
    TEXT,
    FrameReader,
    ProtocolViolation,
    accept_key,
    frame,
    unmask,
)


def client_frame(
    opcode: int, payload: bytes, *, fin: bool = True, mask: bytes = b"\x37\xfa\x21\x3d"
) -> bytes:
    size = len(payload)
    first = (0x80 if fin else 0) | opcode
    if size < 126:
        head = struct.pack("!BB", first, 0x80 | size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", first, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", first, 0x80 | 127, size)
    return head + mask + unmask(payload, mask)


def test_accept_key_of_the_rfc_example() -> None:
    assert accept_key(b"dGhlIHNhbXBsZSBub25jZQ==") == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455 §1.3


def test_rfc_masked_hello() -> None:
    # RFC 6455 §5.7: a single-frame masked text message "Hello".
    assert FrameReader().feed(bytes.fromhex("818537fa213d7f9f4d5158")) == [(True, TEXT, b"Hello")]


@given(st.binary(max_size=70_000), st.integers(1, 9))
def test_frames_split_anywhere_are_read_whole(payload: bytes, pieces: int) -> None:
    wire = client_frame(BINARY, payload) + client_frame(PING, b"p")
    reader = FrameReader()
    step = max(1, len(wire) // pieces)
    got = []
    for at in range(0, len(wire), step):
        got.extend(reader.feed(wire[at : at + step]))
    assert got == [(True, BINARY, payload), (True, PING, b"p")]


def test_unmasked_client_frame_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolViolation) as error:
        FrameReader().feed(frame(TEXT, b"hi"))
    assert error.value.code == 1002


def test_fragmented_control_frame_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolViolation):
        FrameReader().feed(client_frame(PING, b"x", fin=False))


def test_server_frames_use_the_shortest_length() -> None:
    assert frame(TEXT, b"a" * 125)[:2] == b"\x81\x7d"
    assert frame(BINARY, b"a" * 126)[:4] == b"\x82\x7e\x00\x7e"
    big = os.urandom(70_000)
    assert frame(BINARY, big)[:10] == b"\x82\x7f" + struct.pack("!Q", 70_000)
