"""The router's admin endpoint (plain asyncio streams): POST /rtt, GET /metrics, GET /healthz.

POST /rtt takes `{"edge": NAME, "samples": [{"subnet": CIDR, "rtt_ms": float}, ...]}` from edges.
It is unauthenticated: bind it to loopback or a private network only (forged RTTs steer traffic).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from typing import Any

import orjson

from originguard.dns.rtt import RttStore
from originguard.dns.telemetry import DnsMetrics
from originguard.latency.subnets import parse_subnet

log = logging.getLogger("originguard.dns.admin")

MAX_HEAD = 16 * 1024
MAX_BODY = 1024 * 1024
MAX_SAMPLES = 10_000
MAX_RTT_MS = 60_000.0
READ_TIMEOUT = 10.0


class AdminApi:
    """Routes of the admin endpoint over the router's RTT store and metrics."""

    def __init__(self, rtt: RttStore, metrics: DnsMetrics, edges: Collection[str],
                 clock: Callable[[], float]) -> None:  # fmt: skip
        self.rtt = rtt
        self.metrics = metrics
        self.edges = frozenset(edges)
        self.clock = clock

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one request per connection (edges batch their samples, so reuse buys little)."""
        try:
            status, content_type, body = await asyncio.wait_for(self._request(reader), READ_TIMEOUT)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        head = (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n").encode()  # fmt: skip
        writer.write(head + body)
        try:
            await writer.drain()
        except ConnectionError:
            pass  # the client left; nothing to tell it
        finally:
            writer.close()

    async def _request(self, reader: asyncio.StreamReader) -> tuple[str, str, bytes]:
        head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > MAX_HEAD:
            return _text("431 Request Header Fields Too Large", "headers too large")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            return _text("400 Bad Request", "bad request line")
        method, target = parts[0], parts[1].split("?", 1)[0]
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
        }
        length_text = headers.get("content-length", "0")
        if not length_text.isdigit() or int(length_text) > MAX_BODY:
            return _text("413 Content Too Large", f"body over {MAX_BODY} bytes or bad Content-Length")
        body = await reader.readexactly(int(length_text))
        if target == "/healthz" and method in ("GET", "HEAD"):
            return _text("200 OK", "ok")
        if target == "/metrics" and method == "GET":
            return "200 OK", "text/plain; version=0.0.4; charset=utf-8", self.metrics.exposition()
        if target == "/rtt" and method == "POST":
            return self.ingest(body)
        if target in ("/healthz", "/metrics", "/rtt"):
            return _text("405 Method Not Allowed", "method not allowed")
        return _text("404 Not Found", "not found")

    def ingest(self, body: bytes) -> tuple[str, str, bytes]:
        """Validate a batch of RTT samples and add them to the store (all or nothing)."""
        try:
            samples = self._parse(orjson.loads(body))
        except (orjson.JSONDecodeError, ValueError, TypeError, KeyError) as exc:
            return _text("400 Bad Request", f"bad RTT report: {exc}")
        edge, rows = samples
        now = self.clock()
        for subnet, rtt_ms in rows:
            self.rtt.add(subnet, edge, rtt_ms, now)
        self.metrics.rtt_samples.labels(edge).inc(len(rows))
        return "200 OK", "application/json", orjson.dumps({"accepted": len(rows)})

    def _parse(self, report: Any) -> tuple[str, list[tuple[tuple[int, int], float]]]:
        if not isinstance(report, dict):
            raise ValueError("the body must be a JSON object")
        edge = report["edge"]
        if edge not in self.edges:
            raise ValueError(f"unknown edge {edge!r}")
        samples = report["samples"]
        if not isinstance(samples, list) or len(samples) > MAX_SAMPLES:
            raise ValueError(f"samples must be a list of at most {MAX_SAMPLES}")
        rows = []
        for sample in samples:
            rtt_ms = sample["rtt_ms"]
            if (
                isinstance(rtt_ms, bool)
                or not isinstance(rtt_ms, (int, float))
                or not 0 < rtt_ms < MAX_RTT_MS
            ):
                raise ValueError(f"rtt_ms {rtt_ms!r} must be a number in (0, {MAX_RTT_MS:g})")
            rows.append((parse_subnet(str(sample["subnet"])), float(rtt_ms)))
        return edge, rows


def _text(status: str, message: str) -> tuple[str, str, bytes]:
    return status, "text/plain; charset=utf-8", message.encode() + b"\n"
