# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""HTTP/2 stream states (RFC 9113 §5.1) as a table, a stream's windows and queue, the limits (pure)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Final

# RFC 9113 §7 error codes
NO_ERROR: Final = 0x0
PROTOCOL_ERROR: Final = 0x1
INTERNAL_ERROR: Final = 0x2
FLOW_CONTROL_ERROR: Final = 0x3
STREAM_CLOSED: Final = 0x5
REFUSED_STREAM: Final = 0x7
CANCEL: Final = 0x8
ENHANCE_YOUR_CALM: Final = 0xB
ENABLE_PUSH: Final = 0x2

DEFAULT_WINDOW: Final = 65535  # RFC 9113 §6.9.2, both the stream and the connection window

# Stream states (RFC 9113 §5.1; idle is a stream not yet in `streams`, closed one removed from it).
OPEN: Final = 1
HALF_CLOSED_REMOTE: Final = 2  # the request is in; our response is on its way
HALF_CLOSED_LOCAL: Final = 3  # our response ended first; the request body is still coming
CLOSED: Final = 4
RECV_END: Final = 1
SEND_END: Final = 2
RESET: Final = 3
TRANSITIONS: Final[dict[tuple[int, int], int]] = {
    (OPEN, RECV_END): HALF_CLOSED_REMOTE,
    (OPEN, SEND_END): HALF_CLOSED_LOCAL,
    (HALF_CLOSED_REMOTE, SEND_END): CLOSED,
    (HALF_CLOSED_LOCAL, RECV_END): CLOSED,
    (OPEN, RESET): CLOSED,
    (HALF_CLOSED_REMOTE, RESET): CLOSED,
    (HALF_CLOSED_LOCAL, RESET): CLOSED,
}
RECENTLY_RESET: Final = 256  # stream ids we reset, whose late frames are dropped (§5.1 "closed")


def transition(state: int, event: int) -> int:
    """The next stream state; an unknown pair is a bug in this module, never the client's."""
    found = TRANSITIONS.get((state, event))
    if found is None:
        raise RuntimeError(f"HTTP/2 stream: no transition from state {state} on event {event}")
    return found


@dataclass(frozen=True, slots=True)
class H2Limits:
    """What one connection allows; built once per listener."""

    max_concurrent_streams: int = 100
    initial_window_size: int = 256 * 1024  # per stream: the request body buffered before we push back
    connection_window: int = 1024 * 1024
    max_header_list_size: int = 64 * 1024  # decoded, as SETTINGS_MAX_HEADER_LIST_SIZE counts it
    max_field_block_size: int = 64 * 1024 + 16 * 1024  # coded, across CONTINUATIONs
    reset_burst: float = 100.0  # client resets at once, then `reset_rate` per second
    reset_rate: float = 20.0
    control_burst: float = 500.0  # PINGs and SETTINGS at once, then `control_rate` per second
    control_rate: float = 50.0
    stall_timeout: float = 30.0  # a response blocked by a closed window this long is reset
    body_timeout: float = 30.0
    idle_timeout: float = 60.0


class Stream:
    """One stream's state, windows and queued response octets."""

    __slots__ = (
        "delivered",
        "end_queued",
        "expected_length",
        "outbound",
        "outbound_size",
        "receive_deadline",
        "received_length",
        "recv_window",
        "send_window",
        "stalled_since",
        "state",
        "stream_id",
        "unacked",
    )

    def __init__(self, stream_id: int, send_window: int, recv_window: int) -> None:
        self.stream_id = stream_id
        self.state = OPEN
        self.send_window = send_window
        self.recv_window = recv_window
        self.outbound: deque[bytes] = deque()
        self.outbound_size = 0
        self.end_queued = False
        self.expected_length = -1
        self.received_length = 0
        self.stalled_since = -1.0
        self.unacked = 0
        self.delivered = False  # the app has the request: it hears of the stream's end
        self.receive_deadline = 0.0
