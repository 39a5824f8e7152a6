"""`verify` against real gates: a secure gate passes every probe, each break is caught with its reason."""

from __future__ import annotations

from originguard.audit.report import Finding, Report
from originguard.audit.verify import verify_config, verify_urls
from tests.integration.verify.conftest import FORWARD, Deployment, GateOptions, StartGate

GATE_CHECKS = {
    "gate-direct-no-header",
    "gate-direct-wrong-value",
    "gate-direct-case-variant",
    "gate-http-port-closed",
    "gate-admits-secret",
    "gate-tls",
}


def probe(deployment: Deployment, probe_ports: list[int], *, secret: bool = True) -> Report:
    return verify_urls(
        f"https://127.0.0.1:{deployment.https.port}/",
        None,
        header="X-Origin-Verify",
        ca_bundle=deployment.ca,
        server_name="gate.originguard.test",
        secret=deployment.secret.encode() if secret else None,
        http_probe_ports=probe_ports,
        timeout=3.0,
    )


def findings(report: Report, check: str) -> list[Finding]:
    return [f for f in report.findings if f.check == check]


def test_secure_gate_passes_every_gate_probe(start_deployment: StartGate, closed_port: int) -> None:
    deployment = start_deployment(GateOptions())
    report = probe(deployment, [closed_port])
    assert {f.check for f in report.findings} >= GATE_CHECKS | {"secret-not-exposed"}
    assert [f for f in report.findings if f.severity != "pass"] == [], report.render_table()
    assert report.ok
    fields = {f.field for f in findings(report, "gate-tls")}
    assert fields == {"version", "TLS 1.1 attempt", "certificate"}
    no_header = findings(report, "gate-direct-no-header")[0]
    assert 'body "Forbidden"' in no_header.message
    assert deployment.app.requests_seen == 1, "only the request signed as the edge signs it arrived"


def test_verify_config_reads_gate_address_ca_name_header_and_secret(
    start_deployment: StartGate, closed_port: int
) -> None:
    deployment = start_deployment(GateOptions())
    report = verify_config(deployment.loaded(closed_port), timeout=3.0)
    assert report.ok, report.render_table()
    assert {f.check for f in report.findings} >= GATE_CHECKS | {"secret-not-exposed"}
    port_findings = findings(report, "gate-http-port-closed")
    assert f"tcp://127.0.0.1:{closed_port}" in {f.resource for f in port_findings}
    cert = next(f for f in findings(report, "gate-tls") if f.field == "certificate")
    assert "gate.originguard.test" in cert.message and str(deployment.ca) in cert.message


def test_gate_whose_default_action_forwards_fails_the_no_header_probe(
    start_deployment: StartGate, closed_port: int
) -> None:
    deployment = start_deployment(GateOptions(default_action=FORWARD))
    report = probe(deployment, [closed_port])
    (finding,) = findings(report, "gate-direct-no-header")
    assert finding.severity == "fail"
    assert finding.message.startswith("200: the gate forwarded a direct request")
    assert "default_action" in finding.fix
    assert not report.ok


def test_plain_http_listener_on_the_probe_port_fails_the_closed_port_probe(
    start_deployment: StartGate,
) -> None:
    deployment = start_deployment(GateOptions(http_listener=True))
    report = probe(deployment, [deployment.http.port])
    failed = [f for f in findings(report, "gate-http-port-closed") if f.severity == "fail"]
    assert [f.resource for f in failed] == [f"tcp://127.0.0.1:{deployment.http.port}"]
    assert "open" in failed[0].message
    assert not report.ok


def test_verify_config_probes_every_http_listener_of_the_gate(
    start_deployment: StartGate, closed_port: int
) -> None:
    deployment = start_deployment(GateOptions(http_listener=True))
    report = verify_config(deployment.loaded(closed_port), timeout=3.0)
    states = {f.resource: f.severity for f in findings(report, "gate-http-port-closed") if not f.field}
    assert states == {
        f"tcp://127.0.0.1:{closed_port}": "pass",
        f"tcp://127.0.0.1:{deployment.http.port}": "fail",
    }


def test_plain_http_bytes_to_the_https_port_get_no_2xx(start_deployment: StartGate, closed_port: int) -> None:
    report = probe(start_deployment(GateOptions()), [closed_port])
    (finding,) = [f for f in findings(report, "gate-http-port-closed") if f.field]
    assert finding.field == "plain HTTP sent to the HTTPS port"
    assert finding.severity == "pass"
    assert finding.resource.startswith("http://127.0.0.1:")


def test_wildcard_header_value_fails_the_wrong_value_probe(
    start_deployment: StartGate, closed_port: int
) -> None:
    wildcard = '[{http_header: {name: X-Origin-Verify, values: ["*"]}}]'
    deployment = start_deployment(GateOptions(rule_conditions=wildcard))
    report = probe(deployment, [closed_port])
    (wrong,) = findings(report, "gate-direct-wrong-value")
    assert wrong.severity == "fail"
    assert "forwarded" in wrong.message and "wildcards" in wrong.fix
    (case,) = findings(report, "gate-direct-case-variant")
    assert case.severity == "fail"
    assert findings(report, "gate-direct-no-header")[0].severity == "pass"


def test_case_variant_probe_is_skipped_with_info_when_the_secret_is_unknown(
    start_deployment: StartGate, closed_port: int
) -> None:
    deployment = start_deployment(GateOptions())
    report = probe(deployment, [closed_port], secret=False)
    (case,) = findings(report, "gate-direct-case-variant")
    assert (case.severity, case.message) == ("info", "not probed: the secret value is not known to verify")
    assert findings(report, "secret-not-exposed")[0].severity == "info"
    assert findings(report, "gate-admits-secret") == []
    assert report.ok
    assert deployment.app.requests_seen == 0


def test_stopped_gate_fails_tls_and_reports_unanswered_probes(closed_port: int) -> None:
    report = verify_urls(
        f"https://127.0.0.1:{closed_port}/",
        None,
        header="X-Origin-Verify",
        ca_bundle=None,
        server_name="gate.originguard.test",
        secret=None,
        http_probe_ports=[],
        timeout=2.0,
    )
    assert not report.ok
    version = next(f for f in findings(report, "gate-tls") if f.field == "version")
    assert (version.severity, version.message) == ("fail", "no TLS handshake: connection refused")
    no_header = findings(report, "gate-direct-no-header")[0]
    assert no_header.severity == "warn" and "connection refused" in no_header.message
