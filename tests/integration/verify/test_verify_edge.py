"""Edge probes against a stand-in edge: our own gate, serving the edge certificate and forwarding
everything to a demo app over HTTPS, with an HTTP listener that redirects to HTTPS (a real server of
ours, not a mock; the edge server itself is probed the same way once it exists)."""

from __future__ import annotations

from pathlib import Path

from originguard.audit.report import Finding, Report
from originguard.audit.verify import verify_config, verify_urls
from originguard.certs import ensure_dev_pki
from tests.integration.verify.conftest import DENY, FORWARD, Deployment, GateOptions, StartGate

REDIRECT = "{redirect: {protocol: HTTPS}}"


def stand_in_edge(start: StartGate, *, default_action: str = FORWARD) -> Deployment:
    options = GateOptions(
        default_action=default_action,
        rule_conditions=None,
        http_listener=True,
        http_default_action=REDIRECT,
        certificate="edge",
    )
    return start(options)


def edge_findings(report: Report) -> dict[tuple[str, str], Finding]:
    return {(f.check, f.field): f for f in report.findings if f.check.startswith("edge-")}


def probe_edge(gate: Deployment, edge_url: str, closed_port: int) -> Report:
    return verify_urls(
        f"https://127.0.0.1:{gate.https.port}/",
        edge_url,
        header="X-Origin-Verify",
        ca_bundle=gate.ca,
        server_name="gate.originguard.test",
        secret=gate.secret.encode(),
        http_probe_ports=[closed_port],
        timeout=3.0,
    )


def test_request_through_the_edge_reaches_the_origin(start_deployment: StartGate, closed_port: int) -> None:
    gate = start_deployment(GateOptions())
    edge = stand_in_edge(start_deployment)
    report = probe_edge(gate, f"https://127.0.0.1:{edge.https.port}/", closed_port)
    found = edge_findings(report)
    reach = found[("edge-reaches-origin", "")]
    assert (reach.severity, reach.message) == ("pass", "200 through the edge")
    assert {found[("edge-tls", f)].severity for f in ("version", "TLS 1.1 attempt", "certificate")} == {
        "pass"
    }
    assert report.ok, report.render_table()
    assert edge.app.requests_seen == 1


def test_edge_answering_403_fails_edge_reaches_origin(start_deployment: StartGate, closed_port: int) -> None:
    gate = start_deployment(GateOptions())
    edge = stand_in_edge(start_deployment, default_action=DENY)
    report = probe_edge(gate, f"https://127.0.0.1:{edge.https.port}/", closed_port)
    reach = edge_findings(report)[("edge-reaches-origin", "")]
    assert reach.severity == "fail"
    assert reach.message.startswith('403 through the edge (body "Forbidden"): the gate refused')
    assert not report.ok


def test_edge_certificate_from_another_ca_fails_edge_tls_and_is_not_trusted(
    start_deployment: StartGate, closed_port: int, tmp_path: Path
) -> None:
    gate = start_deployment(GateOptions())
    other = ensure_dev_pki(tmp_path / "other-ca", {"edge": ["127.0.0.1"]})["edge"]
    impostor = start_deployment(GateOptions(default_action=FORWARD, rule_conditions=None, certificate=other))
    report = probe_edge(gate, f"https://127.0.0.1:{impostor.https.port}/", closed_port)
    found = edge_findings(report)
    reach = found[("edge-reaches-origin", "")]
    assert reach.severity == "fail"
    assert "certificate not valid for 127.0.0.1" in reach.message
    cert = found[("edge-tls", "certificate")]
    assert cert.severity == "fail" and "unable to get local issuer certificate" in cert.message
    assert found[("edge-tls", "version")].severity == "pass"
    assert impostor.app.requests_seen == 0, "no request goes to an edge whose chain did not verify"


def test_verify_config_probes_every_edge_and_its_http_redirect(
    start_deployment: StartGate, closed_port: int
) -> None:
    gate = start_deployment(GateOptions())
    edge = stand_in_edge(start_deployment)
    edges_yaml = (
        "edges:\n"
        f"  - {{name: edge-a, region: test, https: 127.0.0.1:{edge.https.port}, "
        f"http: 127.0.0.1:{edge.http.port}}}\n"
    )
    report = verify_config(gate.loaded(closed_port, edges_yaml), timeout=3.0)
    found = edge_findings(report)
    redirect = found[("edge-http-redirect", "viewer policy redirect-to-https")]
    assert redirect.severity == "pass"
    assert redirect.message.startswith("301 to https://")
    assert found[("edge-reaches-origin", "")].severity == "pass"
    assert report.ok, report.render_table()


def test_edge_serving_plain_http_under_redirect_policy_fails(
    start_deployment: StartGate, closed_port: int
) -> None:
    gate = start_deployment(GateOptions())
    edge = start_deployment(
        GateOptions(
            default_action=FORWARD,
            rule_conditions=None,
            http_listener=True,
            http_default_action=FORWARD,
            certificate="edge",
        )
    )
    edges_yaml = (
        f"edges:\n  - {{name: edge-a, region: test, https: 127.0.0.1:{edge.https.port}, "
        f"http: 127.0.0.1:{edge.http.port}}}\n"
    )
    report = verify_config(gate.loaded(closed_port, edges_yaml), timeout=3.0)
    redirect = edge_findings(report)[("edge-http-redirect", "viewer policy redirect-to-https")]
    assert redirect.severity == "fail"
    assert redirect.message == "200: expected a redirect to https://"
