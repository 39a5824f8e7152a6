"""Read the kernel's smoothed RTT of a TCP connection (Linux TCP_INFO), for edges to report."""

from __future__ import annotations

import socket
import struct
import sys
from typing import Protocol

# struct tcp_info (linux/tcp.h): 8 one-byte fields, then u32s; tcpi_rtt and tcpi_rttvar (µs) are the
# 16th and 17th u32, at byte offsets 68 and 72. The layout only grows at its end, so this is stable.
_TCP_INFO_HEAD = struct.Struct("=8B17I")
_TCP_INFO_LEN = 104
TCP_INFO = getattr(socket, "TCP_INFO", 11)


class SocketLike(Protocol):
    """A connected socket (or uvloop's pseudo-socket, which also offers getsockopt)."""

    def getsockopt(self, level: int, option: int, buflen: int) -> bytes: ...


def parse_tcp_info(raw: bytes) -> tuple[float, float] | None:
    """(rtt_ms, rttvar_ms) from raw TCP_INFO bytes, or None if too short or not measured yet."""
    if len(raw) < _TCP_INFO_HEAD.size:
        return None
    fields = _TCP_INFO_HEAD.unpack_from(raw)
    rtt_us, rttvar_us = fields[8 + 15], fields[8 + 16]
    if rtt_us == 0:
        return None
    return rtt_us / 1000.0, rttvar_us / 1000.0


def tcp_rtt_ms(sock: SocketLike) -> float | None:
    """The smoothed RTT in ms of a connected TCP socket; None off Linux or on any socket error."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        raw = sock.getsockopt(socket.IPPROTO_TCP, TCP_INFO, _TCP_INFO_LEN)
    except (OSError, AttributeError, TypeError):
        return None
    parsed = parse_tcp_info(raw)
    return parsed[0] if parsed is not None else None
