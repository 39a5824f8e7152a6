# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Compiled (mypyc): the HTTP/2 frame reader (RFC 9113 §4, §6), bytes in any split -> `Frame`s; sans-IO.

`FrameReader.feed(data)` returns the frames completed by `data` (the same frames whatever the split
of the stream into reads). It checks what the frame layer alone can check, as the RFC says:
- connection errors (an H2Error with stream_id 0 is raised; the connection sends GOAWAY and ends):
  the client preface (§3.4), a frame larger than our SETTINGS_MAX_FRAME_SIZE (FRAME_SIZE_ERROR, seen
  from its 9-octet header, before its payload is buffered), wrong lengths of RST_STREAM, SETTINGS,
  PING, GOAWAY, WINDOW_UPDATE, frames on the wrong stream (0 or not 0), bad padding, bad SETTINGS
  values (§6.5.2), WINDOW_UPDATE 0 on the connection, PUSH_PROMISE sent to a server (§8.4), and a
  field block interrupted by any other frame or stream (§4.3, §6.10);
- stream errors do not stop the reader: the frame comes out with `error` set (an H2Error naming
  the stream) and the connection resets that stream (RST_STREAM) after decoding any field block it
  carries, so the HPACK state stays in step: a PRIORITY of the wrong length, a self-dependency
  (§5.3.1), WINDOW_UPDATE 0 on a stream (§6.9).
HEADERS (or PUSH_PROMISE) and its CONTINUATIONs come out as one frame holding the whole field block,
END_HEADERS set. The block is capped (`max_field_block_size`, each frame counted with its 9-octet
header so a flood of empty CONTINUATIONs hits the cap too: the 2024 CONTINUATION flood); past it
the connection ends with ENHANCE_YOUR_CALM. Unknown frame types are dropped (§5.5).
"""

from __future__ import annotations

from typing import Final

from originguard.errors import H2Error, H2FrameSizeError
from originguard.http.h2.frame_types import (
    ACK,
    CONTINUATION,
    DATA,
    END_HEADERS,
    GOAWAY,
    HEADERS,
    PADDED,
    PING,
    PREFACE,
    PRIORITY,
    PRIORITY_FLAG,
    PUSH_PROMISE,
    RST_STREAM,
    SETTINGS,
    WINDOW_UPDATE,
    Frame,
    check_setting,
)

DEFAULT_MAX_FRAME_SIZE: Final = 16384  # RFC 9113 §6.5.2 initial SETTINGS_MAX_FRAME_SIZE
DEFAULT_MAX_FIELD_BLOCK: Final = 65536 + 16384
FRAME_HEADER: Final = 9
ENHANCE_YOUR_CALM: Final = 0xB
FRAME_SIZE_ERROR: Final = 0x6


class FrameReader:
    """Parses one connection's incoming byte stream into frames."""

    def __init__(
        self,
        is_server: bool = True,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        max_field_block_size: int = DEFAULT_MAX_FIELD_BLOCK,
        expect_preface: bool = True,
    ) -> None:
        self.is_server = is_server
        self.max_frame_size = max_frame_size  # ours, as the peer has ACKed it
        self.max_field_block_size = max_field_block_size
        self.preface_pending = expect_preface and is_server
        self.buffer = bytearray()
        self.needed = len(PREFACE) if self.preface_pending else FRAME_HEADER
        # An open field block (HEADERS or PUSH_PROMISE without END_HEADERS) and its fragments.
        self.block_frame: Frame | None = None
        self.block_parts: list[bytes] = []
        self.block_size = 0

    def feed(self, data: bytes) -> list[Frame]:
        """The frames `data` completes; raises H2Error on a connection error."""
        frames: list[Frame] = []
        if len(self.buffer):
            self.buffer += data
            if len(self.buffer) < self.needed and not self.preface_pending:
                return frames
            data = bytes(self.buffer)
            self.buffer = bytearray()
        pos = 0
        end = len(data)
        if self.preface_pending:
            have = min(end, len(PREFACE))
            if data[:have] != PREFACE[:have]:
                raise H2Error("HTTP/2: the connection did not start with the client preface (RFC 9113 §3.4)")
            if have < len(PREFACE):
                self.buffer += data
                return frames
            self.preface_pending = False
            pos = len(PREFACE)
        max_size = self.max_frame_size
        while end - pos >= FRAME_HEADER:
            length = (data[pos] << 16) | (data[pos + 1] << 8) | data[pos + 2]
            if length > max_size:
                raise H2FrameSizeError("HTTP/2: frame larger than SETTINGS_MAX_FRAME_SIZE (RFC 9113 §4.2)")
            if end - pos - FRAME_HEADER < length:
                break
            kind = data[pos + 3]
            flags = data[pos + 4]
            stream_id = (
                ((data[pos + 5] & 0x7F) << 24) | (data[pos + 6] << 16) | (data[pos + 7] << 8) | data[pos + 8]
            )
            start = pos + FRAME_HEADER
            pos = start + length
            frame = self._frame(kind, flags, stream_id, data, start, pos)
            if frame is not None:
                frames.append(frame)
        if pos < end:
            self.buffer += data[pos:] if pos else data
            if end - pos < FRAME_HEADER:
                self.needed = FRAME_HEADER
            else:
                self.needed = FRAME_HEADER + ((data[pos] << 16) | (data[pos + 1] << 8) | data[pos + 2])
        return frames

    def _frame(
        self, kind: int, flags: int, stream_id: int, data: bytes, start: int, end: int
    ) -> Frame | None:
        if self.block_frame is not None:
            return self._continuation(kind, flags, stream_id, data, start, end)
        if kind == DATA:
            if stream_id == 0:
                raise H2Error("HTTP/2: DATA on stream 0 (RFC 9113 §6.1)")
            frame = Frame(kind, flags, stream_id, end - start)
            if flags & PADDED:
                start, end = _unpad(data, start, end)
            frame.data = data[start:end]
            return frame
        if kind == HEADERS:
            return self._headers(flags, stream_id, data, start, end)
        if kind == SETTINGS:
            return _settings(flags, stream_id, data, start, end, self.is_server)
        if kind == WINDOW_UPDATE:
            return _window_update(flags, stream_id, data, start, end)
        if kind == PING:
            if stream_id:
                raise H2Error("HTTP/2: PING on a stream (RFC 9113 §6.7)")
            if end - start != 8:
                raise H2FrameSizeError("HTTP/2: PING payload is not 8 octets (RFC 9113 §6.7)")
            frame = Frame(kind, flags, 0, 8)
            frame.data = data[start:end]
            return frame
        if kind == RST_STREAM:
            if stream_id == 0:
                raise H2Error("HTTP/2: RST_STREAM on stream 0 (RFC 9113 §6.4)")
            if end - start != 4:
                raise H2FrameSizeError("HTTP/2: RST_STREAM payload is not 4 octets (RFC 9113 §6.4)")
            frame = Frame(kind, flags, stream_id, 4)
            frame.error_code = _u32(data, start)
            return frame
        if kind == PRIORITY:
            return _priority(flags, stream_id, data, start, end)
        if kind == GOAWAY:
            if stream_id:
                raise H2Error("HTTP/2: GOAWAY on a stream (RFC 9113 §6.8)")
            if end - start < 8:
                raise H2FrameSizeError("HTTP/2: GOAWAY payload shorter than 8 octets (RFC 9113 §6.8)")
            frame = Frame(kind, flags, 0, end - start)
            frame.last_stream_id = _u32(data, start) & 0x7FFFFFFF
            frame.error_code = _u32(data, start + 4)
            frame.data = data[start + 8 : end]
            return frame
        if kind == PUSH_PROMISE:
            return self._push_promise(flags, stream_id, data, start, end)
        if kind == CONTINUATION:
            raise H2Error("HTTP/2: CONTINUATION without an open field block (RFC 9113 §6.10)")
        return None  # §5.5: unknown frame types are ignored

    def _headers(self, flags: int, stream_id: int, data: bytes, start: int, end: int) -> Frame | None:
        if stream_id == 0:
            raise H2Error("HTTP/2: HEADERS on stream 0 (RFC 9113 §6.2)")
        frame = Frame(HEADERS, flags, stream_id, end - start)
        pad = 0
        if flags & PADDED:
            if end - start < 1:
                raise H2FrameSizeError("HTTP/2: padded frame without a pad length (RFC 9113 §6.2)")
            pad = data[start]
            start += 1
        if flags & PRIORITY_FLAG:
            if end - start < 5:
                raise H2FrameSizeError("HTTP/2: HEADERS too short for its priority fields (RFC 9113 §6.2)")
            _read_priority(frame, data, start)
            start += 5
        if pad > end - start:
            raise H2Error("HTTP/2: HEADERS padding longer than the payload (RFC 9113 §6.2)")
        return self._field_block(frame, data[start : end - pad])

    def _push_promise(self, flags: int, stream_id: int, data: bytes, start: int, end: int) -> Frame | None:
        if self.is_server:
            raise H2Error("HTTP/2: PUSH_PROMISE sent to a server (RFC 9113 §8.4)")
        if stream_id == 0:
            raise H2Error("HTTP/2: PUSH_PROMISE on stream 0 (RFC 9113 §6.6)")
        frame = Frame(PUSH_PROMISE, flags, stream_id, end - start)
        if flags & PADDED:
            start, end = _unpad(data, start, end)
        if end - start < 4:
            raise H2FrameSizeError("HTTP/2: PUSH_PROMISE without a promised stream (RFC 9113 §6.6)")
        frame.promised_stream_id = _u32(data, start) & 0x7FFFFFFF
        return self._field_block(frame, data[start + 4 : end])

    def _field_block(self, frame: Frame, fragment: bytes) -> Frame | None:
        if frame.flags & END_HEADERS:
            frame.data = fragment
            return frame
        self.block_frame = frame
        self.block_parts = [fragment]
        self.block_size = FRAME_HEADER + len(fragment)
        self._check_block_size()
        return None

    def _continuation(
        self, kind: int, flags: int, stream_id: int, data: bytes, start: int, end: int
    ) -> Frame | None:
        frame = self.block_frame
        assert frame is not None
        if kind != CONTINUATION or stream_id != frame.stream_id:
            raise H2Error("HTTP/2: a field block interrupted by another frame (RFC 9113 §4.3)")
        self.block_parts.append(data[start:end])
        self.block_size += FRAME_HEADER + end - start
        self._check_block_size()
        if flags & END_HEADERS:
            frame.flags |= END_HEADERS
            frame.data = b"".join(self.block_parts)
            self.block_frame = None
            self.block_parts = []
            return frame
        return None

    def _check_block_size(self) -> None:
        if self.block_size > self.max_field_block_size:
            raise H2Error(
                "HTTP/2: field block larger than its cap (CONTINUATION flood)", 0, ENHANCE_YOUR_CALM
            )


def _settings(flags: int, stream_id: int, data: bytes, start: int, end: int, is_server: bool) -> Frame:
    if stream_id:
        raise H2Error("HTTP/2: SETTINGS on a stream (RFC 9113 §6.5)")
    length = end - start
    if flags & ACK and length:
        raise H2FrameSizeError("HTTP/2: SETTINGS ACK with a payload (RFC 9113 §6.5)")
    if length % 6:
        raise H2FrameSizeError("HTTP/2: SETTINGS payload not a multiple of 6 octets (RFC 9113 §6.5)")
    frame = Frame(SETTINGS, flags, 0, length)
    settings: list[tuple[int, int]] = []
    for pos in range(start, end, 6):
        identifier = (data[pos] << 8) | data[pos + 1]
        value = _u32(data, pos + 2)
        if check_setting(identifier, value, is_server):
            settings.append((identifier, value))
    frame.settings = settings
    return frame


def _window_update(flags: int, stream_id: int, data: bytes, start: int, end: int) -> Frame:
    if end - start != 4:
        raise H2FrameSizeError("HTTP/2: WINDOW_UPDATE payload is not 4 octets (RFC 9113 §6.9)")
    frame = Frame(WINDOW_UPDATE, flags, stream_id, 4)
    frame.increment = _u32(data, start) & 0x7FFFFFFF
    if frame.increment == 0:
        if stream_id == 0:
            raise H2Error("HTTP/2: WINDOW_UPDATE of 0 on the connection (RFC 9113 §6.9)")
        frame.error = H2Error("HTTP/2: WINDOW_UPDATE of 0 (RFC 9113 §6.9)", stream_id)
    return frame


def _priority(flags: int, stream_id: int, data: bytes, start: int, end: int) -> Frame:
    if stream_id == 0:
        raise H2Error("HTTP/2: PRIORITY on stream 0 (RFC 9113 §6.3)")
    frame = Frame(PRIORITY, flags, stream_id, end - start)
    if end - start != 5:
        frame.error = H2Error(
            "HTTP/2: PRIORITY payload is not 5 octets (RFC 9113 §6.3)", stream_id, FRAME_SIZE_ERROR
        )
        return frame
    _read_priority(frame, data, start)
    return frame


def _read_priority(frame: Frame, data: bytes, start: int) -> None:
    dependency = _u32(data, start)
    frame.exclusive = dependency >> 31 == 1
    frame.depends_on = dependency & 0x7FFFFFFF
    frame.weight = data[start + 4] + 1
    if frame.depends_on == frame.stream_id:
        frame.error = H2Error("HTTP/2: a stream depends on itself (RFC 9113 §5.3.1)", frame.stream_id)


def _unpad(data: bytes, start: int, end: int) -> tuple[int, int]:
    """(start, end) of a padded payload's content (§6.1): padding must leave the pad length octet."""
    if end - start < 1:
        raise H2FrameSizeError("HTTP/2: padded frame without a pad length (RFC 9113 §6.1)")
    if data[start] >= end - start:
        raise H2Error("HTTP/2: padding as long as the frame payload (RFC 9113 §6.1)")
    return start + 1, end - data[start]


def _u32(data: bytes, pos: int) -> int:
    return (data[pos] << 24) | (data[pos + 1] << 16) | (data[pos + 2] << 8) | data[pos + 3]
