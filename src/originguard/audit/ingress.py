"""Audit Kubernetes Ingress manifests for the AWS Load Balancer Controller, an IngressGroup at a time.

Every Ingress of a `group.name` adds rules and listen ports to one shared ALB, so the checks run on
the merged group. Annotation JSON is decoded with case-insensitive keys, as the controller's Go does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from originguard.audit.elbv2 import KNOWN_POLICIES, WEAK_TLS
from originguard.audit.facts import Facts, ForwardRule, HeaderCondition
from originguard.audit.headers import header_condition
from originguard.audit.network import audit_ingress_network
from originguard.audit.shape import JsonObject, Reader, casefold_keys

PREFIX: Final = "alb.ingress.kubernetes.io/"
DEFAULT_SSL_POLICY: Final = "ELBSecurityPolicy-2016-08"  # the controller's default: TLS 1.0-1.2


@dataclass(frozen=True, slots=True)
class Ingress:
    """One Ingress object and the label findings use for it."""

    label: str  # Ingress(namespace/name)
    annotations: dict[str, str]
    spec: JsonObject


def is_kubernetes(docs: list[Any]) -> bool:
    """True when every document is a Kubernetes object (apiVersion + kind)."""
    return bool(docs) and all(isinstance(d, dict) and "kind" in d and "apiVersion" in d for d in docs)


def audit_ingresses(reader: Reader, docs: list[Any]) -> Facts:
    """Checks 2-4 plus TLS and network on every IngressGroup of one file."""
    facts = Facts(kinds={"ingress"})
    groups: dict[str, list[Ingress]] = {}
    for ingress in _ingresses(reader, docs):
        group = ingress.annotations.get(f"{PREFIX}group.name")
        groups.setdefault(f"IngressGroup({group})" if group else ingress.label, []).append(ingress)
    if not groups:
        raise reader.error("", "no Ingress object found in this Kubernetes manifest")
    for name, members in groups.items():
        scope = f"{reader.file}#{name}"
        _listen_ports(facts, reader, name, members)
        _ssl_policy(facts, reader, name, members)
        audit_ingress_network(facts, reader.file, name, [m.annotations for m in members])
        _default_backend(facts, reader, name, members)
        for ingress in members:
            _rules(facts, reader, ingress, scope)
    return facts


def _ingresses(reader: Reader, docs: list[Any]) -> list[Ingress]:
    """Every Ingress, unwrapping `kind: List` documents."""
    found: list[Ingress] = []
    for d, doc in enumerate(docs):
        items = (doc.get("items") or []) if doc.get("kind") == "List" else [doc]
        for i, item in enumerate(items):
            item = reader.obj(item, f"documents[{d}].items[{i}]")
            if item.get("kind") != "Ingress":
                continue
            meta = reader.field_obj(item, "metadata", "")
            label = f"Ingress({meta.get('namespace') or 'default'}/{meta.get('name') or '?'})"
            raw = reader.field_obj(meta, "annotations", f"{label}.metadata")
            annotations = {str(k): str(v) for k, v in raw.items()}
            found.append(Ingress(label, annotations, reader.field_obj(item, "spec", label)))
    return found


def _where(ingress: Ingress, key: str) -> str:
    return f"{ingress.label}.metadata.annotations[{PREFIX}{key}]"


def _annotation_json(reader: Reader, ingress: Ingress, key: str) -> Any:
    """Decode an annotation's inline JSON with lower-cased keys; errors name position, not content."""
    try:
        return casefold_keys(json.loads(ingress.annotations[f"{PREFIX}{key}"]))
    except json.JSONDecodeError as exc:
        raise reader.error(
            _where(ingress, key), f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None


def _listen_ports(facts: Facts, reader: Reader, group: str, members: list[Ingress]) -> None:
    """Check 2: ports are merged over the group, so one Ingress opening HTTP opens it for all."""
    http: list[str] = []
    for ingress in members:
        if f"{PREFIX}listen-ports" in ingress.annotations:
            ports = _annotation_json(reader, ingress, "listen-ports")
            entries = ports if isinstance(ports, list) else []
            if any(isinstance(e, dict) and "http" in e for e in entries):
                http.append(_where(ingress, "listen-ports"))
        elif f"{PREFIX}certificate-arn" not in ingress.annotations and not ingress.spec.get("tls"):
            # Without listen-ports the controller opens HTTPS:443 only when it has a certificate.
            http.append(f"{_where(ingress, 'listen-ports')} (absent, so HTTP:80)")
    redirect = any(f"{PREFIX}ssl-redirect" in i.annotations for i in members)
    fix = "set listen-ports to '[{\"HTTPS\": 443}]' on every Ingress of the group (and drop ssl-redirect)"
    for where in http:
        # The architecture has no HTTP listener at the origin; ssl-redirect keeps port 80 listening.
        message = (
            f"{group} has an HTTP listener (ssl-redirect only): CloudFront never needs it, a request "
            "sent to it crosses the network in clear text before the redirect, and port 80 stays open"
            if redirect
            else f"{group} has an HTTP listener that forwards: the secret header and traffic travel "
            "in clear text"
        )
        facts.add("no-http-listener", "fail", reader.file, where, message, fix)
    if not http:
        facts.add(
            "no-http-listener",
            "pass",
            reader.file,
            f"{group}.listen-ports",
            "the group listens on HTTPS only",
        )


def _ssl_policy(facts: Facts, reader: Reader, group: str, members: list[Ingress]) -> None:
    fix = f"set {PREFIX}ssl-policy: ELBSecurityPolicy-TLS13-1-2-2021-06"
    policies = [
        (i, i.annotations[f"{PREFIX}ssl-policy"]) for i in members if f"{PREFIX}ssl-policy" in i.annotations
    ]
    if not policies:
        where = f"{group}.ssl-policy"
        facts.add(
            "tls-minimum",
            "warn",
            reader.file,
            where,
            f"no ssl-policy: the default {DEFAULT_SSL_POLICY} allows TLS 1.0",
            fix,
        )
    for ingress, policy in policies:
        protocols = KNOWN_POLICIES.get(policy)
        where = _where(ingress, "ssl-policy")
        if protocols is None:
            facts.add(
                "tls-minimum", "info", reader.file, where, f"protocols of {policy} unknown to the audit"
            )
        elif weak := sorted(WEAK_TLS & set(protocols)):
            facts.add("tls-minimum", "warn", reader.file, where, f"{policy} allows {', '.join(weak)}", fix)
        else:
            facts.add("tls-minimum", "pass", reader.file, where, f"{policy} allows {', '.join(protocols)}")


def _action(reader: Reader, ingress: Ingress, service: str) -> JsonObject | None:
    """`actions.<service>` decoded, or None when the Ingress does not define it."""
    if f"{PREFIX}actions.{service}" not in ingress.annotations:
        return None
    action = _annotation_json(reader, ingress, f"actions.{service}")
    return reader.obj(action, _where(ingress, f"actions.{service}"))


def _backend(backend: Any) -> tuple[str, bool]:
    """(service name, whether the port is `use-annotation`) of an Ingress backend."""
    service = backend.get("service") if isinstance(backend, dict) else None
    if not isinstance(service, dict):
        return "", False
    port = service.get("port")
    return str(service.get("name") or ""), isinstance(port, dict) and port.get("name") == "use-annotation"


def _default_backend(facts: Facts, reader: Reader, group: str, members: list[Ingress]) -> None:
    """Check 4: the listener default must be a fixed 403 (the controller's own default is 404)."""
    fix = "set spec.defaultBackend to an action `deny` (use-annotation) with a fixed-response 403"
    chosen = [(i, i.spec["defaultBackend"]) for i in members if i.spec.get("defaultBackend")]
    if not chosen:
        facts.add(
            "default-fixed-response",
            "warn",
            reader.file,
            f"{group}.defaultBackend",
            "no defaultBackend: the listener answers 404",
            fix,
        )
    for ingress, backend in chosen:
        where = f"{ingress.label}.spec.defaultBackend"
        service, annotated = _backend(backend)
        action = _action(reader, ingress, service) if annotated else None
        kind = str(action.get("type", "")) if action else "forward"
        if annotated and action is None:
            kind = f"missing action {service!r} (the controller rejects the Ingress)"
        if kind == "fixed-response" and action is not None:
            status = str(reader.field_obj(action, "fixedresponseconfig", where).get("statuscode", ""))
            facts.add(
                "default-fixed-response",
                "pass" if status == "403" else "warn",
                reader.file,
                where,
                f"the default answers a fixed {status}",
                fix,
            )
        elif kind == "forward":
            facts.add(
                "default-fixed-response",
                "fail",
                reader.file,
                where,
                "the default backend forwards: header-less requests reach it",
                fix,
            )
        else:
            facts.add(
                "default-fixed-response",
                "warn",
                reader.file,
                where,
                f"the default is a {kind}, not a fixed 403",
                fix,
            )


def _rules(facts: Facts, reader: Reader, ingress: Ingress, scope: str) -> None:
    """Check 3: every forwarding path's service needs `conditions.<service>` with the header."""
    services: set[str] = set()
    for i, rule in enumerate(reader.objects(ingress.spec, "rules", f"{ingress.label}.spec")):
        http = reader.field_obj(rule, "http", f"{ingress.label}.spec.rules[{i}]")
        for j, path in enumerate(reader.objects(http, "paths", f"{ingress.label}.spec.rules[{i}].http")):
            service, annotated = _backend(path.get("backend"))
            services.add(service)
            action = _action(reader, ingress, service) if annotated else None
            where = f"{ingress.label}.spec.rules[{i}].http.paths[{j}]({path.get('path', '/')})"
            if action is not None and action.get("type") != "forward":
                # Fixed responses and redirects never reach a target; under the header they are check 3's
                # false pass (nothing forwards to the app under the header).
                _header_action(facts, reader, ingress, service, action, where, scope)
                continue
            headers = _conditions(facts, reader, ingress, service, scope)
            facts.forward_rules.append(ForwardRule(reader.file, where, f"service {service}", headers))
    for key in ingress.annotations:
        name = key.removeprefix(f"{PREFIX}conditions.")
        if key.startswith(f"{PREFIX}conditions.") and name not in services:
            facts.add(
                "header-condition",
                "warn",
                reader.file,
                _where(ingress, f"conditions.{name}"),
                f"no backend of this Ingress is named {name}: the controller silently ignores it",
                "name the annotation conditions.<backend service.name>",
            )


def _header_action(
    facts: Facts,
    reader: Reader,
    ingress: Ingress,
    service: str,
    action: JsonObject,
    where: str,
    scope: str,
) -> None:
    """A header-conditioned path whose action redirects or answers 2xx/3xx itself."""
    kind = str(action.get("type", ""))
    config = action.get("fixedresponseconfig")
    status = str(config.get("statuscode", "")) if isinstance(config, dict) else ""
    if kind == "fixed-response" and status[:1] in ("4", "5"):
        return  # a deny path keyed on a header admits nothing
    headers = _conditions(facts, reader, ingress, service, scope)
    if not headers:
        return
    label = f"a fixed {status}" if kind == "fixed-response" else kind or "no action"
    facts.add(
        "header-condition",
        "fail",
        reader.file,
        where,
        f"the path on {headers[0].name} ends in {label} (actions.{service}), not forward: nothing "
        "reaches the app under the header, so the header proves nothing here",
        "point the header-conditioned path at the app's Service",
    )


def _conditions(
    facts: Facts, reader: Reader, ingress: Ingress, service: str, scope: str
) -> tuple[HeaderCondition, ...]:
    if f"{PREFIX}conditions.{service}" not in ingress.annotations:
        return ()
    where = _where(ingress, f"conditions.{service}")
    conditions = _annotation_json(reader, ingress, f"conditions.{service}")
    if not isinstance(conditions, list):
        raise reader.error(where, "expected a JSON list of conditions")
    found: list[HeaderCondition] = []
    for k, condition in enumerate(conditions):
        condition = reader.obj(condition, f"{where}[{k}]")
        if condition.get("field") != "http-header":
            continue
        config = reader.field_obj(condition, "httpheaderconfig", f"{where}[{k}]")
        name = reader.text(config, "httpheadername", f"{where}[{k}]")
        values = reader.strings(config, "values", f"{where}[{k}]")
        regexes = reader.strings(config, "regexvalues", f"{where}[{k}]")
        found.append(
            header_condition(
                facts, reader.file, f"{where}[{k}].httpHeaderConfig", name, values, regexes, scope
            )
        )
    return tuple(found)
