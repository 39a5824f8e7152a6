"""Audit CloudFront distributions: get-distribution-config, get-distribution, list-distributions."""

from __future__ import annotations

from typing import Final

from originguard.audit.cloudfront_origin import audit_origin
from originguard.audit.facts import Facts
from originguard.audit.shape import JsonObject, Reader, join

# Ascending strength; the reference asks for at least TLSv1.2_2021 towards viewers.
VIEWER_TLS_VERSIONS: Final = (
    "SSLv3",
    "TLSv1",
    "TLSv1_2016",
    "TLSv1.1_2016",
    "TLSv1.2_2018",
    "TLSv1.2_2019",
    "TLSv1.2_2021",
    "TLSv1.2_2025",
    "TLSv1.3_2025",
)
MIN_VIEWER_TLS: Final = "TLSv1.2_2021"


def is_cloudfront(doc: object) -> bool:
    """True for get-distribution-config / get-distribution output or a bare `--query` config."""
    if not isinstance(doc, dict):
        return False
    inner = doc.get("Distribution")
    return (
        "DistributionConfig" in doc
        or (isinstance(inner, dict) and "DistributionConfig" in inner)
        or is_distribution(doc)
    )


def is_distribution(doc: object) -> bool:
    """A DistributionConfig itself, or a list-distributions summary: origins and a default behaviour."""
    return isinstance(doc, dict) and "Origins" in doc and "DefaultCacheBehavior" in doc


def audit_cloudfront(reader: Reader, doc: JsonObject) -> Facts:
    """One distribution, from get-distribution-config, get-distribution or `--query DistributionConfig`."""
    if "DistributionConfig" in doc:
        config = reader.field_obj(doc, "DistributionConfig", "")
        return audit_distribution(reader, config, "DistributionConfig", reader.file)
    if "Distribution" in doc:
        dist = reader.field_obj(doc, "Distribution", "")
        config = reader.field_obj(dist, "DistributionConfig", "Distribution", required=True)
        scope = f"{reader.file}#{reader.text(dist, 'Id', 'Distribution') or 'distribution'}"
        return audit_distribution(reader, config, "Distribution.DistributionConfig", scope)
    return audit_distribution(reader, doc, "", reader.file)


def audit_distribution(reader: Reader, config: JsonObject, base: str, scope: str) -> Facts:
    """Checks 1 (origin protocol), origin headers, viewer protocol, TLS and WAF of one distribution.

    `config` is a DistributionConfig, a list-distributions summary (the same fields) or a
    CloudFormation `DistributionConfig` (plain lists, `OriginCustomHeaders`, `OriginSSLProtocols`).
    """
    facts = Facts(kinds={"cloudfront"})
    behaviors = _behaviors(reader, config, base)
    for where, policy, _ in behaviors:
        _viewer_protocol(facts, reader.file, where, policy)
    reached = _reached_origins(reader, config, base, behaviors)
    for path, origin in reader.entries(config, "Origins", base):
        origin_id = reader.text(origin, "Id", path)
        where = f"{path}({origin_id})"
        if origin_id not in reached:
            facts.add("origin-https-only", "info", reader.file, where, "no behaviour reaches this origin")
            continue
        audit_origin(facts, reader, origin, where, scope)
    _web_acl(facts, reader.file, reader.text(config, "WebACLId", base), join(base, "WebACLId"))
    _viewer_tls(
        facts,
        reader,
        reader.field_obj(config, "ViewerCertificate", base),
        join(base, "ViewerCertificate"),
    )
    return facts


def _behaviors(reader: Reader, config: JsonObject, base: str) -> list[tuple[str, str, str]]:
    """(key path, ViewerProtocolPolicy, TargetOriginId) of the default and every path behaviour."""
    default = reader.field_obj(config, "DefaultCacheBehavior", base, required=True)
    where = join(base, "DefaultCacheBehavior")
    found = [
        (
            where,
            reader.text(default, "ViewerProtocolPolicy", where),
            reader.text(default, "TargetOriginId", where),
        )
    ]
    for path, behavior in reader.entries(config, "CacheBehaviors", base):
        where = f"{path}({reader.text(behavior, 'PathPattern', path)})"
        found.append(
            (
                where,
                reader.text(behavior, "ViewerProtocolPolicy", where),
                reader.text(behavior, "TargetOriginId", where),
            )
        )
    return found


def _reached_origins(
    reader: Reader, config: JsonObject, base: str, behaviors: list[tuple[str, str, str]]
) -> dict[str, list[str]]:
    """Origin Id → viewer policies of the behaviours that reach it, resolving origin groups."""
    groups: dict[str, list[str]] = {}
    for where, group in reader.entries(config, "OriginGroups", base):
        members = reader.items(group, "Members", where)
        groups[reader.text(group, "Id", where)] = [reader.text(m, "OriginId", where) for m in members]
    reached: dict[str, list[str]] = {}
    for _, policy, target in behaviors:
        for origin_id in groups.get(target, [target]):
            reached.setdefault(origin_id, []).append(policy)
    return reached


def _viewer_protocol(facts: Facts, file: str, where: str, policy: str) -> None:
    field = f"{where}.ViewerProtocolPolicy"
    if policy in ("redirect-to-https", "https-only"):
        facts.add("viewer-protocol", "pass", file, field, f"viewers are held to HTTPS ({policy})")
    else:
        facts.add(
            "viewer-protocol",
            "fail",
            file,
            field,
            f"ViewerProtocolPolicy is {policy or 'missing'}: viewers may use plain HTTP",
            "set ViewerProtocolPolicy to redirect-to-https (or https-only)",
        )


def _web_acl(facts: Facts, file: str, acl: str, field: str) -> None:
    fix = "attach a WAFv2 web ACL created with --scope CLOUDFRONT in us-east-1"
    if acl.startswith("arn:aws:wafv2:") and ":global/webacl/" in acl:
        facts.add("waf-attached", "pass", file, field, "a WAFv2 web ACL is attached")
    elif acl.startswith("!"):
        facts.add(
            "waf-attached",
            "pass",
            file,
            field,
            f"a web ACL is attached by {acl} (confirm it is a CLOUDFRONT-scope WAFv2 ACL)",
        )
    elif not acl:
        facts.add("waf-attached", "warn", file, field, "no web ACL is attached to the distribution", fix)
    elif acl.startswith("arn:"):
        facts.add(
            "waf-attached", "warn", file, field, "WebACLId is not a global (CLOUDFRONT scope) WAFv2 ARN", fix
        )
    else:
        facts.add(
            "waf-attached",
            "warn",
            file,
            field,
            "WebACLId is a WAF Classic id (retired); migrate to WAFv2",
            fix,
        )


def _viewer_tls(facts: Facts, reader: Reader, cert: JsonObject, where: str) -> None:
    field = f"{where}.MinimumProtocolVersion"
    fix = f"use an ACM certificate with MinimumProtocolVersion {MIN_VIEWER_TLS} or later"
    if cert.get("CloudFrontDefaultCertificate") is True:
        facts.add(
            "tls-minimum", "warn", reader.file, where, "the default certificate forces TLSv1 for viewers", fix
        )
        return
    version = reader.text(cert, "MinimumProtocolVersion", where)
    if version not in VIEWER_TLS_VERSIONS:
        facts.add(
            "tls-minimum",
            "info",
            reader.file,
            field,
            f"unknown viewer TLS policy {version or '(unset)'}",
            fix,
        )
    elif VIEWER_TLS_VERSIONS.index(version) < VIEWER_TLS_VERSIONS.index(MIN_VIEWER_TLS):
        facts.add(
            "tls-minimum",
            "warn",
            reader.file,
            field,
            f"viewers may use {version}, below {MIN_VIEWER_TLS}",
            fix,
        )
    else:
        facts.add("tls-minimum", "pass", reader.file, field, f"viewer TLS minimum is {version}")
