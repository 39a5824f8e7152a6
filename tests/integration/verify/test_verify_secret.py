"""The secret in `verify`: an echo of it is caught, no report shows it, no unverified peer receives it."""

from __future__ import annotations

from originguard.audit.report import Report
from originguard.audit.verify import verify_urls
from originguard.secrets import Secret
from tests.integration.verify.conftest import Deployment, GateOptions, StartGate


def probe(deployment: Deployment, closed_port: int, server_name: str = "gate.originguard.test") -> Report:
    return verify_urls(
        f"https://127.0.0.1:{deployment.https.port}/",
        None,
        header="X-Origin-Verify",
        ca_bundle=deployment.ca,
        server_name=server_name,
        secret=deployment.secret.encode(),
        http_probe_ports=[closed_port],
        timeout=3.0,
    )


def assert_secret_not_shown(report: Report, secret: str) -> None:
    for text in (report.render_table(), report.to_json(), repr(report)):
        assert secret.lower() not in text.lower()
        assert secret.upper() not in text


def test_app_echoing_an_unstripped_secret_fails_secret_not_exposed(
    start_deployment: StartGate, closed_port: int
) -> None:
    deployment = start_deployment(GateOptions(strip_matched_secret=False))
    report = probe(deployment, closed_port)
    failed = [f for f in report.findings if f.check == "secret-not-exposed"]
    assert [f.severity for f in failed] == ["fail"]
    assert failed[0].field == "response body"
    fingerprint = Secret(deployment.secret.encode()).fingerprint()
    assert failed[0].message == (
        f"the secret (sha256 {fingerprint}...) appears in the response body of "
        "a request signed as the edge signs it"
    )
    assert "strip_matched_secret: true" in failed[0].fix
    assert not report.ok
    seen = deployment.app.last_headers
    assert any(n.lower() == b"x-origin-verify" for n, _ in seen), "the app really got the header"
    assert_secret_not_shown(report, deployment.secret)


def test_report_of_a_secure_gate_never_shows_the_secret(
    start_deployment: StartGate, closed_port: int
) -> None:
    deployment = start_deployment(GateOptions())
    report = probe(deployment, closed_port)
    assert report.ok
    assert_secret_not_shown(report, deployment.secret)


def test_secret_is_never_sent_to_a_gate_whose_certificate_does_not_verify(
    start_deployment: StartGate, closed_port: int
) -> None:
    deployment = start_deployment(GateOptions())
    report = probe(deployment, closed_port, server_name="impostor.originguard.test")
    by_check = {f.check: f for f in report.findings if f.field != "version"}
    admitted = by_check["gate-admits-secret"]
    assert admitted.severity == "warn" and "certificate not valid for impostor" in admitted.message
    case = by_check["gate-direct-case-variant"]
    assert case.severity == "warn" and case.message.startswith("not sent: the gate's certificate")
    cert = next(f for f in report.findings if f.check == "gate-tls" and f.field == "certificate")
    assert cert.severity == "fail" and "impostor.originguard.test" in cert.message
    assert deployment.app.requests_seen == 0
    assert_secret_not_shown(report, deployment.secret)
