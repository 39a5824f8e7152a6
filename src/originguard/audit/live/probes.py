"""Run every probe of a plan concurrently, each bounded by the timeout, and collect observations.

The real secret (and its upper-cased variant, which gives the value away just as well) is sent only
over a connection whose certificate verified for the configured name: an impostor listening on
the gate's address must never receive it from `verify`.
"""

from __future__ import annotations

import asyncio
import ssl

from originguard.audit.live.wire import (
    attacker_context,
    http_exchange,
    legacy_handshake,
    probe_port,
    tls_handshake,
    verifying_context,
)
from originguard.audit.verify_http import host_header, request_bytes
from originguard.audit.verify_targets import (
    EdgeObservations,
    EdgeTarget,
    GateObservations,
    GateTarget,
    HttpExchange,
    Observations,
    VerifyPlan,
)
from originguard.config.values import HostPort


async def observe(plan: VerifyPlan, timeout: float) -> Observations:
    """Probe every gate and edge of `plan` at once; returns what each probe saw."""
    gates = asyncio.gather(*(_observe_gate(plan, gate, timeout) for gate in plan.gates))
    edges = asyncio.gather(*(_observe_edge(plan, edge, timeout) for edge in plan.edges))
    gate_results, edge_results = await asyncio.gather(gates, edges)
    return Observations(tuple(gate_results), tuple(edge_results))


async def _observe_gate(plan: VerifyPlan, gate: GateTarget, timeout: float) -> GateObservations:
    attacker, verifying = attacker_context(), verifying_context(plan.ca_bundle)
    host = host_header(gate.server_name, gate.address.port, 443)
    url = f"https://{host_header(gate.address.host, gate.address.port, 443)}{gate.path}"

    def send(extra: list[tuple[str, bytes]], tls: ssl.SSLContext | None) -> asyncio.Task[HttpExchange]:
        request = request_bytes(gate.path, host, extra)
        target = url if tls is not None else url.replace("https://", "http://", 1)
        return asyncio.ensure_future(
            http_exchange(
                gate.address, request, target, tls=tls, server_name=gate.server_name, timeout=timeout
            )
        )

    no_header = send([], attacker)
    wrong = send([(plan.header, plan.wrong_value)], attacker)
    plain = send([], None)
    case_variant = with_secret = None
    if plan.secret is not None:
        value = plan.secret.reveal()
        with_secret = send([(plan.header, value)], verifying)
        if value.upper() != value:
            case_variant = send([(plan.header, value.upper())], verifying)
    ports = asyncio.gather(*(probe_port(HostPort(gate.address.host, p), timeout) for p in gate.probe_ports))
    tls_any = tls_handshake(gate.address, gate.server_name, attacker, timeout)
    tls = tls_handshake(gate.address, gate.server_name, verifying, timeout)
    legacy = legacy_handshake(gate.address, gate.server_name, timeout)
    port_states, tls_any_seen, tls_seen, legacy_seen = await asyncio.gather(ports, tls_any, tls, legacy)
    return GateObservations(
        target=gate,
        no_header=await no_header,
        wrong_value=await wrong,
        case_variant=await case_variant if case_variant is not None else None,
        with_secret=await with_secret if with_secret is not None else None,
        plain_http=await plain,
        ports=tuple(port_states),
        tls_any=tls_any_seen,
        tls=tls_seen,
        legacy_tls=legacy_seen,
    )


async def _observe_edge(plan: VerifyPlan, edge: EdgeTarget, timeout: float) -> EdgeObservations:
    if edge.https is None:
        via_http = await _edge_http(edge, timeout) if edge.http is not None else None
        return EdgeObservations(edge, None, via_http, None, None, None)
    https = edge.https
    host = host_header(edge.server_name, https.port, 443)
    url = f"https://{host_header(https.host, https.port, 443)}{edge.path}"
    verifying = verifying_context(plan.ca_bundle)
    via_https = http_exchange(
        https,
        request_bytes(edge.path, host),
        url,
        tls=verifying,
        server_name=edge.server_name,
        timeout=timeout,
    )
    results = await asyncio.gather(
        via_https,
        _edge_http(edge, timeout),
        tls_handshake(https, edge.server_name, attacker_context(), timeout),
        tls_handshake(https, edge.server_name, verifying, timeout),
        legacy_handshake(https, edge.server_name, timeout),
    )
    return EdgeObservations(edge, *results)


async def _edge_http(edge: EdgeTarget, timeout: float) -> HttpExchange | None:
    """The viewer's plain-HTTP request, to see the redirect (or refusal) the viewer policy asks for."""
    if edge.http is None:
        return None
    host = host_header(edge.server_name, edge.http.port, 80)
    url = f"http://{host_header(edge.http.host, edge.http.port, 80)}{edge.path}"
    request = request_bytes(edge.path, host)
    return await http_exchange(edge.http, request, url, tls=None, server_name=None, timeout=timeout)


def run_probes(plan: VerifyPlan, timeout: float) -> Observations:
    """`observe` for synchronous callers (the CLI): a fresh event loop for one run."""
    return asyncio.run(observe(plan, timeout))
