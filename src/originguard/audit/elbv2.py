"""Audit ELBv2 exports: describe-listeners, describe-rules, describe-ssl-policies, security groups.

Listeners and rules often come in separate files, so each file is first read into `ElbParts` and
the checks run once over all parts (rules are tied to listeners by ARN when the ARNs are present).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from originguard.audit.facts import Facts, ForwardRule, HeaderCondition
from originguard.audit.headers import header_condition
from originguard.audit.network import audit_security_groups
from originguard.audit.shape import JsonObject, Reader

ELBV2_KEYS: Final = frozenset({"Listeners", "Rules", "SslPolicies", "SecurityGroups"})
WEAK_TLS: Final = frozenset({"SSLv3", "TLSv1", "TLSv1.1"})

# Protocols of common predefined policies, for exports without describe-ssl-policies.
KNOWN_POLICIES: Final[dict[str, tuple[str, ...]]] = {
    "ELBSecurityPolicy-2016-08": ("TLSv1", "TLSv1.1", "TLSv1.2"),
    "ELBSecurityPolicy-2015-05": ("TLSv1", "TLSv1.1", "TLSv1.2"),
    "ELBSecurityPolicy-TLS-1-0-2015-04": ("TLSv1", "TLSv1.1", "TLSv1.2"),
    "ELBSecurityPolicy-TLS-1-1-2017-01": ("TLSv1.1", "TLSv1.2"),
    "ELBSecurityPolicy-TLS-1-2-2017-01": ("TLSv1.2",),
    "ELBSecurityPolicy-TLS-1-2-Ext-2018-06": ("TLSv1.2",),
    "ELBSecurityPolicy-FS-1-2-Res-2020-10": ("TLSv1.2",),
    "ELBSecurityPolicy-TLS13-1-2-2021-06": ("TLSv1.2", "TLSv1.3"),
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06": ("TLSv1.2", "TLSv1.3"),
    "ELBSecurityPolicy-TLS13-1-3-2021-06": ("TLSv1.3",),
}


@dataclass(frozen=True, slots=True)
class Located:
    """One object of an export and where it is: file and key path."""

    file: str
    path: str
    obj: JsonObject


@dataclass
class ElbParts:
    """The ELBv2 pieces found in one or more files."""

    listeners: list[Located] = field(default_factory=list)
    rules: list[Located] = field(default_factory=list)
    ssl_policies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    security_groups: list[Located] = field(default_factory=list)


def is_elbv2(doc: object) -> bool:
    """True when the object holds any ELBv2 (or security group) key."""
    return isinstance(doc, dict) and bool(ELBV2_KEYS & doc.keys())


def collect_elbv2(reader: Reader, doc: JsonObject, parts: ElbParts) -> None:
    """Add the pieces of one file to `parts`."""
    parts.listeners += [
        Located(reader.file, f"Listeners[{i}]", o) for i, o in enumerate(reader.objects(doc, "Listeners", ""))
    ]
    parts.rules += [
        Located(reader.file, f"Rules[{i}]", o) for i, o in enumerate(reader.objects(doc, "Rules", ""))
    ]
    for i, policy in enumerate(reader.objects(doc, "SslPolicies", "")):
        where = f"SslPolicies[{i}]"
        parts.ssl_policies[reader.text(policy, "Name", where)] = tuple(
            reader.strings(policy, "SslProtocols", where)
        )
    groups = reader.objects(doc, "SecurityGroups", "")
    parts.security_groups += [Located(reader.file, f"SecurityGroups[{i}]", o) for i, o in enumerate(groups)]


def audit_elbv2(parts: ElbParts) -> Facts:
    """Checks 2 (no HTTP listener), 3 (header conditions), 4 (default 403), TLS and network."""
    facts = Facts(kinds={"elbv2"})
    rules_by_listener = _rules_by_listener(parts)
    for listener in parts.listeners:
        _listener(facts, parts, listener, rules_by_listener.get(_arn(listener), []))
    for rule in parts.rules:
        _rule(facts, rule)
    if not parts.listeners:
        defaults = [r for r in parts.rules if _is_default(r)]
        for rule in defaults:
            actions = Reader(rule.file).objects(rule.obj, "Actions", rule.path)
            _default_action(facts, rule.file, f"{rule.path}.Actions", actions)
        if parts.rules:
            facts.add(
                "no-http-listener",
                "info",
                parts.rules[0].file,
                "",
                "no describe-listeners output given: HTTP listeners cannot be seen",
                "add `aws elbv2 describe-listeners` output to the audit",
            )
    for group in parts.security_groups:
        audit_security_groups(facts, Reader(group.file), group.obj, group.path)
    return facts


def _arn(item: Located) -> str:
    return str(item.obj.get("ListenerArn") or "")


def _rules_by_listener(parts: ElbParts) -> dict[str, list[Located]]:
    """Listener ARN → its rules, from `…:listener-rule/app/LB/ID/LISTENER/RULE` rule ARNs."""
    found: dict[str, list[Located]] = {}
    for listener in parts.listeners:
        arn = _arn(listener)
        if not arn:
            continue
        prefix = arn.replace(":listener/", ":listener-rule/", 1) + "/"
        found[arn] = [r for r in parts.rules if str(r.obj.get("RuleArn") or "").startswith(prefix)]
    return found


def _is_default(rule: Located) -> bool:
    return rule.obj.get("IsDefault") is True or str(rule.obj.get("Priority")) == "default"


def _terminal(reader: Reader, actions: list[JsonObject], path: str) -> JsonObject:
    """The action that ends the rule (authenticate actions run first, ordered by `Order`)."""
    if not actions:
        raise reader.error(path, "a rule or listener has no actions")
    ordered = sorted(enumerate(actions), key=lambda pair: (_order(reader, pair[1], path), pair[0]))
    return ordered[-1][1]


def _listener(facts: Facts, parts: ElbParts, listener: Located, rules: list[Located]) -> None:
    reader, obj, path = Reader(listener.file), listener.obj, listener.path
    protocol = reader.text(obj, "Protocol", path)
    port = reader.text(obj, "Port", path)
    where = f"{path}(port {port})"
    actions = reader.objects(obj, "DefaultActions", path)
    if protocol == "HTTP":
        _http_listener(facts, reader, where, actions, rules)
    elif protocol == "HTTPS":
        facts.add("no-http-listener", "pass", listener.file, f"{where}.Protocol", "an HTTPS listener")
        if port.isdigit():
            facts.lb_https_ports.add(int(port))
        _default_action(facts, listener.file, f"{where}.DefaultActions", actions)
        _ssl_policy(facts, parts, listener.file, f"{where}.SslPolicy", reader.text(obj, "SslPolicy", path))
    else:
        facts.add("no-http-listener", "info", listener.file, f"{where}.Protocol", f"a {protocol} listener")


def _http_listener(
    facts: Facts, reader: Reader, where: str, actions: list[JsonObject], rules: list[Located]
) -> None:
    terminal = _terminal(reader, actions, f"{where}.DefaultActions")
    redirect = reader.field_obj(terminal, "RedirectConfig", where)
    forwarding_rules = [r for r in rules if not _is_default(r) and _rule_forwards(r)]
    fix = "delete the HTTP listener (CloudFront reaches the origin over HTTPS only)"
    if terminal.get("Type") == "redirect" and redirect.get("Protocol") == "HTTPS" and not forwarding_rules:
        facts.add(
            "no-http-listener",
            "warn",
            reader.file,
            f"{where}.Protocol",
            "an HTTP listener that only redirects to HTTPS",
            fix,
        )
    else:
        facts.add(
            "no-http-listener",
            "fail",
            reader.file,
            f"{where}.Protocol",
            "an HTTP listener that can forward: the secret header and traffic travel in clear text",
            fix,
        )


def _rule_forwards(rule: Located) -> bool:
    reader = Reader(rule.file)
    actions = reader.objects(rule.obj, "Actions", rule.path)
    return bool(actions) and _terminal(reader, actions, rule.path).get("Type") == "forward"


def _rule(facts: Facts, rule: Located) -> None:
    """A non-default rule that forwards must carry the secret header condition (checked cross-file)."""
    if _is_default(rule) or not _rule_forwards(rule):
        return
    reader = Reader(rule.file)
    priority = reader.text(rule.obj, "Priority", rule.path)
    where = f"{rule.path}(priority {priority})"
    headers: list[HeaderCondition] = []
    for j, condition in enumerate(reader.objects(rule.obj, "Conditions", rule.path)):
        if condition.get("Field") != "http-header":
            continue
        field = f"{where}.Conditions[{j}].HttpHeaderConfig"
        config = reader.field_obj(condition, "HttpHeaderConfig", f"{where}.Conditions[{j}]", required=True)
        name = reader.text(config, "HttpHeaderName", field)
        values = reader.strings(config, "Values", field)
        regexes = reader.strings(config, "RegexValues", field) + reader.strings(
            condition, "RegexValues", field
        )
        headers.append(header_condition(facts, rule.file, field, name, values, regexes, None))
    facts.forward_rules.append(ForwardRule(rule.file, where, f"priority {priority}", tuple(headers)))


def _default_action(facts: Facts, file: str, where: str, actions: list[JsonObject]) -> None:
    """Check 4: the listener's default must be a fixed response, ideally 403."""
    reader = Reader(file)
    terminal = _terminal(reader, actions, where)
    kind = reader.text(terminal, "Type", where)
    fix = 'set the default action to {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "403"}}'
    if kind == "forward":
        facts.add(
            "default-fixed-response",
            "fail",
            file,
            where,
            "the default action forwards: requests without the header reach the origin",
            fix,
        )
        return
    if kind != "fixed-response":
        facts.add(
            "default-fixed-response",
            "warn",
            file,
            where,
            f"the default action is {kind}, not a fixed response",
            fix,
        )
        return
    status = reader.text(reader.field_obj(terminal, "FixedResponseConfig", where), "StatusCode", where)
    if status == "403":
        facts.add("default-fixed-response", "pass", file, where, "the default action is a fixed 403")
    else:
        facts.add(
            "default-fixed-response",
            "warn",
            file,
            where,
            f"the default action answers {status}, not 403",
            fix,
        )


def _ssl_policy(facts: Facts, parts: ElbParts, file: str, where: str, policy: str) -> None:
    protocols = parts.ssl_policies.get(policy) or KNOWN_POLICIES.get(policy)
    fix = "use ELBSecurityPolicy-TLS13-1-2-2021-06 (TLS 1.2 and 1.3)"
    if protocols is None:
        facts.add(
            "tls-minimum",
            "info",
            file,
            where,
            f"protocols of {policy or '(unset)'} unknown",
            "add describe-ssl-policies output",
        )
    elif weak := sorted(WEAK_TLS & set(protocols)):
        facts.add("tls-minimum", "warn", file, where, f"{policy} allows {', '.join(weak)}", fix)
    else:
        facts.add("tls-minimum", "pass", file, where, f"{policy} allows {', '.join(protocols)}")


def _order(reader: Reader, action: JsonObject, path: str) -> int:
    """An action's `Order` (1-50000); absent means the API's list order."""
    text = reader.text(action, "Order", path, "0")
    if not text.isdigit():
        raise reader.error(f"{path}.Order", "Order must be a whole number")
    return int(text)
