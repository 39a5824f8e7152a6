"""What `verify` probes (pure): targets built from a config or from URLs, and what probes observed.

The live probes (`audit/live/`) fill the observation types; `audit/verify.py` judges them. Nothing
here touches a socket, so the same plan can be built and judged in tests without a network.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from originguard.config import LoadedConfig
from originguard.config.edge import Origin, ViewerProtocolPolicy
from originguard.config.gate import GateConfig
from originguard.config.values import HostPort, SecretRef
from originguard.errors import ConfigError
from originguard.secrets import Secret

DEFAULT_HEADER = "X-Origin-Verify"
# Wildcard listen addresses are reached through loopback from the machine that runs verify.
_WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


@dataclass(frozen=True, slots=True)
class GateTarget:
    """One HTTPS listener of the gate, probed directly as an attacker would."""

    address: HostPort
    server_name: str
    path: str
    probe_ports: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class EdgeTarget:
    """One edge: its HTTPS and HTTP addresses, the site name viewers use and the viewer policy."""

    name: str
    https: HostPort | None
    http: HostPort | None
    server_name: str
    path: str
    viewer_policy: ViewerProtocolPolicy | None  # None: not known (URL mode)


@dataclass(frozen=True, slots=True)
class VerifyPlan:
    """Everything the probes need; `secret` is a `Secret`, so printing a plan shows no value."""

    gates: tuple[GateTarget, ...]
    edges: tuple[EdgeTarget, ...]
    header: str
    secret: Secret | None
    wrong_value: bytes
    ca_bundle: Path | None


@dataclass(frozen=True, slots=True)
class HttpExchange:
    """One request and what came back; `error` says why nothing (or nothing complete) came back."""

    url: str
    status: int | None
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    raw: bytes
    error: str | None = None


PortOutcome = Literal["refused", "reset", "filtered", "open", "unreachable"]


@dataclass(frozen=True, slots=True)
class PortState:
    """What a plain TCP connect to one port got."""

    address: HostPort
    outcome: PortOutcome
    detail: str


@dataclass(frozen=True, slots=True)
class TlsHandshake:
    """A handshake: the negotiated version, and whether the chain verified for the server name."""

    address: HostPort
    server_name: str
    version: str | None
    verified: bool
    error: str | None


LegacyOutcome = Literal["refused", "accepted", "untestable", "unreachable"]


@dataclass(frozen=True, slots=True)
class LegacyTls:
    """A handshake offering at most TLS 1.1: `refused` is what a safe listener gives."""

    outcome: LegacyOutcome
    detail: str


@dataclass(frozen=True, slots=True)
class GateObservations:
    target: GateTarget
    no_header: HttpExchange
    wrong_value: HttpExchange
    case_variant: HttpExchange | None  # None: the secret is unknown, or the value has no letters
    with_secret: HttpExchange | None  # as the edge would send it; None when the secret is unknown
    plain_http: HttpExchange  # HTTP/1.1 bytes in clear text sent to the HTTPS port
    ports: tuple[PortState, ...]
    tls_any: TlsHandshake  # without certificate checks: which version a client gets
    tls: TlsHandshake  # against the configured CA and server name
    legacy_tls: LegacyTls


@dataclass(frozen=True, slots=True)
class EdgeObservations:
    target: EdgeTarget
    via_https: HttpExchange | None
    via_http: HttpExchange | None
    tls_any: TlsHandshake | None
    tls: TlsHandshake | None
    legacy_tls: LegacyTls | None


@dataclass(frozen=True, slots=True)
class Observations:
    gates: tuple[GateObservations, ...]
    edges: tuple[EdgeObservations, ...]


def plan_from_config(loaded: LoadedConfig, wrong_value: bytes) -> VerifyPlan:
    """Targets from a loaded config: gate HTTPS listeners, the origin's CA and name, every edge."""
    config = loaded.config
    if config.gate is None:
        raise ConfigError(loaded.source, "gate", "verify needs a gate: section (or pass URLs)")
    gate = config.gate
    origins = config.distribution.origins if config.distribution is not None else []
    https = [li for li in gate.listeners if li.protocol == "https"]
    # Ports of plain-HTTP listeners are probed like the probe port: each one open is a bypass.
    extra = [li.port.port for li in gate.listeners if li.protocol == "http" and li.port.port]
    ports = tuple(dict.fromkeys([gate.http_probe_port, *extra]))
    gates = []
    for listener in https:
        address = reachable(listener.port)
        origin = _origin_for(origins, address)
        server_name = (origin.server_name or origin.address.host) if origin else address.host
        gates.append(GateTarget(address, server_name, "/", _without(ports, address.port)))
    origin = _origin_for(origins, gates[0].address) if gates else (origins[0] if origins else None)
    ca = origin.ca_bundle if origin is not None else None
    header, secret_name = _secret_header(origin, gate)
    values = loaded.secrets.get(secret_name) if secret_name is not None else None
    policy = config.distribution.viewer_protocol_policy if config.distribution is not None else None
    site = _site_name(loaded)
    edges = tuple(
        EdgeTarget(
            edge.name,
            reachable(edge.https) if edge.https else None,
            reachable(edge.http) if edge.http else None,
            site or (edge.https or edge.http or HostPort("localhost", 0)).host,
            cache_busting_path(wrong_value),
            policy,
        )
        for edge in config.edges
    )
    return VerifyPlan(
        gates=tuple(gates),
        edges=edges,
        header=header,
        secret=values.current if values is not None else None,
        wrong_value=wrong_value,
        ca_bundle=loaded.resolve_path(ca) if ca else None,
    )


def cache_busting_path(nonce: bytes) -> str:
    """A path no cache holds, so "through the edge: 200" proves the origin was reached."""
    # Short parts: the report screens 16+ character token-like runs as possibly secret.
    return "/?originguard.probe=" + nonce.hex()[:8]


def plan_from_urls(
    gate_url: str,
    edge_url: str | None,
    *,
    header: str,
    ca_bundle: Path | None,
    server_name: str | None,
    secret: bytes | None,
    http_probe_ports: list[int],
    wrong_value: bytes,
) -> VerifyPlan:
    """Targets from URLs: an `https://` gate, and an edge given by its `https://` or `http://` URL."""
    scheme, address, path = _split_url(gate_url, "gate_url")
    if scheme != "https":
        raise ConfigError("verify", "gate_url", f"{gate_url!r}: the gate is probed over https:// only")
    ports = _without(tuple(dict.fromkeys(http_probe_ports)), address.port)
    gate = GateTarget(address, server_name or address.host, path, ports)
    edges: tuple[EdgeTarget, ...] = ()
    if edge_url is not None:
        edge_scheme, edge_address, edge_path = _split_url(edge_url, "edge_url")
        https = edge_address if edge_scheme == "https" else None
        http = edge_address if edge_scheme == "http" else None
        edges = (EdgeTarget("edge", https, http, edge_address.host, edge_path, None),)
    return VerifyPlan(
        gates=(gate,),
        edges=edges,
        header=header,
        secret=Secret(secret) if secret else None,
        wrong_value=wrong_value,
        ca_bundle=ca_bundle,
    )


def reachable(address: HostPort) -> HostPort:
    """The address to connect to for a listen address (wildcards become loopback)."""
    return HostPort(_WILDCARD_HOSTS.get(address.host, address.host), address.port)


def _without(ports: tuple[int, ...], https_port: int) -> tuple[int, ...]:
    """The probe ports minus the HTTPS port itself (which is open by design)."""
    return tuple(port for port in ports if port != https_port)


def _split_url(url: str, key: str) -> tuple[str, HostPort, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError("verify", key, f"{url!r} is not an http:// or https:// URL with a host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ConfigError("verify", key, f"{url!r} has an invalid port") from None
    path = parts.path or "/"
    return parts.scheme, HostPort(parts.hostname, port), path + (f"?{parts.query}" if parts.query else "")


def _origin_for(origins: list[Origin], address: HostPort) -> Origin | None:
    """The origin that points at this gate listener, else the first origin (the one edges use)."""
    for origin in origins:
        if origin.address.port == address.port:
            return origin
    return origins[0] if origins else None


def _secret_header(origin: Origin | None, gate: GateConfig) -> tuple[str, str | None]:
    """The header the edge signs with, and the secret's name: the origin's, else the gate rules'."""
    if origin is not None:
        for name, value in origin.custom_headers.items():
            if isinstance(value, SecretRef):
                return name, value.secret
    for listener in gate.listeners:
        for rule in listener.rules:
            for condition in rule.conditions:
                found = condition.http_header
                refs = [v for v in found.values if isinstance(v, SecretRef)] if found else []
                if found is not None and refs:
                    return found.name, refs[0].secret
    return DEFAULT_HEADER, None


def _site_name(loaded: LoadedConfig) -> str | None:
    """The name viewers use (`www.cdn.example.test`): the first address record of the DNS zone."""
    dns = loaded.config.dns
    if dns is None:
        return None
    zone = dns.zone.rstrip(".")
    for record in dns.records:
        if record.targets:
            if record.name == "@":
                return zone
            return record.name.rstrip(".") if record.name.endswith(".") else f"{record.name}.{zone}"
    return None
