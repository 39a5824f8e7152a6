"""`verify`: live probes against a running deployment, judged into a Report.

    verify_config(loaded, timeout=5.0) -> Report        targets from the config file
    verify_urls(gate_url, edge_url, ...) -> Report      targets from URLs (no config at hand)
    judge(plan, observations) -> Report                 the pure part: observations → findings

Check ids: gate-direct-no-header, gate-direct-wrong-value, gate-direct-case-variant,
gate-http-port-closed, gate-admits-secret, gate-tls, edge-reaches-origin, edge-http-redirect,
edge-tls, secret-not-exposed. The report shows at most a SHA-256 prefix of the secret, never it.
This module does no I/O itself: probing lives in `audit.live`, so the judging stays testable alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from originguard.audit.live import run_probes
from originguard.audit.report import Finding, Report
from originguard.audit.verify_edge import judge_edge, judge_secret_exposure
from originguard.audit.verify_gate import judge_gate
from originguard.audit.verify_targets import (
    DEFAULT_HEADER,
    Observations,
    VerifyPlan,
    plan_from_config,
    plan_from_urls,
)
from originguard.config import LoadedConfig
from originguard.secrets import generate_secret_value

__all__ = ["judge", "verify_config", "verify_urls"]


def verify_config(loaded: LoadedConfig, *, timeout: float = 5.0) -> Report:
    """Probe the gate listeners and edges a config describes (ConfigError if it has no gate)."""
    plan = plan_from_config(loaded, _wrong_value(None))
    return judge(plan, run_probes(plan, timeout))


def verify_urls(
    gate_url: str,
    edge_url: str | None = None,
    *,
    header: str = DEFAULT_HEADER,
    ca_bundle: Path | None = None,
    server_name: str | None = None,
    secret: bytes | None = None,
    http_probe_ports: Sequence[int] = (80,),
    timeout: float = 5.0,
) -> Report:
    """Probe a gate (and an edge) given by URL, as an attacker or `curl` would."""
    plan = plan_from_urls(
        gate_url,
        edge_url,
        header=header,
        ca_bundle=ca_bundle,
        server_name=server_name,
        secret=secret,
        http_probe_ports=list(http_probe_ports),
        wrong_value=_wrong_value(secret),
    )
    return judge(plan, run_probes(plan, timeout))


def judge(plan: VerifyPlan, observations: Observations) -> Report:
    """Every finding, in probe order: gates, edges, then the secret's exposure over all responses."""
    findings: list[Finding] = []
    if not plan.gates:
        message = "no HTTPS listener to probe: the edge cannot reach this gate over TLS"
        fix = "add a gate listener with protocol: https"
        findings.append(Finding("gate-tls", "fail", "gate.listeners", "", message, fix))
    for gate in observations.gates:
        findings += judge_gate(plan, gate)
    for edge in observations.edges:
        findings += judge_edge(plan, edge)
    findings += judge_secret_exposure(plan, observations)
    return Report(tuple(findings))


def _wrong_value(secret: bytes | None) -> bytes:
    """A fresh random value in the secret's own alphabet (≈ 206 bits: it cannot be a real secret)."""
    while True:
        value = generate_secret_value().encode("ascii")
        if secret is None or value.lower() != secret.lower():
            return value
