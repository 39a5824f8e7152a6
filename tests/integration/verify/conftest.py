"""Fixtures for `verify`: real gates (secure or deliberately broken) in front of real demo apps.

Each gate is started from YAML on port 0; `Deployment.config_text()` renders the same YAML with the
ports the gate actually bound, which is what `verify_config` reads.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from originguard.certs import CertFiles
from originguard.config import LoadedConfig, load_config_text
from originguard.config.values import HostPort
from originguard.demo_app import DemoApp
from originguard.gate.process import GateHandle, start_gate
from originguard.http.limits import Limits
from originguard.http.server import HttpServer
from tests.support import LoopThread, wait_for

SECURE_RULE = "[{http_header: {name: X-Origin-Verify, values: [{secret: origin-verify}]}}]"
DENY = '{fixed_response: {status: 403, content_type: text/plain, body: "Forbidden"}}'
FORWARD = "{forward: {target_group: app}}"


@dataclass
class GateOptions:
    """How the gate under test is (mis)configured."""

    default_action: str = DENY
    rule_conditions: str | None = SECURE_RULE  # None: no rule at all
    http_listener: bool = False
    strip_matched_secret: bool = True
    certificate: str | CertFiles = "gate"  # a leaf of the session PKI by name, or other files
    http_default_action: str = DENY


@dataclass
class Deployment:
    handle: GateHandle
    app: DemoApp
    secret: str
    secret_path: Path
    ca: Path
    options: GateOptions
    render: Callable[[list[int]], str] = field(repr=False)

    @property
    def https(self) -> HostPort:
        return self.handle.listeners[0]

    @property
    def http(self) -> HostPort:
        return self.handle.listeners[1]

    def loaded(self, probe_port: int, extra_yaml: str = "") -> LoadedConfig:
        """The config as `verify_config` reads it: bound ports, a closed probe port, more sections."""
        ports = [listener.port for listener in self.handle.listeners]
        text = self.render(ports).replace("http_probe_port: 80", f"http_probe_port: {probe_port}")
        text += extra_yaml
        return load_config_text(text, "verify-test.yaml", self.secret_path.parent)


def render_gate_yaml(
    options: GateOptions, pki: dict[str, CertFiles], secret: Path, app: HostPort, ports: list[int]
) -> str:
    leaf = pki[options.certificate] if isinstance(options.certificate, str) else options.certificate
    rules = ""
    if options.rule_conditions is not None:
        rules = f"""
      rules:
        - priority: 1
          conditions: {options.rule_conditions}
          actions: [{FORWARD}]"""
    http = ""
    if options.http_listener:
        http = f"""
    - port: 127.0.0.1:{ports[1]}
      protocol: http
      default_action: {options.http_default_action}"""
    return f"""
secrets:
  origin-verify: {{file: {secret}}}
distribution:
  origins:
    - id: gate
      address: 127.0.0.1:{ports[0]}
      server_name: gate.originguard.test
      ca_bundle: {pki["ca"].certificate}
      custom_headers: {{X-Origin-Verify: {{secret: origin-verify}}}}
  default_behavior: {{origin: gate}}
gate:
  access_log: null
  strip_matched_secret: {"true" if options.strip_matched_secret else "false"}
  http_probe_port: 80
  listeners:
    - port: 127.0.0.1:{ports[0]}
      protocol: https
      tls: {{certificate: {leaf.certificate}, key: {leaf.key}}}
      default_action: {options.default_action}{rules}{http}
  target_groups:
    app:
      targets: [{app}]
      health_check: {{path: /healthz, interval: 0.2s, timeout: 0.5s, healthy: 1, unhealthy: 1}}
      read_timeout: 2s
"""


StartGate = Callable[[GateOptions], Deployment]


@pytest.fixture
def start_deployment(
    tmp_path: Path, pki: dict[str, CertFiles], loop_thread: LoopThread, secret_file: tuple[Path, str]
) -> Iterator[StartGate]:
    """Start a gate configured by `GateOptions` in front of a demo app that masks nothing."""
    started: list[tuple[GateHandle, HttpServer]] = []

    def start(options: GateOptions) -> Deployment:
        app = DemoApp(name=f"app-{len(started)}")  # no secret_headers: an echo shows the value

        async def listen() -> tuple[HttpServer, HostPort]:
            server = HttpServer(app, Limits())
            return server, await server.listen(HostPort("127.0.0.1", 0))

        server, address = loop_thread.run(listen())

        def render(ports: list[int]) -> str:
            return render_gate_yaml(options, pki, secret_file[0], address, ports)

        loaded = load_config_text(render([0, 0]), "gate.yaml", tmp_path)
        handle = loop_thread.run(start_gate(loaded))
        started.append((handle, server))
        groups = handle.runtime.groups
        wait_for(lambda: all(t.healthy for t in groups["app"].targets))
        return Deployment(handle, app, secret_file[1], secret_file[0], pki["ca"].certificate, options, render)

    yield start
    for handle, server in started:
        loop_thread.run(handle.shutdown(1))
        loop_thread.run(server.shutdown(1))


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on (bound once by us, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
