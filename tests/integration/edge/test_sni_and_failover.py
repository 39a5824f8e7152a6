"""An edge with several certificates picks one by SNI; origin groups fail over to the secondary."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

from originguard.certs import CertFiles, ensure_dev_pki
from originguard.config import load_config
from originguard.config.values import HostPort
from originguard.edge.process import start_edge
from originguard.http.limits import Limits
from originguard.http.server import HttpServer
from originguard.secrets import write_secret_file
from tests.origin_app import Script, ScriptedOrigin
from tests.support import LoopThread, client_tls, request

EDGE_YAML = """
secrets: {{origin-verify: {{file: {tmp}/secret}}}}
edges:
  - name: edge-sni
    region: local
    https: 127.0.0.1:0
    tls: {{certificate: {edge_cert}, key: {edge_key}}}
    certificates:
      - {{names: ["static.other.test", "*.assets.test"], certificate: {other_cert}, key: {other_key}}}
distribution:
  viewer_protocol_policy: https-only
  access_log: null
  origins:
    - {{id: primary, address: "{primary}", protocol_policy: http-only, connection_attempts: 2,
       connect_timeout: 1s, custom_headers: {{X-Origin-Verify: {{secret: origin-verify}}}}}}
    - {{id: secondary, address: "{secondary}", protocol_policy: http-only,
       custom_headers: {{X-Origin-Verify: {{secret: origin-verify}}}}}}
  origin_groups:
    - {{id: pair, members: [primary, secondary], failover_statuses: [503]}}
  default_behavior: {{origin: pair, cache: false}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def presented_names(port: int, ca: Path, name: str) -> set[str]:
    context = client_tls(ca)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=name) as tls,
    ):
        cert = tls.getpeercert()
    return {value for kind, value in cert.get("subjectAltName", ()) if kind == "DNS"}


def test_sni_chooses_the_certificate_and_origin_groups_fail_over(
    tmp_path: Path, pki: dict[str, CertFiles], loop_thread: LoopThread
) -> None:
    other = ensure_dev_pki(pki["ca"].certificate.parent, {"other": ["static.other.test", "*.assets.test"]})[
        "other"
    ]
    secondary = ScriptedOrigin()

    async def start() -> tuple[HttpServer, HostPort]:
        server = HttpServer(secondary, Limits())
        return server, await server.listen(HostPort("127.0.0.1", 0))

    server, secondary_address = loop_thread.run(start())
    write_secret_file(tmp_path / "secret", ["k3v9q2m7x4c8b1z6l0h5d2f9g7j3p8t1w4r6y0u2"])
    primary_port = free_port()  # nothing listens: connection refused
    (tmp_path / "edge.yaml").write_text(
        EDGE_YAML.format(
            tmp=tmp_path,
            edge_cert=pki["edge"].certificate,
            edge_key=pki["edge"].key,
            other_cert=other.certificate,
            other_key=other.key,
            primary=f"127.0.0.1:{primary_port}",
            secondary=secondary_address,
        )
    )
    edge = loop_thread.run(start_edge(load_config(tmp_path / "edge.yaml"), "edge-sni"))
    try:
        assert edge.https is not None
        port, ca = edge.https.port, pki["ca"].certificate
        assert "www.cdn.example.test" in presented_names(port, ca, "www.cdn.example.test")
        assert "static.other.test" in presented_names(port, ca, "static.other.test")
        assert "*.assets.test" in presented_names(port, ca, "img.assets.test")
        tls = client_tls(ca)
        answer = request(
            port,
            b"GET /x HTTP/1.1\r\nHost: static.other.test\r\n\r\n",
            tls=tls,
            server_name="static.other.test",
        )
        assert answer.status == 200 and secondary.hits[b"/x"] == 1, "refused primary: the secondary answered"
    finally:
        loop_thread.run(edge.shutdown(1))
        loop_thread.run(server.shutdown(1))


def test_primary_answering_a_failover_status_hands_over_to_the_secondary(
    tmp_path: Path, pki: dict[str, CertFiles], loop_thread: LoopThread
) -> None:
    primary, secondary = ScriptedOrigin(), ScriptedOrigin()
    primary.scripts[b"/y"] = Script(status=503, body=b"down for maintenance\n")

    async def start(app: ScriptedOrigin) -> tuple[HttpServer, HostPort]:
        server = HttpServer(app, Limits())
        return server, await server.listen(HostPort("127.0.0.1", 0))

    (first, first_address), (second, second_address) = (
        loop_thread.run(start(primary)),
        loop_thread.run(start(secondary)),
    )
    write_secret_file(tmp_path / "secret", ["k3v9q2m7x4c8b1z6l0h5d2f9g7j3p8t1w4r6y0u2"])
    (tmp_path / "edge.yaml").write_text(
        EDGE_YAML.format(
            tmp=tmp_path,
            edge_cert=pki["edge"].certificate,
            edge_key=pki["edge"].key,
            other_cert=pki["edge"].certificate,
            other_key=pki["edge"].key,
            primary=first_address,
            secondary=second_address,
        )
    )
    edge = loop_thread.run(start_edge(load_config(tmp_path / "edge.yaml"), "edge-sni"))
    try:
        assert edge.https is not None
        tls: ssl.SSLContext = client_tls(pki["ca"].certificate)
        answer = request(
            edge.https.port,
            b"GET /y HTTP/1.1\r\nHost: www.cdn.example.test\r\n\r\n",
            tls=tls,
            server_name="www.cdn.example.test",
        )
        assert answer.status == 200 and answer.body == b"hello from the origin\n"
        assert primary.hits[b"/y"] == 1 and secondary.hits[b"/y"] == 1
    finally:
        loop_thread.run(edge.shutdown(1))
        for server in (first, second):
            loop_thread.run(server.shutdown(1))
