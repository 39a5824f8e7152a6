"""Checks that need several files at once: the CloudFront header against the ALB rules, reuse, ports."""

from __future__ import annotations

from collections import defaultdict

from originguard.audit.facts import Facts, ForwardRule, SecretSighting
from originguard.audit.secret_strength import short_fingerprint

LB_KINDS = frozenset({"elbv2", "ingress"})


def cross_check(facts: Facts) -> None:
    """Add the cross-file findings to `facts` (call once, after every file is read)."""
    edge_names = {h.name.lower() for h in facts.edge_headers}
    lb_names = {c.name.lower() for r in facts.forward_rules for c in r.headers}
    secret_names = _secret_header_names(edge_names, lb_names)
    for rule in facts.forward_rules:
        _header_rule(facts, rule, edge_names)
    _secret_match(facts)
    _strength(facts, [s for s in facts.sightings if s.header.lower() in secret_names or not secret_names])
    _reuse(facts)
    _origin_ports(facts)
    _coverage(facts)


def _secret_header_names(edge: set[str], lb: set[str]) -> set[str]:
    """Which header names carry the secret: the ones both sides use, else whatever one side has."""
    both = edge & lb
    return both or edge or lb


def _header_rule(facts: Facts, rule: ForwardRule, edge_names: set[str]) -> None:
    """Check 3: a forward rule without the secret header condition is a bypass at any priority."""
    matching = [c for c in rule.headers if not edge_names or c.name.lower() in edge_names]
    wanted = " or ".join(sorted(edge_names)) or "the secret header"
    fix = f"add an http-header condition on {wanted} with the exact secret value(s)"
    if any(c.folded for c in matching):
        facts.add(
            "header-condition",
            "pass",
            rule.resource,
            rule.field,
            f"forwards only with the {matching[0].name} condition",
        )
    elif matching:
        return  # only wildcard or wide-regex values: each already failed where it is written
    elif rule.headers:
        names = ", ".join(c.name for c in rule.headers)
        facts.add(
            "header-condition",
            "fail",
            rule.resource,
            rule.field,
            f"the rule ({rule.label}) checks {names}, not the CloudFront header {wanted}: a bypass",
            fix,
        )
    else:
        facts.add(
            "header-condition",
            "fail",
            rule.resource,
            rule.field,
            f"a forward rule ({rule.label}) without a header condition is a bypass: "
            "header-less requests skip the header rules and fall through to it",
            fix,
        )


def _secret_match(facts: Facts) -> None:
    """Rotation: a CloudFront value that no ALB condition admits means every request gets 403."""
    by_name: dict[str, list[tuple[ForwardRule, frozenset[str], bool]]] = defaultdict(list)
    for rule in facts.forward_rules:
        for condition in rule.headers:
            by_name[condition.name.lower()].append((rule, frozenset(condition.folded), condition.patterns))
    for header in facts.edge_headers:
        conditions = by_name.get(header.name.lower(), [])
        if not conditions or not header.digest:
            continue  # no condition on this header, or a value the input only refers to
        fingerprint = short_fingerprint(header.digest)
        if any(header.folded in values for _, values, _ in conditions):
            facts.add(
                "secret-match",
                "pass",
                header.resource,
                header.field,
                f"the value ({fingerprint}) is admitted by the load balancer",
            )
        elif not any(patterns for _, _, patterns in conditions):
            # With a wildcard or wide regex the value may well be admitted; that is reported there.
            facts.add(
                "secret-match",
                "fail",
                header.resource,
                header.field,
                f"the value ({fingerprint}) is in no load balancer condition: every request gets 403",
                "add the CloudFront value to the ALB condition before switching CloudFront (rotation order)",
            )
    edge_folded = {h.folded for h in facts.edge_headers if h.digest}
    edge_names = {h.name.lower() for h in facts.edge_headers if h.digest}
    for rule in facts.forward_rules:
        for condition in rule.headers:
            if (
                condition.name.lower() in edge_names
                and condition.folded
                and not edge_folded & set(condition.folded)
            ):
                facts.add(
                    "secret-match",
                    "fail",
                    rule.resource,
                    condition.field,
                    "no value of this condition is the CloudFront value: the rule never admits CloudFront",
                    "put the CloudFront HeaderValue among the condition's values",
                )


def _strength(facts: Facts, sightings: list[SecretSighting]) -> None:
    """One strength finding per distinct value, at its first sighting (CloudFront first)."""
    seen: set[str] = set()
    for sighting in sorted(sightings, key=lambda s: s.family != "edge"):
        if sighting.digest in seen:
            continue
        seen.add(sighting.digest)
        verdict = sighting.strength
        fingerprint = short_fingerprint(sighting.digest)
        facts.add(
            "secret-strength",
            verdict.severity,
            sighting.resource,
            sighting.field,
            f"{sighting.header} value {fingerprint}: {verdict.reason}",
            ""
            if verdict.severity == "pass"
            else "generate a new value: originguard secret new (40 chars of [a-z0-9])",
        )


def _reuse(facts: Facts) -> None:
    """The same value in two distributions (or Ingress groups): a leak in one opens the other."""
    scopes: dict[tuple[str, str], dict[str, SecretSighting]] = defaultdict(dict)
    for sighting in facts.sightings:
        if sighting.scope is not None:
            scopes[(sighting.family, sighting.digest)].setdefault(sighting.scope, sighting)
    for (_, digest), where in scopes.items():
        if len(where) < 2:
            continue
        places = sorted(where)
        for sighting in where.values():
            others = ", ".join(p for p in places if p != sighting.scope)
            facts.add(
                "secret-reuse",
                "fail",
                sighting.resource,
                sighting.field,
                f"the value {short_fingerprint(digest)} is also used by {others}",
                "give every environment its own secret value",
            )


def _origin_ports(facts: Facts) -> None:
    if not facts.lb_https_ports:
        return
    for origin in facts.origin_ports:
        if origin.port in facts.lb_https_ports:
            facts.add(
                "origin-port",
                "pass",
                origin.resource,
                origin.field,
                f"HTTPSPort {origin.port} is an ALB HTTPS listener",
            )
        else:
            ports = ", ".join(str(p) for p in sorted(facts.lb_https_ports))
            facts.add(
                "origin-port",
                "warn",
                origin.resource,
                origin.field,
                f"HTTPSPort {origin.port} is not an ALB HTTPS port ({ports})",
                "set HTTPSPort to the ALB HTTPS listener port",
            )


def _coverage(facts: Facts) -> None:
    """Say what could not be cross-checked because an input is missing."""
    if "cloudfront" in facts.kinds and not facts.kinds & LB_KINDS:
        facts.add(
            "coverage",
            "info",
            "(inputs)",
            "",
            "no load balancer export given: the header rules were not verified",
            "add describe-rules output or the Ingress manifests",
        )
    if facts.kinds & LB_KINDS and "cloudfront" not in facts.kinds:
        facts.add(
            "coverage",
            "info",
            "(inputs)",
            "",
            "no CloudFront export given: header name and value not matched to the edge",
            "add get-distribution-config output",
        )
