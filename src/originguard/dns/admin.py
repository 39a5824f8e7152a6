"""The router's admin endpoint: POST /rtt, GET /metrics, GET /healthz, on the product's HTTP server.

POST /rtt takes `{"edge": NAME, "samples": [{"subnet": CIDR, "rtt_ms": float}, ...]}` from edges.
It is unauthenticated: bind it to loopback or a private network only (forged RTTs steer traffic).
The routes are an `observe.admin.AdminApp` served by `http.server.HttpServer`, as the edge's and
the gate's admin ports are: one HTTP parser with its limits (431, 413, 408) for every component.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import orjson

from originguard.dns.rtt import RttStore
from originguard.dns.telemetry import DnsMetrics
from originguard.http.limits import Limits
from originguard.http.message import Request
from originguard.latency.subnets import parse_subnet
from originguard.observe.admin import AdminApp, Reply

MAX_HEAD = 16 * 1024
MAX_BODY = 1024 * 1024
MAX_SAMPLES = 10_000
MAX_RTT_MS = 60_000.0
READ_TIMEOUT = 10.0

ADMIN_LIMITS = Limits(
    max_header_bytes=MAX_HEAD, max_body_bytes=MAX_BODY, header_timeout=READ_TIMEOUT, body_timeout=READ_TIMEOUT
)


class AdminApi:
    """Routes of the admin endpoint over the router's RTT store and metrics."""

    def __init__(self, rtt: RttStore, metrics: DnsMetrics, edges: Collection[str],
                 clock: Callable[[], float]) -> None:  # fmt: skip
        self.rtt = rtt
        self.metrics = metrics
        self.edges = frozenset(edges)
        self.clock = clock

    def app(self) -> AdminApp:
        """The HTTP app of these routes (unknown paths 404, a known path's other methods 405)."""
        app = AdminApp()
        app.route(b"GET", b"/healthz", self._healthz)
        app.route(b"HEAD", b"/healthz", self._healthz)
        app.route(b"GET", b"/metrics", self._metrics)
        app.route(b"POST", b"/rtt", self._rtt)
        return app

    async def _healthz(self, _: Request, __: bytes) -> Reply:
        return 200, b"text/plain; charset=utf-8", b"ok\n"

    async def _metrics(self, _: Request, __: bytes) -> Reply:
        return 200, b"text/plain; version=0.0.4; charset=utf-8", self.metrics.exposition()

    async def _rtt(self, _: Request, body: bytes) -> Reply:
        return self.ingest(body)

    def ingest(self, body: bytes) -> Reply:
        """Validate a batch of RTT samples and add them to the store (all or nothing)."""
        try:
            samples = self._parse(orjson.loads(body))
        except (orjson.JSONDecodeError, ValueError, TypeError, KeyError) as exc:
            return 400, b"text/plain; charset=utf-8", f"bad RTT report: {exc}\n".encode()
        edge, rows = samples
        now = self.clock()
        for subnet, rtt_ms in rows:
            self.rtt.add(subnet, edge, rtt_ms, now)
        self.metrics.rtt_samples.labels(edge).inc(len(rows))
        return 200, b"application/json", orjson.dumps({"accepted": len(rows)})

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
