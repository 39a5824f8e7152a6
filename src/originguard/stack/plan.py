"""Which child processes a config needs, and what to tell the user about them (pure)."""

from __future__ import annotations

from originguard.config.models import Config
from originguard.config.values import HostPort
from originguard.supervision.children import ChildSpec

CA = ".originguard/certs/ca.crt"


def plan_children(config: Config, config_path: str, *, demo_app: HostPort | None) -> list[ChildSpec]:
    """DNS router, one process per edge, the gate, and (embedded default only) the demo app."""
    children: list[ChildSpec] = []
    if demo_app is not None:
        children.append(ChildSpec("demo-app", ("demo-app", "--listen", str(demo_app))))
    if config.gate is not None:
        children.append(ChildSpec("gate", ("gate", "-c", config_path)))
    for edge in config.edges:
        children.append(ChildSpec(edge.name, ("edge", "-c", config_path, "--name", edge.name)))
    if config.dns is not None:
        children.append(ChildSpec("dns", ("dns", "-c", config_path)))
    return children


def status_lines(config: Config) -> list[str]:
    """Endpoints and the three commands that show the promise."""
    lines = ["originguard is up:"]
    first_https: HostPort | None = None
    for edge in config.edges:
        where = ", ".join(
            f"{k} {v}" for k, v in (("http", edge.http), ("https", edge.https)) if v is not None
        )
        lines.append(f"  edge {edge.name} ({edge.region}): {where}")
        first_https = first_https or edge.https
    gate_port: HostPort | None = None
    probe_port = config.gate.http_probe_port if config.gate is not None else 80
    if config.gate is not None:
        for listener in config.gate.listeners:
            lines.append(f"  gate: {listener.protocol} {listener.port}")
            gate_port = gate_port or listener.port
    if config.dns is not None:
        lines.append(f"  dns router: {config.dns.listen} (zone {config.dns.zone})")
    lines.append("")
    lines.append("Try it:")
    if first_https is not None:
        lines.append(f"  curl --cacert {CA} https://localhost:{first_https.port}/   # through the edge: 200")
    if gate_port is not None:
        lines.append(
            f"  curl --cacert {CA} https://localhost:{gate_port.port}/   # straight to the gate: 403"
        )
        lines.append(
            f"  curl http://{gate_port.host}:{probe_port}/   # the gate's HTTP port: connection refused"
        )
    if config.dns is not None and config.dns.records:
        zone = config.dns.zone.rstrip(".")
        name = f"{config.dns.records[0].name}.{zone}"
        lines.append(
            f"  dig @{config.dns.listen.host} -p {config.dns.listen.port} {name}   # nearest healthy edge"
        )
    return lines
