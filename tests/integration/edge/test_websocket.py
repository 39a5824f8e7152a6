"""WebSocket tunnels end to end: a `websockets` client → edge (TLS, WAF) → gate (TLS, secret
header) → the demo app's echo at /ws, all real servers on 127.0.0.1 (issue 19)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, ConnectionClosedOK, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from originguard.certs import CertFiles
from originguard.config import load_config
from originguard.config.values import HostPort
from originguard.demo_app import DemoApp
from originguard.edge.process import EdgeHandle, start_edge
from originguard.gate.process import GateHandle, start_gate
from originguard.http.limits import Limits
from originguard.http.server import HttpServer
from originguard.secrets import write_secret_file
from tests.support import LoopThread, client_tls, read_all, read_response, wait_for
from tests.support import connect as raw_connect

SECRET = "w8s2k4m6q1c3v5b7n9x0z2l4h6d8f0g1"

GATE_YAML = """
secrets: {{origin-verify: {{file: {secret}}}}}
gate:
  access_log: null
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
    app: {{targets: ["{app}"], health_check: null, read_timeout: 2s}}
"""

EDGE_YAML = """
secrets: {{origin-verify: {{file: {secret}}}}}
edges:
  - {{name: edge-ws, region: eu-west-1, https: 127.0.0.1:0, tls: {{certificate: {cert}, key: {key}}}}}
distribution:
  viewer_protocol_policy: https-only
  access_log: null
  web_acl: main
  origins:
    - id: gate
      address: "{gate}"
      protocol_policy: https-only
      server_name: gate.originguard.test
      ca_bundle: {ca}
      custom_headers: {{X-Origin-Verify: {{secret: origin-verify}}}}
      read_timeout: 2s
  default_behavior: {{origin: gate}}
  behaviors:
    - {{path: /ws-off*, origin: gate, websocket: false}}
    - {{path: /ws-idle*, origin: gate, websocket_idle_timeout: 0.3}}
    - {{path: /api/*, origin: gate, cache: false}}
waf:
  web_acls:
    main:
      default_action: allow
      rules:
        - {{name: block-sqli, priority: 10, action: block, statement: {{sqli: {{field: query}}}}}}
"""


@dataclass
class WsChain:
    app: DemoApp
    gate: GateHandle
    edge: EdgeHandle
    pki: dict[str, CertFiles]

    @property
    def url(self) -> str:
        assert self.edge.https is not None
        return f"wss://127.0.0.1:{self.edge.https.port}"

    def open_tunnels_at_gate(self) -> int:
        return sum(target.outstanding for target in self.gate.runtime.groups["app"].targets)

    def open(self, path: str = "/ws", **options: object) -> ClientConnection:
        return connect(
            self.url + path,
            ssl=client_tls(self.pki["ca"].certificate),
            server_hostname="www.cdn.example.test",
            open_timeout=5,
            **options,  # type: ignore[arg-type]
        )


@pytest.fixture
def ws_chain(tmp_path: Path, pki: dict[str, CertFiles], loop_thread: LoopThread) -> Iterator[WsChain]:
    write_secret_file(tmp_path / "origin-verify", [SECRET])
    app = DemoApp(frozenset({b"x-origin-verify"}))

    async def start_app() -> tuple[HttpServer, HostPort]:
        server = HttpServer(app, Limits())
        return server, await server.listen(HostPort("127.0.0.1", 0))

    app_server, app_address = loop_thread.run(start_app())
    gate_yaml = tmp_path / "gate.yaml"
    gate_yaml.write_text(
        GATE_YAML.format(
            secret=tmp_path / "origin-verify",
            cert=pki["gate"].certificate,
            key=pki["gate"].key,
            app=app_address,
        )
    )
    gate = loop_thread.run(start_gate(load_config(gate_yaml)))
    edge_yaml = tmp_path / "edge.yaml"
    edge_yaml.write_text(
        EDGE_YAML.format(
            secret=tmp_path / "origin-verify",
            cert=pki["edge"].certificate,
            key=pki["edge"].key,
            gate=gate.listeners[0],
            ca=pki["ca"].certificate,
        )
    )
    edge = loop_thread.run(start_edge(load_config(edge_yaml), "edge-ws"))
    yield WsChain(app, gate, edge, pki)
    loop_thread.run(edge.shutdown(1))
    loop_thread.run(gate.shutdown(1))
    loop_thread.run(app_server.shutdown(1))


def test_text_and_binary_messages_echo_through_edge_and_gate(ws_chain: WsChain) -> None:
    with ws_chain.open() as ws:
        ws.send("hello, tunnel")
        assert ws.recv(timeout=5) == "hello, tunnel"
        ws.send(b"\x00\xffbinary\x80")
        assert ws.recv(timeout=5) == b"\x00\xffbinary\x80"


def test_handshake_response_never_carries_the_secret(ws_chain: WsChain) -> None:
    with ws_chain.open() as ws:
        assert ws.response is not None
        assert ws.response.status_code == 101
        assert "x-origin-verify" not in {name.lower() for name in ws.response.headers}
        assert SECRET not in str(ws.response.headers)


def test_one_mebibyte_message_round_trips(ws_chain: WsChain) -> None:
    payload = os.urandom(1024 * 1024)
    with ws_chain.open(max_size=2 * 1024 * 1024) as ws:
        ws.send(payload)
        assert ws.recv(timeout=10) == payload


def test_close_from_the_client_is_answered_and_ends_the_tunnel(ws_chain: WsChain) -> None:
    with ws_chain.open() as ws:
        ws.send("before close")
        assert ws.recv(timeout=5) == "before close"
        ws.close(code=1000, reason="done")
    assert ws.protocol.close_rcvd is not None
    assert ws.protocol.close_rcvd.code == 1000  # the app's answer came back through both hops
    wait_for(lambda: ws_chain.open_tunnels_at_gate() == 0)  # the gate's tunnel ended too


def test_close_from_the_app_reaches_the_viewer(ws_chain: WsChain) -> None:
    with ws_chain.open() as ws:
        ws.send("close")  # the demo echo closes first on this message
        with pytest.raises(ConnectionClosedOK) as closed:
            ws.recv(timeout=5)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1000


def test_idle_tunnel_is_closed_after_the_behaviours_timeout(ws_chain: WsChain) -> None:
    with ws_chain.open("/ws-idle", ping_interval=None) as ws:
        ws.send("still here")
        assert ws.recv(timeout=5) == "still here"
        # No byte either way: the edge's 0.3 s idle deadline closes both sides, long before 5 s.
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)
    wait_for(lambda: ws_chain.open_tunnels_at_gate() == 0)  # and the gate's side closed with it


def test_behaviour_with_websocket_false_gets_403(ws_chain: WsChain) -> None:
    seen = ws_chain.app.requests_seen
    with pytest.raises(InvalidStatus) as refused:
        ws_chain.open("/ws-off")
    assert refused.value.response.status_code == 403
    assert ws_chain.app.requests_seen == seen  # refused at the edge, never sent on


def test_waf_runs_on_the_handshake(ws_chain: WsChain) -> None:
    with pytest.raises(InvalidStatus) as blocked:
        ws_chain.open("/ws?id=1%27%20OR%20%271%27=%271")
    assert blocked.value.response.status_code == 403


HANDSHAKE = (
    "GET /ws HTTP/1.1\r\nHost: gate.originguard.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
)


def test_upgrade_without_the_secret_gets_the_gates_fixed_403(ws_chain: WsChain) -> None:
    sock = raw_connect(ws_chain.gate.listeners[0].port, tls=client_tls(ws_chain.pki["ca"].certificate))
    sock.sendall((HANDSHAKE + "\r\n").encode())
    response = read_response(sock)
    assert response.status == 403
    assert response.body == b"Forbidden"
    assert read_all(sock) == b""  # and the connection closes: no tunnel, no second request


def test_upgrade_with_the_secret_at_the_gate_is_tunnelled(ws_chain: WsChain) -> None:
    sock = raw_connect(ws_chain.gate.listeners[0].port, tls=client_tls(ws_chain.pki["ca"].certificate))
    sock.sendall((HANDSHAKE + f"X-Origin-Verify: {SECRET}\r\n\r\n").encode())
    response = read_response(sock, head_only=True)
    assert response.status == 101
    assert response.header("Sec-WebSocket-Accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455 §1.3


def test_h2c_upgrade_is_not_passed_on(ws_chain: WsChain) -> None:
    """h2c smuggling: an Upgrade: h2c must never reach the app as an upgrade."""
    assert ws_chain.edge.https is not None
    sock = raw_connect(
        ws_chain.edge.https.port,
        tls=client_tls(ws_chain.pki["ca"].certificate),
        server_name="www.cdn.example.test",
    )
    sock.sendall(
        b"GET /api/h2c HTTP/1.1\r\nHost: www.cdn.example.test\r\nConnection: Upgrade, HTTP2-Settings\r\n"
        b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"
    )
    response = read_response(sock)
    assert response.status == 200  # answered as the plain GET it also is
    seen = {name.lower() for name, _ in ws_chain.app.last_headers}
    assert not seen & {b"upgrade", b"http2-settings"}
    assert read_all(sock) == b""  # then closed: nothing after the head is parsed


def test_a_handshake_the_app_answers_without_101_is_relayed_as_a_response(ws_chain: WsChain) -> None:
    assert ws_chain.edge.https is not None
    sock = raw_connect(
        ws_chain.edge.https.port,
        tls=client_tls(ws_chain.pki["ca"].certificate),
        server_name="www.cdn.example.test",
    )
    sock.sendall(HANDSHAKE.replace("/ws", "/api/plain").encode() + b"\r\n")
    response = read_response(sock)
    assert response.status == 200  # the demo app's JSON page: it does not upgrade there
    seen = dict(ws_chain.app.last_headers)
    assert seen[b"Upgrade"] == b"websocket"  # the handshake went on as one, signed by the edge
    assert b"X-Origin-Verify" not in seen  # the gate admitted it by the secret, then cut it
    assert SECRET.encode() not in response.raw
    assert read_all(sock) == b""


def test_websocket_upgrade_with_the_wrong_version_is_not_tunnelled(ws_chain: WsChain) -> None:
    assert ws_chain.edge.https is not None
    sock = raw_connect(
        ws_chain.edge.https.port,
        tls=client_tls(ws_chain.pki["ca"].certificate),
        server_name="www.cdn.example.test",
    )
    sock.sendall(HANDSHAKE.replace("Version: 13", "Version: 8").replace("/ws", "/api/ws").encode() + b"\r\n")
    response = read_response(sock)
    assert response.status == 200  # a plain GET of /api/ws: Upgrade was cut on the way
    assert read_all(sock) == b""


def test_many_messages_to_a_slow_reader_arrive_whole_and_in_order(ws_chain: WsChain) -> None:
    """32 MiB echoed to a reader that lags: every hop pauses reading while the next is full."""
    count, size = 512, 64 * 1024
    messages = [bytes([i % 251]) * size for i in range(count)]
    with ws_chain.open(max_size=size * 2, max_queue=4) as ws:
        sender = threading.Thread(target=lambda: [ws.send(m) for m in messages], daemon=True)
        sender.start()
        for expected in messages:
            assert ws.recv(timeout=10) == expected
        sender.join(10)
        assert not sender.is_alive()
