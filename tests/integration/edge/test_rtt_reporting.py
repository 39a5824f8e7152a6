"""Edges measure viewers' TCP round trips and a real DNS router learns them per /24."""

from __future__ import annotations

from pathlib import Path

from originguard.certs import CertFiles
from originguard.config import load_config, load_config_text
from originguard.dns.server import start_dns_server
from originguard.edge.process import start_edge
from originguard.latency.subnets import parse_subnet
from tests.integration.edge.conftest import build_chain, stop_chain
from tests.support import LoopThread, connect, wait_for

ROUTER = """
edges:
  - {name: edge-test, region: eu-west-1, https: 127.0.0.1:8443}
dns:
  listen: 127.0.0.1:0
  admin: 127.0.0.1:0
  zone: cdn.example.test.
  records:
    - {name: www, policy: latency, targets: [{edge: edge-test}]}
"""


def test_edge_reports_viewer_rtts_that_the_router_stores(
    tmp_path: Path, pki: dict[str, CertFiles], loop_thread: LoopThread
) -> None:
    router = loop_thread.run(
        start_dns_server(
            load_config_text(ROUTER, "router.yaml", tmp_path, load_secrets=False), start_health_checks=False
        )
    )
    chain = build_chain(tmp_path, pki, loop_thread)
    text = (tmp_path / "edge.yaml").read_text()
    (tmp_path / "rtt.yaml").write_text(
        text.replace(
            "  admin_token:", f"  rtt_report_url: http://127.0.0.1:{router.admin_port}/rtt\n  admin_token:"
        )
    )
    edge = loop_thread.run(start_edge(load_config(tmp_path / "rtt.yaml"), "edge-test"))
    try:
        assert edge.https is not None and edge.reporter is not None
        for _ in range(12):
            connect(edge.https.port, tls=chain.viewer_tls, server_name="www.cdn.example.test").close()
        reporter = edge.reporter
        subnet = parse_subnet("127.0.0.0/24")

        def learned() -> bool:
            loop_thread.run(reporter.flush())
            return router.rtt.estimate(subnet, "edge-test", loop_thread.loop.time()) is not None

        try:
            wait_for(learned, timeout=10)
        except AssertionError:
            raise AssertionError(
                f"sent={reporter.sent} dropped={reporter.dropped} pending={len(reporter.pending)}"
            ) from None
        estimate = router.rtt.estimate(subnet, "edge-test", loop_thread.loop.time())
        assert estimate is not None and estimate[1] >= 10 and 0 <= estimate[0] < 50
    finally:
        loop_thread.run(edge.shutdown(1))
        loop_thread.run(router.aclose())
        stop_chain(chain, loop_thread)
