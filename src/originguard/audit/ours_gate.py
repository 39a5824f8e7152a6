"""`check` on our gate: no plain-HTTP listener, the secret header on every forward rule, a 403 default."""

from __future__ import annotations

from originguard.audit.facts import Facts
from originguard.config.gate import Action, GateConfig, Listener, ListenerRule
from originguard.config.values import SecretRef

FIX_403 = "set default_action: {fixed_response: {status: 403}}"


def check_gate(
    facts: Facts, source: str, gate: GateConfig, origin_headers: set[tuple[str, str]] | None
) -> None:
    """Checks 2-4 on every listener, and health checks on every target group."""
    for li, listener in enumerate(gate.listeners):
        where = f"gate.listeners[{li}]({listener.port})"
        _listener_protocol(facts, source, where, listener)
        _default_action(facts, source, f"{where}.default_action", listener.default_action)
        for ri, rule in enumerate(listener.rules):
            if rule.actions[0].forward is not None:
                _rule_header(
                    facts, source, f"{where}.rules[{ri}](priority {rule.priority})", rule, origin_headers
                )
    for name, group in gate.target_groups.items():
        where = f"gate.target_groups.{name}.health_check"
        if group.health_check is None:
            facts.add(
                "health-check",
                "warn",
                source,
                where,
                "no health check: failed targets keep getting requests",
                "add health_check: {path: /healthz}",
            )
        else:
            facts.add("health-check", "pass", source, where, f"health checked on {group.health_check.path}")


def _listener_protocol(facts: Facts, source: str, where: str, listener: Listener) -> None:
    field = f"{where}.protocol"
    if listener.protocol == "https":
        facts.add("no-http-listener", "pass", source, field, "an HTTPS listener")
        if listener.tls is None:
            facts.add(
                "tls-minimum",
                "warn",
                source,
                f"{where}.tls",
                "an HTTPS listener without certificate and key",
                "add tls: {certificate, key}",
            )
        return
    redirect = listener.default_action.redirect
    forwards = any(r.actions[0].forward is not None for r in listener.rules)
    fix = "remove the http listener: the edge reaches the gate over HTTPS only"
    if redirect is not None and redirect.protocol.lower() == "https" and not forwards:
        facts.add(
            "no-http-listener", "warn", source, field, "an HTTP listener that only redirects to HTTPS", fix
        )
    else:
        facts.add(
            "no-http-listener",
            "fail",
            source,
            field,
            "a plain-HTTP listener: the secret header travels in clear text",
            fix,
        )


def _default_action(facts: Facts, source: str, where: str, action: Action) -> None:
    if action.forward is not None:
        facts.add(
            "default-fixed-response",
            "fail",
            source,
            where,
            "the default action forwards: requests without the header reach targets",
            FIX_403,
        )
    elif action.fixed_response is None:
        facts.add(
            "default-fixed-response",
            "warn",
            source,
            where,
            "the default action redirects instead of answering 403",
            FIX_403,
        )
    elif action.fixed_response.status == 403:
        facts.add("default-fixed-response", "pass", source, where, "the default action is a fixed 403")
    else:
        status = action.fixed_response.status
        facts.add(
            "default-fixed-response",
            "warn",
            source,
            where,
            f"the default action answers {status}, not 403",
            FIX_403,
        )


def _rule_header(
    facts: Facts, source: str, where: str, rule: ListenerRule, origin_headers: set[tuple[str, str]] | None
) -> None:
    """Check 3: the rule needs an http_header condition made only of secret references the edge sends."""
    fix = "add conditions: [{http_header: {name: X-Origin-Verify, values: [{secret: origin-verify}]}}]"
    headers = [(ci, c.http_header) for ci, c in enumerate(rule.conditions) if c.http_header is not None]
    for ci, header in headers:
        field = f"{where}.conditions[{ci}].http_header"
        if not all(isinstance(v, SecretRef) for v in header.values):
            facts.add(
                "header-condition",
                "fail",
                source,
                field,
                f"a {header.name} value is written in the config, not a secret reference",
                "use values: [{secret: NAME}]",
            )
            return  # the clear-text value is the finding; a bypass message would repeat it
        refs = {v.secret for v in header.values if isinstance(v, SecretRef)}
        if len(header.values) > 2:
            facts.add(
                "header-condition",
                "warn",
                source,
                field,
                f"{len(header.values)} values; 2 are enough for a rotation",
                "remove retired values",
            )
        sent = {s for n, s in origin_headers or set() if n == header.name.lower()}
        if origin_headers is not None and not sent:
            continue  # not the header the edge sends; keep looking
        if origin_headers is not None and not refs & sent:
            facts.add(
                "secret-match",
                "fail",
                source,
                field,
                f"{header.name} references {sorted(refs)}, the edge sends {sorted(sent)}",
                "reference the secret the origin's custom_headers use",
            )
        facts.add("header-condition", "pass", source, field, f"forwards only with the secret {header.name}")
        return
    facts.add(
        "header-condition",
        "fail",
        source,
        where,
        "a forward rule without the secret header condition is a bypass at any priority",
        fix,
    )
