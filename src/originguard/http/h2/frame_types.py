# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Compiled (mypyc): HTTP/2 frame types, flags, SETTINGS rules (RFC 9113 §6) and the parsed `Frame`."""

from __future__ import annotations

from typing import Final

from originguard.errors import H2Error

PREFACE: Final = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"  # RFC 9113 §3.4

DATA: Final = 0x0
HEADERS: Final = 0x1
PRIORITY: Final = 0x2
RST_STREAM: Final = 0x3
SETTINGS: Final = 0x4
PUSH_PROMISE: Final = 0x5
PING: Final = 0x6
GOAWAY: Final = 0x7
WINDOW_UPDATE: Final = 0x8
CONTINUATION: Final = 0x9

END_STREAM: Final = 0x1
ACK: Final = 0x1
END_HEADERS: Final = 0x4
PADDED: Final = 0x8
PRIORITY_FLAG: Final = 0x20

HEADER_TABLE_SIZE: Final = 0x1
ENABLE_PUSH: Final = 0x2
MAX_CONCURRENT_STREAMS: Final = 0x3
INITIAL_WINDOW_SIZE: Final = 0x4
MAX_FRAME_SIZE: Final = 0x5
MAX_HEADER_LIST_SIZE: Final = 0x6
ENABLE_CONNECT_PROTOCOL: Final = 0x8  # RFC 8441 §3
NO_RFC7540_PRIORITIES: Final = 0x9  # RFC 9218 §2.1

MAX_WINDOW: Final = 0x7FFFFFFF
MIN_MAX_FRAME_SIZE: Final = 16384
MAX_MAX_FRAME_SIZE: Final = 0xFFFFFF
FLOW_CONTROL_ERROR: Final = 0x3


class Frame:
    """One received frame; fields a type does not carry keep their defaults.

    `length` is the payload length as sent (padding included: DATA counts whole against flow
    control, RFC 9113 §6.9.1); `data` is DATA's content, the whole field block of HEADERS and
    PUSH_PROMISE, PING's opaque octets or GOAWAY's debug data; `error` is a stream error the
    connection must answer with RST_STREAM (after decoding the frame's field block, if any).
    """

    def __init__(self, kind: int, flags: int, stream_id: int, length: int) -> None:
        self.kind = kind
        self.flags = flags
        self.stream_id = stream_id
        self.length = length
        self.data = b""
        self.settings: list[tuple[int, int]] = []
        self.error_code = 0  # RST_STREAM, GOAWAY
        self.last_stream_id = 0  # GOAWAY
        self.promised_stream_id = 0  # PUSH_PROMISE
        self.increment = 0  # WINDOW_UPDATE
        self.depends_on = 0  # PRIORITY, HEADERS with the PRIORITY flag
        self.exclusive = False
        self.weight = 16  # RFC 9113 §5.3.5 default (deprecated signal, kept for the record)
        self.error: H2Error | None = None

    @property
    def end_stream(self) -> bool:
        return bool(self.flags & END_STREAM) and (self.kind == DATA or self.kind == HEADERS)

    @property
    def end_headers(self) -> bool:
        return bool(self.flags & END_HEADERS)

    @property
    def ack(self) -> bool:
        return bool(self.flags & ACK) and (self.kind == SETTINGS or self.kind == PING)

    def __repr__(self) -> str:
        return (
            f"Frame(kind={self.kind}, flags={self.flags:#x}, stream={self.stream_id}, length={self.length})"
        )


def check_setting(identifier: int, value: int, is_server: bool) -> bool:
    """Whether to keep a received setting; H2Error when its value is out of range (RFC 9113 §6.5.2)."""
    if identifier in (ENABLE_PUSH, ENABLE_CONNECT_PROTOCOL, NO_RFC7540_PRIORITIES):
        if value > 1:
            raise H2Error(f"HTTP/2: SETTINGS {identifier:#x} must be 0 or 1 (RFC 9113 §6.5.2)")
        if identifier == ENABLE_PUSH and value == 1 and not is_server:
            raise H2Error("HTTP/2: a server sent SETTINGS_ENABLE_PUSH 1 (RFC 9113 §6.5.2)")
        return True
    if identifier == INITIAL_WINDOW_SIZE:
        if value > MAX_WINDOW:
            raise H2Error(
                "HTTP/2: SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 (RFC 9113 §6.5.2)", 0, FLOW_CONTROL_ERROR
            )
        return True
    if identifier == MAX_FRAME_SIZE:
        if value < MIN_MAX_FRAME_SIZE or value > MAX_MAX_FRAME_SIZE:
            raise H2Error("HTTP/2: SETTINGS_MAX_FRAME_SIZE outside 2^14..2^24-1 (RFC 9113 §6.5.2)")
        return True
    # §6.5.2: an unknown setting is ignored
    return identifier in (HEADER_TABLE_SIZE, MAX_CONCURRENT_STREAMS, MAX_HEADER_LIST_SIZE)
