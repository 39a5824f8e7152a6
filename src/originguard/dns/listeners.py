"""The DNS router's listeners: UDP and TCP protocols over one `Router` that a reload can re-point."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import time
from collections.abc import Mapping
from typing import Protocol, cast

from originguard.config.values import HostPort
from originguard.dns.engine import Outcome, QueryEngine, Transport
from originguard.dns.telemetry import DnsMetrics, QueryLog
from originguard.errors import DnsError
from originguard.runtime import cannot_listen

log = logging.getLogger("originguard.dns")


class HealthView(Protocol):
    """Who decides which targets are served: this router's checker, or the cluster's merged view."""

    @property
    def serving(self) -> Mapping[str, bool]: ...


class Router:
    """What both listeners share: engine, health view, metrics, query log, fail-open reporting.

    Every query reads `engine` and `health.serving` afresh: a reload swaps the engine, and the shared
    health view replaces its mapping on each merge, so a mapping kept from start-up would go stale.
    """

    def __init__(self, engine: QueryEngine, health: HealthView, metrics: DnsMetrics,
                 query_log: QueryLog | None, tcp_idle_timeout: float) -> None:  # fmt: skip
        self.engine = engine
        self.health = health
        self.metrics = metrics
        self.query_log = query_log
        self.tcp_idle_timeout = tcp_idle_timeout
        self.failing_open: set[str] = set()
        self.clock = asyncio.get_running_loop().time

    def answer(self, wire: bytes, source: str, transport: Transport) -> bytes | None:
        """Answer one query; an unexpected error becomes SERVFAIL, never a dead listener."""
        try:
            outcome = self.engine.answer(wire, source, transport, self.clock(), self.health.serving)
        except Exception:
            log.exception("dns: error answering a query from %s", source)
            return _servfail(wire)
        if outcome is None:
            self.metrics.dropped.inc()
            return None
        self.metrics.observe(outcome, transport)
        if outcome.fail_open != (outcome.record in self.failing_open):
            self._report_fail_open(outcome)
        if self.query_log is not None:
            self.query_log.write(outcome, transport, time.time())
        return outcome.wire

    def flush_log(self) -> None:
        """Write buffered query log lines (the log in use now, which a reload may have replaced)."""
        if self.query_log is not None:
            self.query_log.flush()

    def _report_fail_open(self, outcome: Outcome) -> None:
        if outcome.fail_open:
            self.failing_open.add(outcome.record)
            log.error("dns record %s: no healthy target, failing open (%s)", outcome.record, outcome.reason)
        elif outcome.record in self.failing_open and outcome.decision:
            self.failing_open.discard(outcome.record)
            log.warning("dns record %s: healthy targets again (%s)", outcome.record, outcome.reason)


class UdpProtocol(asyncio.DatagramProtocol):
    """One datagram in, at most one datagram out."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)  # uvloop's is not a subclass

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        response = self.router.answer(data, str(addr[0]), "udp")
        if response is not None and self.transport is not None:
            self.transport.sendto(response, addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("dns udp: %s", exc)  # ICMP errors from clients that left; nothing to do


class TcpProtocol(asyncio.Protocol):
    """Length-prefixed messages (RFC 7766 §8), pipelined, closed after an idle timeout (§6.2.3)."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.idle_timeout = router.tcp_idle_timeout
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.idle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0]) if peer else ""
        self._arm()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= 2 and self.transport is not None:
            (length,) = struct.unpack_from("!H", self.buffer)
            if len(self.buffer) < 2 + length:
                break
            message = bytes(self.buffer[2 : 2 + length])
            del self.buffer[: 2 + length]
            response = self.router.answer(message, self.peer, "tcp")
            if response is None:
                self.transport.close()  # not a query: the stream cannot be trusted further
                return
            self.transport.write(struct.pack("!H", len(response)) + response)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.idle is not None:
            self.idle.cancel()
        self.transport = None

    def _arm(self) -> None:
        if self.idle is not None:
            self.idle.cancel()
        if self.transport is not None:
            self.idle = asyncio.get_running_loop().call_later(self.idle_timeout, self.transport.close)


async def bind_pair(where: HostPort, router: Router, source: str,
                    key_path: str) -> tuple[asyncio.DatagramTransport, asyncio.Server]:  # fmt: skip
    """UDP and TCP listeners on one port; a port in use raises ConfigError naming the key and port."""
    loop = asyncio.get_running_loop()
    # With port 0, TCP picks a free port and UDP takes the same number (clients fall back from UDP to
    # TCP on the same port, RFC 7766 §5); a UDP clash is retried with a new TCP port.
    for _ in range(20):
        try:
            tcp = await loop.create_server(lambda: TcpProtocol(router), where.host, where.port,
                                           reuse_address=True)  # fmt: skip
        except OSError as exc:
            raise cannot_listen(source, key_path, "dns router", where, exc, "tcp") from None
        port = tcp.sockets[0].getsockname()[1]
        try:
            udp, _ = await loop.create_datagram_endpoint(
                lambda: UdpProtocol(router), local_addr=(where.host, port)
            )
        except OSError as exc:
            tcp.close()
            if where.port != 0:
                raise cannot_listen(source, key_path, "dns router", where, exc, "udp") from None
            continue
        _grow_buffers(udp)
        return udp, tcp
    raise DnsError(f"{source}: {key_path}: no free port pair for UDP+TCP on {where.host}")


def _grow_buffers(udp: asyncio.DatagramTransport) -> None:
    sock = udp.get_extra_info("socket")
    if sock is None:
        return
    for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
        with contextlib.suppress(OSError):  # a larger buffer absorbs bursts; the default still works
            sock.setsockopt(socket.SOL_SOCKET, option, 4 * 1024 * 1024)


def _servfail(wire: bytes) -> bytes | None:
    if len(wire) < 12 or wire[2] & 0x80:
        return None
    return struct.pack("!2sBBHHHH", wire[:2], 0x80 | (wire[2] & 0x79), 2, 0, 0, 0, 0)
