"""The edge with two workers as a fixture starts it: free ports, a config, READY=1 as the signal."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

from originguard.config.values import HostPort
from tests.processes import NotReady, Spawned, spawn
from tests.support import port_closed

CONFIG = """
secrets: {{origin-verify: {{file: {tmp}/secret}}, admin-token: {{file: {tmp}/token}}}}
edges:
  - {{name: edge-w, region: local, http: 127.0.0.1:{http}, admin: 127.0.0.1:{admin}, workers: 2}}
distribution:
  viewer_protocol_policy: allow-all
  access_log: null
  admin_token: {{secret: admin-token}}
  origins:
    - id: app
      address: "{origin}"
      protocol_policy: http-only
      custom_headers: {{X-Origin-Verify: {{secret: origin-verify}}}}
  default_behavior: {{origin: app, ttl: {{min: 0, default: 60, max: 600}}}}
"""


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for sock in sockets:
        sock.close()
    return ports


PORT_TRIES = 3  # admin + 1 is only known free a moment before the workers bind it


def start_workers(tmp_path: Path, origin: HostPort) -> tuple[int, int, Spawned]:
    """The edge with two workers, ready once its parent says READY=1 (every worker has bound its
    listeners); a start that fails stops the whole process group before raising."""
    for attempt in range(1, PORT_TRIES + 1):
        http, admin, _ = free_ports(3)
        while not port_closed(admin + 1):
            http, admin, _ = free_ports(3)
        config = tmp_path / "edge.yaml"
        config.write_text(CONFIG.format(tmp=tmp_path, http=http, admin=admin, origin=origin))
        args = [sys.executable, "-m", "originguard", "edge", "-c", str(config), "--name", "edge-w"]
        edge = spawn(args, tmp_path / f"edge-{attempt}.log", notify=True)
        try:
            edge.wait_ready()
        except NotReady:
            if attempt < PORT_TRIES and "address already in use" in edge.output():
                continue  # someone took a port between free_ports() and the bind: fresh ports
            raise
        return http, admin, edge
    raise AssertionError("unreachable")
