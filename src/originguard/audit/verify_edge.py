"""Judge what probes through the edges saw, and whether any response exposed the secret (pure)."""

from __future__ import annotations

from typing import Final

from originguard.audit.report import Finding
from originguard.audit.verify_gate import body_preview, judge_tls, screened
from originguard.audit.verify_targets import EdgeObservations, HttpExchange, Observations, VerifyPlan

FIX_REACH: Final = (
    "check that the edge's origin address, CA bundle and server name point at the gate, and that the "
    "edge sends the header the gate rule expects with the gate's current secret"
)
FIX_REDIRECT: Final = "set distribution.viewer_protocol_policy: redirect-to-https"
FIX_SECRET: Final = (
    "strip the secret header before the target (gate strip_matched_secret: true) and never echo "
    "request headers in responses; then rotate the secret: it has been seen"
)
_REDIRECTS: Final = (301, 302, 303, 307, 308)


def judge_edge(plan: VerifyPlan, seen: EdgeObservations) -> list[Finding]:
    """edge-reaches-origin, edge-http-redirect and edge-tls for one edge."""
    findings = [_reaches_origin(plan, seen), _http_redirect(plan, seen)]
    if seen.tls_any is not None and seen.tls is not None and seen.legacy_tls is not None:
        findings += judge_tls("edge-tls", seen.tls_any, seen.tls, seen.legacy_tls, plan)
    return findings


def judge_secret_exposure(plan: VerifyPlan, observations: Observations) -> list[Finding]:
    """`secret-not-exposed`: the current value in no header or body of any response seen."""
    check = "secret-not-exposed"
    if plan.secret is None:
        message = "not probed: the secret value is not known to verify"
        return [
            Finding(check, "info", "responses", "", message, "give verify the secret (config or --secret)")
        ]
    # Case-insensitive, because an echo of the upper-cased probe value gives the value away too.
    secret = plan.secret.reveal().lower()
    fingerprint = plan.secret.fingerprint()
    exchanges = _labelled_exchanges(observations)
    findings = []
    for label, exchange in exchanges:
        head = exchange.raw.partition(b"\r\n\r\n")[0].lower()
        for where, data in (("response headers", head), ("response body", exchange.body.lower())):
            if secret in data:
                message = f"the secret (sha256 {fingerprint}...) appears in the {where} of {label}"
                findings.append(Finding(check, "fail", exchange.url, where, message, FIX_SECRET))
    if not findings:
        message = f"the secret (sha256 {fingerprint}...) appears in none of {len(exchanges)} responses"
        findings.append(Finding(check, "pass", "responses", "", message))
    return findings


def _reaches_origin(plan: VerifyPlan, seen: EdgeObservations) -> Finding:
    check, edge = "edge-reaches-origin", seen.target
    exchange = seen.via_https
    if exchange is None:
        resource = f"http://{edge.http}" if edge.http else edge.name
        return Finding(check, "info", resource, "", "not probed: no HTTPS address for this edge")
    status = exchange.status
    if status is not None and 200 <= status < 300:
        return Finding(check, "pass", exchange.url, "", f"{status} through the edge")
    if status is None:
        message = f"no HTTP answer through the edge: {exchange.error}"
    elif status in _REDIRECTS:
        location = screened(_header(exchange, b"location") or "no Location", plan)
        message = f"{status} redirect to {location}: a viewer over HTTPS must get the page itself"
    elif status == 403:
        message = f"403 through the edge ({body_preview(exchange, plan)}): the gate refused the edge's "
        message += "secret header, or the WAF blocked the probe"
    elif status in (502, 503, 504):
        message = f"{status}: the edge could not get a response from the origin"
    else:
        message = f"{status} through the edge ({body_preview(exchange, plan)})"
    return Finding(check, "fail", exchange.url, "", message, FIX_REACH)


def _http_redirect(plan: VerifyPlan, seen: EdgeObservations) -> Finding:
    """The edge's plain-HTTP port answers as the viewer protocol policy says (CloudFront semantics)."""
    check, edge, exchange = "edge-http-redirect", seen.target, seen.via_http
    policy = edge.viewer_policy
    if exchange is None:
        return Finding(
            check, "info", f"https://{edge.https}", "", "not probed: no HTTP address for this edge"
        )
    status, raw_location = exchange.status, _header(exchange, b"location") or ""
    to_https = status in _REDIRECTS and raw_location.lower().startswith("https://")
    location = screened(raw_location, plan)
    got = f"{status}" if status is not None else f"no HTTP answer ({exchange.error})"
    field = f"viewer policy {policy}" if policy else "viewer policy not known"
    if policy == "allow-all":
        ok = status is not None and (200 <= status < 300 or to_https)
        return Finding(check, "pass" if ok else "warn", exchange.url, field, f"{got} over plain HTTP")
    if policy == "https-only":
        served = status is not None and 200 <= status < 300
        message = f"{got} over plain HTTP"
        if served:
            return Finding(check, "fail", exchange.url, field, message, "serve nothing over plain HTTP")
        return Finding(check, "pass", exchange.url, field, message)
    if to_https:
        return Finding(check, "pass", exchange.url, field, f"{status} to {location}")
    if policy is None and status is not None and 200 <= status < 300:
        message = f"{status}: plain HTTP is served (fine only under viewer policy allow-all)"
        return Finding(check, "warn", exchange.url, field, message, FIX_REDIRECT)
    message = f"{got}: expected a redirect to https://" + (f" (Location {location})" if location else "")
    return Finding(check, "fail", exchange.url, field, message, FIX_REDIRECT)


def _labelled_exchanges(observations: Observations) -> list[tuple[str, HttpExchange]]:
    out: list[tuple[str, HttpExchange]] = []
    for gate in observations.gates:
        out += [
            ("a direct request without the header", gate.no_header),
            ("a direct request with a wrong value", gate.wrong_value),
            ("plain HTTP to the HTTPS port", gate.plain_http),
        ]
        if gate.case_variant is not None:
            out.append(("a direct request with the upper-cased value", gate.case_variant))
        if gate.with_secret is not None:
            out.append(("a request signed as the edge signs it", gate.with_secret))
    for edge in observations.edges:
        if edge.via_https is not None:
            out.append((f"a request through edge {edge.target.name}", edge.via_https))
        if edge.via_http is not None:
            out.append((f"a plain-HTTP request to edge {edge.target.name}", edge.via_http))
    return out


def _header(exchange: HttpExchange, lower_name: bytes) -> str | None:
    value = next((v for n, v in exchange.headers if n.lower() == lower_name), None)
    return value.decode("latin-1") if value is not None else None
