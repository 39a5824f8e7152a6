"""The demo app's WebSocket echo at `/ws` (RFC 6455): the handshake answer and a frame echo.

Small but by the RFC: client frames must be masked (§5.3), control frames are short and whole
(§5.5), fragments are put together before the echo (§5.4), a ping gets its pong, and a close is
answered with the same code (§5.5.1). A text message `close` makes the app close first (code
1000), which shows a close coming from the origin's side through a tunnel.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import struct
from typing import Final, cast

from originguard.http.endpoints import ViewerEnd

GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
MAX_MESSAGE: Final = 16 * 1024 * 1024  # larger messages are refused with 1009 (§7.4.1)
CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def accept_key(key: bytes) -> bytes:
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 §4.2.2 item 5.4)."""
    return base64.b64encode(hashlib.sha1(key.strip() + GUID).digest())


def switching_response(key: bytes) -> bytes:
    """The 101 that accepts a handshake."""
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept_key(key) + b"\r\n\r\n"
    )


def frame(opcode: int, payload: bytes) -> bytes:
    """One unmasked final frame, as a server sends (§5.2)."""
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, size)
    return head + payload


def unmask(payload: bytes, mask: bytes) -> bytes:
    """XOR with the 4-byte mask, as one big-integer operation (a 1 MiB message in milliseconds)."""
    size = len(payload)
    if not size:
        return b""
    key = (mask * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(size, "big")


class ProtocolViolation(Exception):
    """A frame broke RFC 6455: the close code to send."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class FrameReader:
    """Client frames out of a byte stream (sans-IO): `feed` returns (fin, opcode, payload)s."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[bool, int, bytes]]:
        self.buffer += data
        frames = []
        while (parsed := self._one()) is not None:
            frames.append(parsed)
        return frames

    def _one(self) -> tuple[bool, int, bytes] | None:
        buffer = self.buffer
        if len(buffer) < 2:
            return None
        first, second = buffer[0], buffer[1]
        if first & 0x70:
            raise ProtocolViolation(1002)  # no extension was negotiated: RSV bits must be 0
        if not second & 0x80:
            raise ProtocolViolation(1002)  # a client's frames are masked (§5.3)
        size, at = second & 0x7F, 2
        if size == 126:
            if len(buffer) < 4:
                return None
            size, at = struct.unpack_from("!H", buffer, 2)[0], 4
        elif size == 127:
            if len(buffer) < 10:
                return None
            size, at = struct.unpack_from("!Q", buffer, 2)[0], 10
        opcode = first & 0x0F
        if opcode >= CLOSE and (size > 125 or not first & 0x80):
            raise ProtocolViolation(1002)
        if size > MAX_MESSAGE:
            raise ProtocolViolation(1009)
        if len(buffer) < at + 4 + size:
            return None
        mask = bytes(buffer[at : at + 4])
        payload = unmask(bytes(buffer[at + 4 : at + 4 + size]), mask)
        del buffer[: at + 4 + size]
        return bool(first & 0x80), opcode, payload


class EchoProtocol(asyncio.Protocol):
    """Echoes each message back with its opcode; `done` is set when the connection ends."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.transport: asyncio.Transport | None = None
        self.reader = FrameReader()
        self.message: list[bytes] = []
        self.message_opcode = 0
        self.message_size = 0
        self.done: asyncio.Future[None] = loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            for fin, opcode, payload in self.reader.feed(data):
                self._on_frame(fin, opcode, payload)
        except ProtocolViolation as exc:
            self._close(exc.code)

    def _on_frame(self, fin: bool, opcode: int, payload: bytes) -> None:
        if opcode == PING:
            self._send(frame(PONG, payload))
        elif opcode == CLOSE:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1000
            self._close(code)
        elif opcode in (TEXT, BINARY, CONTINUATION):
            if (opcode == CONTINUATION) != bool(self.message):
                raise ProtocolViolation(1002)  # a continuation with no message, or a new one inside one
            if opcode != CONTINUATION:
                self.message_opcode = opcode
            self.message.append(payload)
            self.message_size += len(payload)
            if self.message_size > MAX_MESSAGE:
                raise ProtocolViolation(1009)
            if fin:
                whole = b"".join(self.message)
                self.message, self.message_size = [], 0
                if self.message_opcode == TEXT and whole == b"close":
                    self._close(1000)
                else:
                    self._send(frame(self.message_opcode, whole))
        elif opcode != PONG:
            raise ProtocolViolation(1002)

    def _send(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.write(data)

    def _close(self, code: int) -> None:
        self._send(frame(CLOSE, struct.pack("!H", code)))
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def pause_writing(self) -> None:
        if self.transport is not None:
            self.transport.pause_reading()  # the peer reads slowly: stop taking its messages

    def resume_writing(self) -> None:
        if self.transport is not None:
            self.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if not self.done.done():
            self.done.set_result(None)


async def serve_echo(conn: ViewerEnd) -> None:
    """Run the echo on a connection whose 101 is written, until it closes."""
    echo = EchoProtocol(conn.loop)
    taken = conn.take_over(echo)
    if taken is None:
        return
    transport, after = taken
    echo.connection_made(transport)
    if after:
        echo.data_received(after)
    await echo.done
