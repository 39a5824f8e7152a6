"""Fixtures for the gate: a real demo app behind a real gate with real TLS, on free ports."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from originguard.certs import CertFiles
from originguard.config import load_config
from originguard.config.values import HostPort
from originguard.demo_app import DemoApp
from originguard.gate.process import GateHandle, start_gate
from originguard.http.limits import Limits
from originguard.http.server import HttpServer
from tests.support import LoopThread, client_tls

GATE_YAML = """
secrets:
  origin-verify: {{file: {secret}}}
gate:
  admin: 127.0.0.1:0
  access_log: {log}
  limits: {{header_timeout: {header_timeout}, max_body_bytes: 65536, body_timeout: {body_timeout},
            keepalive_timeout: {keepalive_timeout}}}
  listeners:
    - port: 127.0.0.1:0
      protocol: https
      tls: {{certificate: {cert}, key: {key}}}
      default_action: {{fixed_response: {{status: 403, content_type: text/plain, body: "Forbidden"}}}}
      rules:
        - priority: 1
          conditions: [{{http_header: {{name: X-Origin-Verify, values: [{{secret: origin-verify}}]}}}}]
          actions: [{{forward: {{target_group: app}}}}]
  target_groups:
    app:
      targets: [{targets}]
      health_check: {health}
      algorithm: round_robin
      read_timeout: 2s
"""


@dataclass
class GateSetup:
    handle: GateHandle
    port: int
    secret: str
    tls: ssl.SSLContext
    apps: list[DemoApp]
    app_servers: list[HttpServer]
    app_addresses: list[HostPort]
    log_path: Path
    config_path: Path


def start_apps(loop_thread: LoopThread, count: int) -> tuple[list[DemoApp], list[HttpServer], list[HostPort]]:
    apps, servers, addresses = [], [], []
    for index in range(count):
        app = DemoApp(name=f"app-{index}")

        async def start(app: DemoApp = app) -> tuple[HttpServer, HostPort]:
            server = HttpServer(app, Limits())
            return server, await server.listen(HostPort("127.0.0.1", 0))

        server, address = loop_thread.run(start())
        apps.append(app)
        servers.append(server)
        addresses.append(address)
    return apps, servers, addresses


def write_gate_config(
    tmp_path: Path,
    pki: dict[str, CertFiles],
    secret: Path,
    targets: list[HostPort],
    *,
    health: str = "{path: /healthz, interval: 0.2s, timeout: 0.5s, healthy: 1, unhealthy: 1}",
    header_timeout: str = "10s",
    body_timeout: str = "30s",
    keepalive_timeout: str = "60s",
) -> Path:
    path = tmp_path / "gate.yaml"
    path.write_text(
        GATE_YAML.format(
            secret=secret,
            log=tmp_path / "access.log",
            header_timeout=header_timeout,
            body_timeout=body_timeout,
            keepalive_timeout=keepalive_timeout,
            cert=pki["gate"].certificate,
            key=pki["gate"].key,
            targets=", ".join(str(t) for t in targets),
            health=health,
        )
    )
    return path


@pytest.fixture
def gate(
    tmp_path: Path, pki: dict[str, CertFiles], loop_thread: LoopThread, secret_file: tuple[Path, str]
) -> Iterator[GateSetup]:
    """A gate in front of two demo apps, health checks every 0.2 s."""
    apps, servers, addresses = start_apps(loop_thread, 2)
    config_path = write_gate_config(tmp_path, pki, secret_file[0], addresses)
    handle = loop_thread.run(start_gate(load_config(config_path)))
    setup = GateSetup(
        handle,
        handle.listeners[0].port,
        secret_file[1],
        client_tls(pki["ca"].certificate),
        apps,
        servers,
        addresses,
        tmp_path / "access.log",
        config_path,
    )
    yield setup
    loop_thread.run(handle.shutdown(1))
    for server in servers:
        loop_thread.run(server.shutdown(1))


@pytest.fixture
def impatient_gate(
    tmp_path: Path, pki: dict[str, CertFiles], loop_thread: LoopThread, secret_file: tuple[Path, str]
) -> Iterator[tuple[int, ssl.SSLContext]]:
    """A gate in front of one demo app whose request heads and TLS handshakes time out after 1 s:
    its port and a client TLS context."""
    _, servers, addresses = start_apps(loop_thread, 1)
    config = write_gate_config(tmp_path, pki, secret_file[0], addresses, header_timeout="1s")
    handle = loop_thread.run(start_gate(load_config(config)))
    try:
        yield handle.listeners[0].port, client_tls(pki["ca"].certificate)
    finally:
        loop_thread.run(handle.shutdown(1))
        loop_thread.run(servers[0].shutdown(1))
