# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""State shared by all listeners of one gate process: config, target groups, pool, log, metrics.

Its own module so that the listener app (gate.app) and the forwarding code it calls
(gate.relaying) both read it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from originguard.config.gate import GateConfig
from originguard.gate.targets import TargetGroupState
from originguard.http.client import UpstreamPool
from originguard.observe.access_log import AccessLog
from originguard.observe.metrics import MetricSet


@dataclass
class GateRuntime:
    """State shared by all listeners of one gate process."""

    config: GateConfig
    groups: dict[str, TargetGroupState]
    pool: UpstreamPool
    access_log: AccessLog
    metrics: MetricSet

    def __post_init__(self) -> None:
        self.fail_open_logged: dict[str, float] = {}
        # Read per request: a plain attribute here (AccessLog is not compiled).
        self.log_lines = self.access_log.enabled
        self.clock = self.pool.loop.time  # bound once: a by-name call looks the method up each time
        self.requests = self.metrics.counters(
            "originguard_gate_requests_total",
            "Requests by listener, rule and status",
            ("listener", "rule", "status"),
        )
        self.upstream_errors = self.metrics.counters(
            "originguard_gate_upstream_errors_total", "Target failures by group and kind", ("group", "kind")
        )
        self.underscore_fields_dropped = self.metrics.counters(
            "originguard_gate_underscore_fields_dropped_total",
            "Request fields dropped for a `_` in their name (underscores_in_headers), by listener",
            ("listener",),
        )
        self.retries = self.metrics.counters(
            "originguard_gate_upstream_retries_total",
            "Requests sent to another target after one failed to connect or closed before answering",
            ("group",),
        )
        self.latency = self.metrics.histogram("originguard_gate_request_duration_seconds", "Request latency")
        self.relayed = self.metrics.counters(
            "originguard_gate_relayed_total",
            "Forwarded requests streamed by the relay fast path (the rest ran as coroutines)",
            ("listener",),
        )
        self.metrics.gauges(
            "originguard_gate_target_healthy", "1 when a target is healthy", ("group", "target"), self._health
        )

    def _health(self) -> dict[tuple[str, ...], float]:
        return {
            (name, str(t.address)): 1.0 if t.healthy else 0.0
            for name, g in self.groups.items()
            for t in g.targets
        }
