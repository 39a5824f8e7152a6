"""Judge what direct probes of the gate saw (pure): each observation becomes a Finding with a reason.

A direct request must get the fixed 403 whatever it carries except the exact secret; anything
that forwards (2xx, or a 5xx from a failed forward) is a bypass of the edge.
"""

from __future__ import annotations

import re
from typing import Final

from originguard.audit.report import Finding
from originguard.audit.verify_targets import (
    GateObservations,
    HttpExchange,
    LegacyTls,
    PortState,
    TlsHandshake,
    VerifyPlan,
)

FIX_DENY: Final = (
    "give the listener default_action: {fixed_response: {status: 403}} and forward only in a rule "
    "whose http_header condition is the secret reference"
)
FIX_EXACT: Final = "compare the header value with {secret: NAME} only: no wildcards, no case folding"
FIX_NO_HTTP: Final = "remove every protocol: http listener and anything else listening on that port"
FIX_TLS: Final = "serve TLS 1.2+ only (originguard's listeners do); check tls.certificate and the CA"
# A run of token characters this long could be a credential: withheld from the report.
_TOKEN_LIKE: Final = re.compile(rb"[A-Za-z0-9+/=_\-]{16,}")
_PREVIEW_BYTES: Final = 40


def judge_gate(plan: VerifyPlan, seen: GateObservations) -> list[Finding]:
    """Every gate finding for one HTTPS listener."""
    header = plan.header
    findings = [
        _denied("gate-direct-no-header", seen.no_header, f"without {header}", plan, FIX_DENY),
        _denied("gate-direct-wrong-value", seen.wrong_value, f"{header}: a random value", plan, FIX_EXACT),
        _case_variant(plan, seen),
        *(_port_closed(state) for state in seen.ports),
        _plain_http_on_https(plan, seen.plain_http),
    ]
    if seen.with_secret is not None:
        findings.append(_admits_secret(plan, seen.with_secret))
    findings += judge_tls("gate-tls", seen.tls_any, seen.tls, seen.legacy_tls, plan)
    return findings


def judge_tls(
    check: str, any_cert: TlsHandshake, verified: TlsHandshake, legacy: LegacyTls, plan: VerifyPlan
) -> list[Finding]:
    """Version ≥ TLS 1.2, TLS 1.1 refused, chain valid for the server name (gate-tls and edge-tls)."""
    resource = f"tls://{any_cert.address}"
    if any_cert.version is None:
        version = Finding(check, "fail", resource, "version", f"no TLS handshake: {any_cert.error}", FIX_TLS)
    elif any_cert.version in ("TLSv1.2", "TLSv1.3"):
        version = Finding(check, "pass", resource, "version", f"negotiated {any_cert.version}")
    else:
        version = Finding(check, "fail", resource, "version", f"negotiated {any_cert.version}", FIX_TLS)
    legacy_finding = {
        "refused": Finding(check, "pass", resource, "TLS 1.1 attempt", f"refused ({legacy.detail})"),
        "accepted": Finding(check, "fail", resource, "TLS 1.1 attempt", legacy.detail, FIX_TLS),
        "untestable": Finding(check, "info", resource, "TLS 1.1 attempt", legacy.detail),
        "unreachable": Finding(check, "warn", resource, "TLS 1.1 attempt", legacy.detail),
    }[legacy.outcome]
    against = str(plan.ca_bundle) if plan.ca_bundle else "the system CA store"
    if verified.verified:
        message = f"chain valid for {verified.server_name} against {against}"
        cert = Finding(check, "pass", resource, "certificate", message)
    else:
        message = f"not valid for {verified.server_name} against {against}: {verified.error}"
        cert = Finding(check, "fail", resource, "certificate", message, FIX_TLS)
    return [version, legacy_finding, cert]


def body_preview(exchange: HttpExchange, plan: VerifyPlan) -> str:
    """The body's first bytes for a report, or a note that they are withheld (never a secret)."""
    head = exchange.body[:_PREVIEW_BYTES]
    if not head:
        return "empty body"
    lowered = exchange.body.lower()
    known = [plan.wrong_value] + ([plan.secret.reveal()] if plan.secret is not None else [])
    if any(value.lower() in lowered for value in known) or _TOKEN_LIKE.search(exchange.body):
        return "body withheld: it holds something secret-like"
    if not all(0x20 <= byte < 0x7F or byte in b"\r\n\t" for byte in head):
        return f"{len(exchange.body)} bytes of binary body"
    more = "..." if len(exchange.body) > _PREVIEW_BYTES else ""
    return f'body "{head.decode("ascii").strip()}{more}"'


def screened(text: str, plan: VerifyPlan) -> str:
    """A value taken from a response (a Location), withheld when it holds something secret-like."""
    data = text.encode("latin-1", "replace")
    known = [plan.wrong_value] + ([plan.secret.reveal()] if plan.secret is not None else [])
    if any(value.lower() in data.lower() for value in known) or _TOKEN_LIKE.search(data):
        return "(withheld: secret-like)"
    return text


def _denied(check: str, exchange: HttpExchange, field: str, plan: VerifyPlan, fix: str) -> Finding:
    status = exchange.status
    if status == 403:
        message = f"403 as expected ({body_preview(exchange, plan)})"
        return Finding(check, "pass", exchange.url, field, message)
    if status is None:
        message = f"no HTTP answer ({exchange.error}): nothing was forwarded, but not the fixed 403"
        return Finding(check, "warn", exchange.url, field, message, "check that the gate is running")
    if 200 <= status < 300:
        message = f"{status}: the gate forwarded a direct request, so viewers can bypass the edge"
        return Finding(check, "fail", exchange.url, field, message, fix)
    if status >= 500:
        message = f"{status}: the gate tried to forward a direct request (the target failed)"
        return Finding(check, "fail", exchange.url, field, message, fix)
    message = f"{status} instead of the fixed 403 ({body_preview(exchange, plan)})"
    return Finding(check, "warn", exchange.url, field, message, fix)


def _case_variant(plan: VerifyPlan, seen: GateObservations) -> Finding:
    check, field = "gate-direct-case-variant", f"{plan.header}: the secret upper-cased"
    url = seen.no_header.url
    if plan.secret is None:
        message = "not probed: the secret value is not known to verify"
        return Finding(check, "info", url, field, message, "give verify the secret (config or --secret)")
    exchange = seen.case_variant
    if exchange is None:
        return Finding(check, "info", url, field, "not probed: the secret has no letters to change case")
    if exchange.status is None and (exchange.error or "").startswith("tls:"):
        message = f"not sent: the gate's certificate did not verify ({exchange.error})"
        return Finding(check, "warn", url, field, message, FIX_TLS)
    finding = _denied(check, exchange, field, plan, FIX_EXACT)
    admitted = seen.with_secret.status if seen.with_secret is not None else None
    if finding.severity == "pass" and not (admitted is not None and 200 <= admitted < 300):
        message = f"403, but the exact value got {admitted or 'no answer'} too: this proves nothing"
        return Finding(check, "warn", url, field, message, "make the gate admit the current secret")
    return finding


def _admits_secret(plan: VerifyPlan, exchange: HttpExchange) -> Finding:
    check, field = "gate-admits-secret", f"{plan.header}: the current secret"
    if exchange.status is not None and 200 <= exchange.status < 300:
        return Finding(
            check, "pass", exchange.url, field, f"{exchange.status}: the edge's request is admitted"
        )
    got = exchange.status if exchange.status is not None else exchange.error
    message = f"{got}: a request signed as the edge signs it is not admitted, so edges get errors"
    fix = "put the current secret among the gate rule's accepted values (rotation out of step?)"
    return Finding(check, "warn", exchange.url, field, message, fix)


def _port_closed(state: PortState) -> Finding:
    check, resource = "gate-http-port-closed", f"tcp://{state.address}"
    if state.outcome in ("refused", "reset", "filtered"):
        return Finding(check, "pass", resource, "", f"closed: {state.detail}")
    if state.outcome == "open":
        message = "open: a plain-HTTP port on the gate lets the secret travel (or be skipped) in clear text"
        return Finding(check, "fail", resource, "", message, FIX_NO_HTTP)
    return Finding(check, "info", resource, "", f"could not tell: {state.detail}")


def _plain_http_on_https(plan: VerifyPlan, exchange: HttpExchange) -> Finding:
    check, field = "gate-http-port-closed", "plain HTTP sent to the HTTPS port"
    if exchange.status is not None and 200 <= exchange.status < 300:
        message = f"{exchange.status}: the HTTPS port also serves plain HTTP"
        return Finding(check, "fail", exchange.url, field, message, FIX_NO_HTTP)
    got = f"{exchange.status}" if exchange.status is not None else f"no HTTP answer ({exchange.error})"
    return Finding(check, "pass", exchange.url, field, f"refused: {got}")
