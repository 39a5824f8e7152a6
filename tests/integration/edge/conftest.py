"""A real chain for edge tests: edge (TLS) → gate (TLS, secret header) → scripted origin app."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from originguard.certs import CertFiles
from originguard.config import load_config
from originguard.config.values import HostPort
from originguard.edge.process import EdgeHandle, start_edge
from originguard.gate.process import GateHandle, start_gate
from originguard.http.limits import Limits
from originguard.http.server import HttpServer
from originguard.secrets import write_secret_file
from tests.origin_app import ScriptedOrigin
from tests.support import LoopThread, ManualClock, client_tls

GATE_YAML = """
secrets: {{origin-verify: {{file: {secret}}}}}
gate:
  access_log: {log}
  strip_matched_secret: {strip}
  listeners:
    - port: 127.0.0.1:0
      protocol: https
      underscores_in_headers: {gate_underscores}
      tls: {{certificate: {gate_cert}, key: {gate_key}}}
      rules:
        - priority: 1
          conditions: [{{http_header: {{name: X-Origin-Verify, values: [{{secret: origin-verify}}]}}}}]
          actions: [{{forward: {{target_group: app}}}}]
  target_groups:
    app: {{targets: ["{app}"], health_check: null, read_timeout: 2s}}
"""

EDGE_YAML = """
secrets:
  origin-verify: {{file: {secret}}}
  admin-token: {{file: {token}}}
edges:
  - {{name: edge-test, region: eu-west-1, http: 127.0.0.1:0, https: 127.0.0.1:0, admin: 127.0.0.1:0,
     tls: {{certificate: {edge_cert}, key: {edge_key}}}, underscores_in_headers: {edge_underscores}}}
distribution:
  viewer_protocol_policy: redirect-to-https
  web_acl: {web_acl}
  access_log: {edge_log}
  admin_token: {{secret: admin-token}}
  origins:
    - id: gate
      address: "{gate}"
      protocol_policy: https-only
      server_name: gate.originguard.test
      ca_bundle: {ca}
      custom_headers: {{X-Origin-Verify: {{secret: origin-verify}}}}
      read_timeout: 2s
      connect_timeout: 1s
  default_behavior: {{origin: gate, ttl: {{min: 0, default: 60, max: 86400}}}}
  behaviors:
    - {{path: /api/*, origin: gate, cache: false}}
    - {{path: /static/*, origin: gate, compress: true, ttl: {{min: 0, default: 60, max: 86400}}}}
waf:
  web_acls:
    main:
      default_action: allow
      rules:
        - {{name: block-sqli, priority: 10, action: block, statement: {{sqli: {{field: query}}}}}}
        - {{name: count-admin, priority: 15, action: count,
           statement: {{byte_match: {{field: path, search: /admin, position: starts_with}}}}}}
        - {{name: per-ip-limit, priority: 20, action: block,
           statement: {{rate_based: {{limit: {rate_limit}, window: 60s, keys: [ip],
                                       scope_down: {{byte_match: {{field: path, search: /limited/}}}}}}}}}}
"""


@dataclass
class Chain:
    origin: ScriptedOrigin
    origin_server: HttpServer
    gate: GateHandle
    edge: EdgeHandle
    secret: str
    token: str
    viewer_tls: ssl.SSLContext
    edge_log: Path
    gate_log: Path
    tmp: Path
    clock: ManualClock  # the edge's wall clock: advance it to age stored copies

    @property
    def https(self) -> int:
        assert self.edge.https is not None
        return self.edge.https.port

    @property
    def http(self) -> int:
        assert self.edge.http is not None
        return self.edge.http.port


def build_chain(
    tmp: Path,
    pki: dict[str, CertFiles],
    loop_thread: LoopThread,
    *,
    strip: bool = True,
    rate_limit: int = 10,
    redis_url: str | None = None,
    gate_underscores: bool = False,
    edge_underscores: bool = False,
    waf_yaml: str | None = None,
) -> Chain:
    """The chain; `waf_yaml` (a whole `waf:` section) replaces the default web ACL. The edge
    reads a `ManualClock` (`chain.clock`): its cached copies age only when the test says."""
    secret = "k3v9q2m7x4c8b1z6l0h5d2f9g7j3p8t1w4r6y0u2"
    token = "admintoken0123456789abcdefghijklmnopqrs"
    write_secret_file(tmp / "origin-verify", [secret])
    write_secret_file(tmp / "admin-token", [token])
    origin = ScriptedOrigin()

    async def start_origin() -> tuple[HttpServer, HostPort]:
        server = HttpServer(origin, Limits())
        return server, await server.listen(HostPort("127.0.0.1", 0))

    origin_server, app_address = loop_thread.run(start_origin())
    gate_yaml = tmp / "gate.yaml"
    gate_yaml.write_text(
        GATE_YAML.format(
            secret=tmp / "origin-verify",
            log=tmp / "gate.log",
            strip=str(strip).lower(),
            gate_underscores=str(gate_underscores).lower(),
            gate_cert=pki["gate"].certificate,
            gate_key=pki["gate"].key,
            app=app_address,
        )
    )
    cluster = f"cluster: {{redis: '{redis_url}'}}\n" if redis_url else ""
    gate_yaml.write_text(gate_yaml.read_text() + cluster)
    gate = loop_thread.run(start_gate(load_config(gate_yaml)))
    edge_yaml = tmp / "edge.yaml"
    edge_yaml.write_text(
        EDGE_YAML.format(
            secret=tmp / "origin-verify",
            token=tmp / "admin-token",
            edge_cert=pki["edge"].certificate,
            edge_key=pki["edge"].key,
            web_acl="main",
            edge_log=tmp / "edge.log",
            gate=gate.listeners[0],
            ca=pki["ca"].certificate,
            rate_limit=rate_limit,
            edge_underscores=str(edge_underscores).lower(),
        )
    )
    if waf_yaml is not None:
        edge_yaml.write_text(edge_yaml.read_text().partition("\nwaf:\n")[0] + "\n" + waf_yaml)
    edge_yaml.write_text(edge_yaml.read_text() + cluster)
    clock = ManualClock()
    edge = loop_thread.run(start_edge(load_config(edge_yaml), "edge-test", clock=clock))
    return Chain(
        origin,
        origin_server,
        gate,
        edge,
        secret,
        token,
        client_tls(pki["ca"].certificate),
        tmp / "edge.log",
        tmp / "gate.log",
        tmp,
        clock,
    )


def stop_chain(chain: Chain, loop_thread: LoopThread) -> None:
    loop_thread.run(chain.edge.shutdown(1))
    loop_thread.run(chain.gate.shutdown(1))
    loop_thread.run(chain.origin_server.shutdown(1))


@pytest.fixture
def chain(tmp_path: Path, pki: dict[str, CertFiles], loop_thread: LoopThread) -> Iterator[Chain]:
    built = build_chain(tmp_path, pki, loop_thread)
    yield built
    stop_chain(built, loop_thread)
