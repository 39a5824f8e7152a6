"""A component whose port another process holds says so on one line and exits 2, never hangs."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from originguard.certs import CertFiles
from tests.redis_server import RedisServer, free_port, redis_server_fixture

redis_server = redis_server_fixture()

EXIT_WITHIN = 10.0  # seconds: a start-up error is reported at once, a hang runs into this


@pytest.fixture
def held_port() -> Iterator[int]:
    """A TCP and UDP port bound (and listening) by this test process: someone else's port."""
    with socket.socket() as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        tcp.bind(("127.0.0.1", 0))
        tcp.listen()
        port = tcp.getsockname()[1]
        try:
            udp.bind(("127.0.0.1", port))
        except OSError:
            pytest.skip("the UDP twin of a free TCP port was taken")
        yield port


def run_component(*args: str) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "originguard", *args], capture_output=True, text=True, timeout=EXIT_WITHIN
    )
    assert time.monotonic() - started < EXIT_WITHIN
    return result


def edge_config(tmp_path: Path, pki: dict[str, CertFiles], https: int, redis: str | None) -> Path:
    edge = pki["edge"]
    cluster = f"cluster: {{redis: '{redis}'}}\n" if redis else ""
    path = tmp_path / "edge.yaml"
    path.write_text(f"""{cluster}
edges:
  - {{name: edge-sg, region: r1, http: 127.0.0.1:{free_port()}, https: 127.0.0.1:{https},
     tls: {{certificate: {edge.certificate}, key: {edge.key}}}}}
distribution:
  rtt_report_url: http://127.0.0.1:{free_port()}/rtt
  origins: [{{id: o, address: 127.0.0.1:{free_port()}, protocol_policy: http-only}}]
  default_behavior: {{origin: o}}
""")
    return path


@pytest.mark.parametrize("with_redis", [False, True], ids=["local", "cluster"])
def test_an_edge_whose_port_is_taken_exits_2_with_one_line_naming_the_port(
    tmp_path: Path, pki: dict[str, CertFiles], held_port: int, redis_server: RedisServer, with_redis: bool
) -> None:
    config = edge_config(tmp_path, pki, held_port, redis_server.url if with_redis else None)
    # Several runs: the hang with Redis was a race between start-up failure and the cluster tasks.
    for _ in range(3):
        result = run_component("edge", "-c", str(config), "--name", "edge-sg")
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip().splitlines() == [
            f"error: {config}: edges[0].https: edge edge-sg cannot listen on 127.0.0.1:{held_port}: "
            "address already in use (another process holds the port)"
        ]


def test_a_dns_router_whose_port_is_taken_exits_2_naming_the_port(tmp_path: Path, held_port: int) -> None:
    config = tmp_path / "dns.yaml"
    config.write_text(f"""
edges: [{{name: e1, region: r1, https: 127.0.0.1:8443}}]
dns:
  listen: 127.0.0.1:{held_port}
  zone: cdn.example.test.
  records: [{{name: www, targets: [{{edge: e1}}]}}]
""")
    result = run_component("dns", "-c", str(config))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"dns.listen: dns router cannot listen on 127.0.0.1:{held_port} (tcp): address already in use" in (
        result.stderr
    )


def test_a_gate_whose_admin_port_is_taken_exits_2_naming_the_port(
    tmp_path: Path, pki: dict[str, CertFiles], held_port: int
) -> None:
    gate = pki["gate"]
    config = tmp_path / "gate.yaml"
    config.write_text(f"""
gate:
  admin: 127.0.0.1:{held_port}
  listeners:
    - port: 127.0.0.1:{free_port()}
      protocol: https
      tls: {{certificate: {gate.certificate}, key: {gate.key}}}
""")
    result = run_component("gate", "-c", str(config))
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: {config}: gate.admin: gate cannot listen on 127.0.0.1:{held_port}: "
        "address already in use (another process holds the port)"
    ]


def test_the_demo_app_whose_port_is_taken_exits_2_naming_the_port(held_port: int) -> None:
    result = run_component("demo-app", "--listen", f"127.0.0.1:{held_port}")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: demo-app: --listen: demo app cannot listen on 127.0.0.1:{held_port}: "
        "address already in use (another process holds the port)"
    ]
