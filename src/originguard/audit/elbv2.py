"""Audit ELBv2 exports: describe-load-balancers, -listeners, -rules, -ssl-policies, security groups.

Each CLI command prints one piece (describe-rules takes one `--listener-arn`), so every file is first
read into `ElbParts` and the checks run once over all parts. Rules are tied to their listener and
listeners to their load balancer by ARN: `…:listener-rule/app/LB/ID/LISTENER/RULE` belongs to
`…:listener/app/LB/ID/LISTENER`, which belongs to `…:loadbalancer/app/LB/ID`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from originguard.audit.elbv2_rules import (
    Located,
    audit_default_action,
    audit_rules,
    check_shape,
    is_default,
    rule_forwards,
    rule_where,
    terminal,
)
from originguard.audit.facts import Facts
from originguard.audit.network import audit_security_groups
from originguard.audit.shape import JsonObject, Reader

ELBV2_KEYS: Final = frozenset({"LoadBalancers", "Listeners", "Rules", "SslPolicies", "SecurityGroups"})
WEAK_TLS: Final = frozenset({"SSLv3", "TLSv1", "TLSv1.1"})

# What a bare list (`--query Rules`, `--query Listeners`, ...) holds, told by keys every item has.
LIST_KINDS: Final[tuple[tuple[str, frozenset[str]], ...]] = (
    ("Rules", frozenset({"Priority", "Actions"})),
    ("Listeners", frozenset({"Protocol", "DefaultActions"})),
    ("LoadBalancers", frozenset({"LoadBalancerArn", "DNSName"})),
    ("SecurityGroups", frozenset({"GroupId", "IpPermissions"})),
    ("SslPolicies", frozenset({"Name", "SslProtocols"})),
)

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


@dataclass
class ElbParts:
    """The ELBv2 pieces found in one or more files."""

    load_balancers: list[Located] = field(default_factory=list)
    listeners: list[Located] = field(default_factory=list)
    rules: list[Located] = field(default_factory=list)
    ssl_policies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    security_groups: list[Located] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(
            self.load_balancers or self.listeners or self.rules or self.ssl_policies or self.security_groups
        )

    def merge(self, other: ElbParts) -> None:
        """Add the pieces of another file."""
        self.load_balancers += other.load_balancers
        self.listeners += other.listeners
        self.rules += other.rules
        self.ssl_policies |= other.ssl_policies
        self.security_groups += other.security_groups


def is_elbv2(doc: object) -> bool:
    """True when the object holds any ELBv2 (or security group) key."""
    return isinstance(doc, dict) and bool(ELBV2_KEYS & doc.keys())


def elbv2_list_kind(doc: list[Any]) -> str | None:
    """`Rules`, `Listeners`, ... when every item of a bare list looks like one, else None."""
    if not doc or not all(isinstance(item, dict) for item in doc):
        return None
    for key, required in LIST_KINDS:
        if all(required <= item.keys() for item in doc):
            return key
    return None


def collect_elbv2(reader: Reader, doc: JsonObject, parts: ElbParts) -> None:
    """Add the pieces of one CLI output object to `parts`."""
    for key in sorted(ELBV2_KEYS & doc.keys()):
        collect_elbv2_list(reader, key, reader.field_list(doc, key, ""), parts, key)


def collect_elbv2_list(reader: Reader, key: str, items: list[Any], parts: ElbParts, base: str = "") -> None:
    """Add one list of `key` objects (a `--query` output when `base` is empty) to `parts`."""
    located = [
        Located(reader.file, f"{base}[{i}]", reader.obj(o, f"{base}[{i}]")) for i, o in enumerate(items)
    ]
    if key == "LoadBalancers":
        parts.load_balancers += located
    elif key == "Listeners":
        for listener in located:  # a listener without a readable default action skips its file
            terminal(reader, reader.objects(listener.obj, "DefaultActions", listener.path), listener.path)
        parts.listeners += located
    elif key == "Rules":
        for rule in located:
            check_shape(rule)
        parts.rules += located
    elif key == "SecurityGroups":
        parts.security_groups += located
    else:
        for policy in located:
            name = reader.text(policy.obj, "Name", policy.path)
            parts.ssl_policies[name] = tuple(reader.strings(policy.obj, "SslProtocols", policy.path))


def audit_elbv2(parts: ElbParts) -> Facts:
    """Checks 2 (no HTTP listener), 3 (header rules), 4 (default 403), TLS and network."""
    facts = Facts(kinds={"elbv2"})
    groups = _rules_by_listener(parts.rules)
    known = {_arn(listener) for listener in parts.listeners} - {""}
    for listener in parts.listeners:
        _listener(facts, parts, listener, groups.get(_arn(listener), []) if _arn(listener) else [])
    for arn, rules in groups.items():
        if not arn or arn not in known:
            _unlisted_listener(facts, arn, rules)
    for balancer in parts.load_balancers:
        _load_balancer(facts, parts, balancer)
    for group in parts.security_groups:
        audit_security_groups(facts, Reader(group.file), group.obj, group.path)
    return facts


def _arn(item: Located, key: str = "ListenerArn") -> str:
    return str(item.obj.get(key) or "")


def _rules_by_listener(rules: list[Located]) -> dict[str, list[Located]]:
    """Listener ARN ("" when a rule has no RuleArn) → its rules, in file order."""
    found: dict[str, list[Located]] = {}
    for rule in rules:
        arn = _arn(rule, "RuleArn")
        listener = ""
        if ":listener-rule/" in arn:
            listener = arn.replace(":listener-rule/", ":listener/", 1).rsplit("/", 1)[0]
        found.setdefault(listener, []).append(rule)
    return found


def _short(arn: str) -> str:
    """`listener/app/web/50dc…/f2f7…`: the resource part of an ARN (ARNs are not secrets)."""
    return arn.split(":", 5)[-1] if arn.count(":") >= 5 else arn


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
        audit_default_action(facts, listener.file, f"{where}.DefaultActions", actions)
        _ssl_policy(facts, parts, listener.file, f"{where}.SslPolicy", reader.text(obj, "SslPolicy", path))
        if rules:
            audit_rules(facts, rules, where)
        else:
            facts.add(
                "header-condition",
                "info",
                listener.file,
                where,
                "no describe-rules output for this listener: its header rules were not checked",
                "add `aws elbv2 describe-rules --listener-arn ARN` output",
            )
    else:
        facts.add("no-http-listener", "info", listener.file, f"{where}.Protocol", f"a {protocol} listener")


def _http_listener(
    facts: Facts, reader: Reader, where: str, actions: list[JsonObject], rules: list[Located]
) -> None:
    """Check 2: the architecture has no HTTP listener at the origin, not even one that only redirects."""
    default = terminal(reader, actions, f"{where}.DefaultActions")
    forwards = default.get("Type") == "forward" or any(rule_forwards(r) for r in rules if not is_default(r))
    fix = "delete the HTTP listener and close port 80 (CloudFront reaches the origin over HTTPS only)"
    if forwards:
        message = "an HTTP listener that forwards: the secret header and traffic travel in clear text"
    else:
        message = (
            "an HTTP listener, even one that only redirects to HTTPS, fails: CloudFront never needs it, "
            "a request sent to it (the secret header included, if an origin is ever set to HTTP) "
            "crosses the network in clear text before any redirect, and it keeps port 80 open"
        )
    facts.add("no-http-listener", "fail", reader.file, f"{where}.Protocol", message, fix)


def _unlisted_listener(facts: Facts, arn: str, rules: list[Located]) -> None:
    """Rules of a listener absent from every describe-listeners output: still checks 3 and 4."""
    file = rules[0].file
    label = f"({_short(arn)})" if arn else "(rules without a RuleArn)"
    facts.add(
        "no-http-listener",
        "info",
        file,
        label,
        "the listener of these rules is in no describe-listeners output given: "
        "whether it is an HTTP listener cannot be seen",
        "add `aws elbv2 describe-listeners --load-balancer-arn ARN` output",
    )
    for rule in rules:
        if is_default(rule):
            reader = Reader(rule.file)
            actions = reader.objects(rule.obj, "Actions", rule.path)
            audit_default_action(facts, rule.file, f"{rule_where(rule)}.Actions", actions)
    audit_rules(facts, rules, label)


def _load_balancer(facts: Facts, parts: ElbParts, balancer: Located) -> None:
    """describe-load-balancers: its type, its scheme, and which of its listeners were given."""
    reader, obj = Reader(balancer.file), balancer.obj
    arn = reader.text(obj, "LoadBalancerArn", balancer.path)
    where = f"{balancer.path}({reader.text(obj, 'LoadBalancerName', balancer.path)})"
    kind = reader.text(obj, "Type", where, "application")
    if kind != "application":
        facts.add(
            "header-condition",
            "info",
            balancer.file,
            f"{where}.Type",
            f"a {kind} load balancer cannot check an HTTP header: the targets must check the secret",
        )
    if not any(_arn(li, "LoadBalancerArn") == arn for li in parts.listeners):
        facts.add(
            "no-http-listener",
            "info",
            balancer.file,
            where,
            "no describe-listeners output for this load balancer: its listeners were not checked",
            "add `aws elbv2 describe-listeners --load-balancer-arn ARN` output",
        )
    if reader.text(obj, "Scheme", where) == "internal":
        facts.add("network", "pass", balancer.file, f"{where}.Scheme", "an internal load balancer")
        return
    groups = reader.strings(obj, "SecurityGroups", where)
    given = {str(g.obj.get("GroupId")) for g in parts.security_groups}
    if missing := [g for g in groups if g not in given]:
        facts.add(
            "network",
            "info",
            balancer.file,
            f"{where}.SecurityGroups",
            f"internet-facing; {', '.join(missing)} decide(s) who may connect and were not given",
            "add `aws ec2 describe-security-groups --group-ids ...` output",
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
