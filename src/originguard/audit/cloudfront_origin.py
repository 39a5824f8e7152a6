"""One CloudFront origin: check 1 (HTTPS only), origin TLS, its port and the secret custom header.

Reads both the API/CLI spelling (`CustomHeaders {Quantity, Items}`, `OriginSslProtocols`) and
CloudFormation's (`OriginCustomHeaders`, `OriginSSLProtocols`, plain lists).
"""

from __future__ import annotations

from originguard.audit.facts import EdgeHeader, Facts, OriginPort, SecretSighting
from originguard.audit.secret_strength import ALB_MAX_VALUE_CHARS, assess_secret, sha256_hex
from originguard.audit.shape import JsonObject, Reader, intrinsic


def audit_origin(facts: Facts, reader: Reader, origin: JsonObject, where: str, scope: str) -> None:
    """One origin reached by at least one behaviour: its protocol, TLS, port and custom headers."""
    file = reader.file
    if "S3OriginConfig" in origin:
        facts.add(
            "origin-https-only", "info", file, where, "an S3 origin: protect it with origin access control"
        )
        return
    if "VpcOriginConfig" in origin:
        facts.add(
            "origin-https-only",
            "info",
            file,
            f"{where}.VpcOriginConfig",
            "a VPC origin (private ALB, the strongest setup); its protocol policy is in the VPC origin, "
            "not in this export",
        )
    else:
        custom = reader.field_obj(origin, "CustomOriginConfig", where, required=True)
        _origin_protocol(
            facts,
            file,
            f"{where}.CustomOriginConfig",
            reader.text(custom, "OriginProtocolPolicy", where),
        )
        _origin_tls(facts, reader, custom, f"{where}.CustomOriginConfig")
        port = reader.text(custom, "HTTPSPort", where, "443")
        if port.isdigit():
            facts.origin_ports.append(OriginPort(int(port), file, f"{where}.CustomOriginConfig.HTTPSPort"))
    # CloudFormation names the list OriginCustomHeaders; the API and CLI name it CustomHeaders.
    key = "OriginCustomHeaders" if "OriginCustomHeaders" in origin else "CustomHeaders"
    headers = reader.entries(origin, key, where)
    if not headers:
        facts.add(
            "origin-header",
            "fail",
            file,
            f"{where}.{key}",
            "the origin gets no custom header: nothing lets it tell CloudFront from a direct viewer",
            "add a CustomHeaders item (for example X-Origin-Verify) with a random 40-character value",
        )
    for path, header in headers:
        name = reader.text(header, "HeaderName", path)
        field = f"{path}({name}).HeaderValue"
        if (function := intrinsic(header.get("HeaderValue"))) is not None or _dynamic_reference(
            header.get("HeaderValue")
        ):
            # The template refers to the value (a NoEcho parameter, Secrets Manager): not in this file.
            facts.edge_headers.append(EdgeHeader(name, "", "", file, field, scope))
            facts.add(
                "origin-header",
                "info",
                file,
                field,
                f"the value comes from {function or 'a dynamic reference'}, not this file: "
                "its strength and its match with the load balancer are not checked",
            )
            continue
        value = reader.text(header, "HeaderValue", path)
        digest = sha256_hex(value)
        facts.edge_headers.append(EdgeHeader(name, digest, sha256_hex(value.lower()), file, field, scope))
        facts.sightings.append(
            SecretSighting(digest, assess_secret(value, name), len(value), name, file, field, "edge", scope)
        )
        if len(value) > ALB_MAX_VALUE_CHARS:
            facts.add(
                "origin-header",
                "warn",
                file,
                field,
                f"the value has {len(value)} characters; an ALB condition value holds at most 128",
                "use a 40-character random value (originguard secret new)",
            )


def _dynamic_reference(value: object) -> bool:
    """`{{resolve:secretsmanager:...}}` and friends: CloudFormation fills the value in at deploy time."""
    return isinstance(value, str) and value.startswith("{{resolve:") and value.endswith("}}")


def _origin_protocol(facts: Facts, file: str, where: str, policy: str) -> None:
    """Check 1: CloudFront reaches the origin over HTTPS only, whatever the viewer does."""
    field = f"{where}.OriginProtocolPolicy"
    fix = "set OriginProtocolPolicy to https-only"
    if policy == "https-only":
        facts.add("origin-https-only", "pass", file, field, "CloudFront reaches the origin over HTTPS only")
    elif policy == "http-only":
        facts.add(
            "origin-https-only", "fail", file, field, "http-only sends the secret header in clear text", fix
        )
    elif policy == "match-viewer":
        facts.add(
            "origin-https-only",
            "fail",
            file,
            field,
            "match-viewer: CloudFront uses HTTP to the origin for every HTTP viewer request it forwards, "
            "so the secret header travels in clear text as soon as one behaviour (now or after a later "
            "edit) lets HTTP through; only https-only keeps it encrypted whatever the viewer does",
            fix,
        )
    else:
        facts.add(
            "origin-https-only",
            "fail",
            file,
            field,
            f"OriginProtocolPolicy is {policy or 'missing'}, not https-only: "
            "the secret header may travel in clear text",
            fix,
        )


def _origin_tls(facts: Facts, reader: Reader, custom: JsonObject, where: str) -> None:
    if "OriginSSLProtocols" in custom:  # CloudFormation's spelling, a plain list
        field = f"{where}.OriginSSLProtocols"
        versions = reader.strings(custom, "OriginSSLProtocols", where)
    else:
        field = f"{where}.OriginSslProtocols"
        versions = reader.strings(reader.field_obj(custom, "OriginSslProtocols", where), "Items", field)
    if versions == ["TLSv1.2"]:
        facts.add("tls-minimum", "pass", reader.file, field, "CloudFront speaks only TLSv1.2 to the origin")
    else:
        facts.add(
            "tls-minimum",
            "warn",
            reader.file,
            field,
            f"origin TLS versions are {versions or 'unset'}, not exactly TLSv1.2",
            'set OriginSslProtocols to {"Quantity": 1, "Items": ["TLSv1.2"]}',
        )
