"""Query log (JSON lines via orjson) and Prometheus metrics on a private registry."""

from __future__ import annotations

import sys
from typing import IO, Any

import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from originguard.dns.engine import Outcome


class DnsMetrics:
    """Queries by record and rcode, policy decisions, health and RTT ingest, on its own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.queries = Counter(
            "originguard_dns_queries", "DNS queries answered", ["record", "qtype", "rcode", "transport"],
            registry=self.registry,
        )  # fmt: skip
        self.decisions = Counter(
            "originguard_dns_decisions", "Policy decisions", ["record", "policy", "decision"],
            registry=self.registry,
        )  # fmt: skip
        self.fail_open = Counter(
            "originguard_dns_fail_open", "Answers given with no healthy target", ["record"],
            registry=self.registry,
        )  # fmt: skip
        self.target_healthy = Gauge(
            "originguard_dns_target_healthy", "1 when the target passes its health checks", ["target"],
            registry=self.registry,
        )  # fmt: skip
        self.rtt_samples = Counter(
            "originguard_dns_rtt_samples", "RTT samples ingested from edges", ["edge"], registry=self.registry
        )
        self.dropped = Counter(
            "originguard_dns_dropped", "Packets dropped unanswered", registry=self.registry
        )
        # Resolving a labelled child costs more than the increment; keep them (label sets are bounded).
        self._children: dict[tuple[str, ...], Any] = {}

    def observe(self, outcome: Outcome, transport: str) -> None:
        """Count one answered query."""
        key = (outcome.record, outcome.qtype, outcome.rcode, transport, outcome.policy, outcome.decision)
        children = self._children.get(key)
        if children is None:
            if len(self._children) > 10_000:
                self._children.clear()
            children = (
                self.queries.labels(outcome.record, outcome.qtype or "-", outcome.rcode, transport),
                self.decisions.labels(outcome.record, outcome.policy, outcome.decision)
                if outcome.decision
                else None,
            )
            self._children[key] = children
        children[0].inc()
        if children[1] is not None:
            children[1].inc()
        if outcome.fail_open:
            self.fail_open.labels(outcome.record).inc()

    def exposition(self) -> bytes:
        """The Prometheus text format of every metric."""
        return bytes(generate_latest(self.registry))


class QueryLog:
    """One JSON line per query to a file (or `-` for stdout); buffered, flushed by the server's timer."""

    def __init__(self, stream: IO[bytes], owned: bool) -> None:
        self._stream = stream
        self._owned = owned

    @classmethod
    def open(cls, where: str) -> QueryLog:
        """Open `where` for appending (`-` is stdout)."""
        if where == "-":
            return cls(sys.stdout.buffer, owned=False)
        return cls(open(where, "ab", buffering=1 << 16), owned=True)

    def write(self, outcome: Outcome, transport: str, now: float) -> None:
        """Append one line for an answered query (`now` is wall-clock seconds)."""
        entry = {
            "ts": round(now, 3),
            "client": outcome.client,
            "transport": transport,
            "qname": outcome.qname,
            "qtype": outcome.qtype,
            "rcode": outcome.rcode,
            "record": outcome.record,
            "policy": outcome.policy,
            "decision": outcome.decision,
            "reason": outcome.reason,
        }
        self._stream.write(orjson.dumps(entry, option=orjson.OPT_APPEND_NEWLINE))

    def flush(self) -> None:
        """Push buffered lines to the file."""
        self._stream.flush()

    def close(self) -> None:
        """Flush, and close the file if this log opened it."""
        self.flush()
        if self._owned:
            self._stream.close()
