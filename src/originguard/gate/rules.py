# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Listener rules of the gate (pure): compile the config once, then match requests.

Semantics of the cloud application load balancer: rules by ascending priority, the first whose
conditions all match wins (AND across conditions, OR across one condition's values), and the
listener's default action runs last. A secret header value is compared exactly and in constant
time against every accepted value (rotation keeps two), never with wildcards or case folding.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol
from urllib.parse import parse_qsl

from originguard.config.gate import Action, Condition, Listener
from originguard.config.values import SecretRef
from originguard.http.message import Request
from originguard.proxy.patterns import Matcher, compile_any, compile_wildcard
from originguard.secrets import SecretValues

Header = tuple[bytes, bytes]


class RequestView(Protocol):
    """What rule matching reads from a request (the HTTP engine's Request satisfies it)."""

    method: bytes
    path: bytes
    query: bytes
    host: bytes
    client_ip: str

    def header_values(self, lower_name: bytes) -> Sequence[bytes]: ...


RequestTest = Callable[[RequestView], bool]


@dataclass(frozen=True, slots=True)
class Match:
    """Which action applies and why (`rule` is `priority N` or `default`)."""

    action: Action
    rule: str
    kind: Literal["forward", "fixed_response", "redirect"]
    matched_secret_headers: frozenset[bytes]
    # The one target group a forward names, read at compile time (None: weighted, or no forward).
    target_group: str | None = None


@dataclass(frozen=True, slots=True)
class CompiledRule:
    name: str
    priority: int
    tests: tuple[RequestTest, ...]
    action: Action
    secret_headers: frozenset[bytes]
    match: Match  # built once: matching allocates nothing per request


@dataclass(frozen=True, slots=True)
class CompiledListener:
    rules: tuple[CompiledRule, ...]
    default_action: Action
    secret_headers: frozenset[bytes]
    default_match: Match


def compile_listener(listener: Listener, secrets: dict[str, SecretValues]) -> CompiledListener:
    """Compile a listener's rules (sorted by priority) into tests; secrets are resolved here."""
    rules = []
    for rule in sorted(listener.rules, key=lambda r: r.priority):
        tests = tuple(_compile_condition(c, secrets) for c in rule.conditions)
        names = frozenset(
            c.http_header.name.lower().encode()
            for c in rule.conditions
            if c.http_header is not None and any(isinstance(v, SecretRef) for v in c.http_header.values)
        )
        name = f"priority {rule.priority}"
        action = rule.actions[0]
        rules.append(
            CompiledRule(
                name,
                rule.priority,
                tests,
                action,
                names,
                Match(action, name, _kind(action), names, _only_group(action)),
            )
        )
    every_secret = frozenset().union(*(r.secret_headers for r in rules)) if rules else frozenset()
    default = listener.default_action
    return CompiledListener(
        tuple(rules),
        default,
        every_secret,
        Match(default, "default", _kind(default), frozenset(), _only_group(default)),
    )


def _only_group(action: Action) -> str | None:
    return action.forward.target_group if action.forward is not None else None


def match(listener: CompiledListener, request: RequestView) -> Match:
    """The action for a request: first rule whose every condition holds, else the default."""
    for rule in listener.rules:
        for test in rule.tests:
            if not test(request):
                break
        else:
            return rule.match
    return listener.default_match


def _kind(action: Action) -> Literal["forward", "fixed_response", "redirect"]:
    if action.forward is not None:
        return "forward"
    if action.fixed_response is not None:
        return "fixed_response"
    return "redirect"


def _compile_condition(condition: Condition, secrets: dict[str, SecretValues]) -> RequestTest:
    if condition.http_header is not None:
        return _header_test(condition.http_header.name, condition.http_header.values, secrets)
    if condition.host_header is not None:
        host_matches = compile_any(condition.host_header.values, case_sensitive=False)
        return lambda r: host_matches(_hostname(r.host))
    if condition.path_pattern is not None:
        path_matches = compile_any(condition.path_pattern.values, case_sensitive=True)
        return lambda r: path_matches(r.path.decode("latin-1"))
    if condition.http_request_method is not None:
        methods = frozenset(m.encode() for m in condition.http_request_method.values)
        return lambda r: r.method in methods
    if condition.query_string is not None:
        return _query_test([(p.key, p.value) for p in condition.query_string.values])
    if condition.source_ip is not None:
        return _source_ip_test(condition.source_ip.values)
    raise ValueError("condition without a type")  # the config model makes this unreachable


def _header_test(
    name: str, values: Sequence[str | SecretRef], secrets: dict[str, SecretValues]
) -> RequestTest:
    lower = name.lower().encode()
    secret_sets = [secrets[v.secret] for v in values if isinstance(v, SecretRef)]
    patterns = [v for v in values if isinstance(v, str)]
    plain: Matcher | None = compile_any(patterns, case_sensitive=False) if patterns else None

    def test(request: RequestView) -> bool:
        found: Sequence[bytes]
        # The same call twice on purpose: narrowed to our own Request, mypyc calls it natively;
        # through the Protocol it would look the method up by name (fake requests in tests).
        if isinstance(request, Request):  # noqa: SIM108
            found = request.header_values(lower)
        else:
            found = request.header_values(lower)
        if not found:
            return False
        # Exactly one copy of a secret header: the edge never sends two, and a second copy
        # is an attempt to make hops disagree about which one counts.
        if secret_sets and len(found) == 1 and any(s.admits(found[0]) for s in secret_sets):
            return True
        if plain is not None:
            return any(plain(v.decode("latin-1")) for v in found)
        return False

    return test


def _query_test(pairs: list[tuple[str | None, str]]) -> RequestTest:
    compiled = [
        (
            compile_wildcard(k, case_sensitive=False, escapes=True) if k is not None else None,
            compile_wildcard(v, case_sensitive=False, escapes=True),
        )
        for k, v in pairs
    ]

    def test(request: RequestView) -> bool:
        query = parse_qsl(request.query.decode("latin-1"), keep_blank_values=True)
        for key_matches, value_matches in compiled:
            for key, value in query:
                if (key_matches is None or key_matches(key)) and value_matches(value):
                    return True
        return False

    return test


def _source_ip_test(networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> RequestTest:
    def test(request: RequestView) -> bool:
        try:
            address = ipaddress.ip_address(request.client_ip)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in networks)

    return test


def _hostname(host: bytes) -> str:
    text = host.decode("latin-1")
    if text.startswith("["):
        return text.partition("]")[0] + "]"
    return text.rpartition(":")[0] if ":" in text else text
