"""`originguard up -c FILE` on free ports: the banner only once its own children listen, a clear exit 2
when another process holds a port, and SIGHUP reloading the DNS router in place."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import pytest

from originguard.certs import CertFiles
from tests.processes import READY_DEADLINE, Spawned, spawn
from tests.redis_server import free_port
from tests.support import port_closed

BANNER = "originguard is up"


@dataclass
class Ports:
    edge_http: int
    edge_https: int
    edge_admin: int
    gate: int
    gate_admin: int
    dns: int
    dns_admin: int


def write_config(tmp_path: Path, pki: dict[str, CertFiles], ports: Ports) -> Path:
    edge, gate = pki["edge"], pki["gate"]
    path = tmp_path / "stack.yaml"
    path.write_text(f"""
edges:
  - {{name: edge-sg, region: r1, http: 127.0.0.1:{ports.edge_http}, https: 127.0.0.1:{ports.edge_https},
     admin: 127.0.0.1:{ports.edge_admin}, tls: {{certificate: {edge.certificate}, key: {edge.key}}}}}
distribution:
  origins: [{{id: gate, address: 127.0.0.1:{ports.gate}, server_name: gate.originguard.test,
             ca_bundle: {pki["ca"].certificate}}}]
  default_behavior: {{origin: gate}}
gate:
  admin: 127.0.0.1:{ports.gate_admin}
  listeners:
    - port: 127.0.0.1:{ports.gate}
      protocol: https
      tls: {{certificate: {gate.certificate}, key: {gate.key}}}
dns:
  listen: 127.0.0.1:{ports.dns}
  admin: 127.0.0.1:{ports.dns_admin}
  zone: cdn.example.test.
  records:
    - {{name: www, targets: [{{edge: edge-sg}}]}}
    - {{name: version, txt: ["v1"]}}
""")
    return path


@dataclass
class Up:
    spawned: Spawned
    cwd: Path

    @property
    def process(self) -> subprocess.Popen[bytes]:
        return self.spawned.process

    def output(self) -> tuple[str, str]:
        return self.spawned.output(), self.spawned.errors()

    def wait_for_banner(self) -> None:
        self.spawned.wait_for_output(BANNER)

    def pid_of(self, child: str) -> int:
        return int((self.cwd / ".originguard" / "run" / f"{child}.pid").read_text())


def start_up(tmp_path: Path, config: Path) -> Up:
    args = [sys.executable, "-m", "originguard", "up", "-c", str(config)]
    return Up(spawn(args, tmp_path / "up.out", err=tmp_path / "up.err", cwd=tmp_path), tmp_path)


@pytest.fixture
def ports() -> Ports:
    return Ports(*(free_port() for _ in range(7)))


@pytest.fixture
def running(tmp_path: Path, pki: dict[str, CertFiles], ports: Ports) -> Iterator[Up]:
    up = start_up(tmp_path, write_config(tmp_path, pki, ports))
    with up.spawned:  # `up` and every child it started, however the test ends
        yield up


def test_up_exits_2_naming_the_port_another_process_holds_and_never_says_it_is_up(
    tmp_path: Path, pki: dict[str, CertFiles], ports: Ports
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", ports.edge_https))
        squatter.listen()  # it even accepts connections: a port probe would take it for our edge
        with start_up(tmp_path, write_config(tmp_path, pki, ports)).spawned as up:
            code = up.process.wait(READY_DEADLINE)  # a hang runs into this; the group goes anyway
            stdout, stderr = up.output(), up.errors()
    assert code == 2, stderr
    assert BANNER not in stdout
    assert (
        f"error: edge-sg did not start: {tmp_path / 'stack.yaml'}: edges[0].https: edge edge-sg cannot "
        f"listen on 127.0.0.1:{ports.edge_https}: address already in use (another process holds the port)"
    ) in stderr.splitlines()
    assert "Traceback" not in stderr
    assert port_closed(ports.gate) and port_closed(ports.dns), "the children that started were stopped"


def ask_version(port: int) -> str | None:
    query = dns.message.make_query("version.cdn.example.test.", "TXT")
    try:
        response = dns.query.udp(query, "127.0.0.1", port=port, timeout=0.5)
    except (dns.exception.Timeout, OSError):
        return None
    return b"".join(response.answer[0][0].strings).decode() if response.answer else ""


def test_up_says_it_is_up_once_its_children_listen_and_sighup_reloads_dns_in_place(
    running: Up, ports: Ports
) -> None:
    running.wait_for_banner()
    assert ask_version(ports.dns) == "v1"
    dns_pid = running.pid_of("dns")
    config = running.cwd / "stack.yaml"
    config.write_text(config.read_text().replace('txt: ["v1"]', 'txt: ["v2"]'))
    running.process.send_signal(signal.SIGHUP)
    answers: list[str | None] = []
    deadline = time.monotonic() + 10
    while "v2" not in answers and time.monotonic() < deadline:
        answers.append(ask_version(ports.dns))
    assert answers[-1] == "v2" and None not in answers, answers
    assert running.pid_of("dns") == dns_pid, "the DNS router was reloaded, not restarted"
    os.kill(dns_pid, 0)
    running.process.send_signal(signal.SIGTERM)
    assert running.process.wait(30) == 0
    assert "exited with code" not in running.output()[1]
