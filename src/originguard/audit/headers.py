"""The value rules of a secret http-header condition, shared by ALB rules and Ingress conditions."""

from __future__ import annotations

from typing import Final

from originguard.audit.facts import Facts, HeaderCondition, SecretSighting
from originguard.audit.secret_strength import assess_secret, sha256_hex

_REGEX_META: Final = frozenset(".^$*+?()[]{}|\\")
MAX_VALUES: Final = 2  # two values = the current and the next secret during a rotation


def header_condition(
    facts: Facts,
    resource: str,
    field: str,
    name: str,
    values: list[str],
    regex_values: list[str],
    scope: str | None,
) -> HeaderCondition:
    """Record one http-header condition: wildcards and wide regexes fail, > 2 values warn."""
    folded: list[str] = []
    patterns = False
    for i, value in enumerate(values):
        where = f"{field}.Values[{i}]"
        if value and set(value) <= {"*"}:
            patterns = True
            facts.add(
                "header-condition",
                "fail",
                resource,
                where,
                f"the value * for {name} matches any value: the header proves nothing "
                f"(any request that carries {name}, whatever its value, is admitted)",
                "use the exact secret value(s) of the CloudFront origin header",
            )
            continue
        if "*" in value or "?" in value:
            patterns = True
            # `*` and `?` are ALB wildcards: the condition then admits values the edge never sent.
            facts.add(
                "header-condition",
                "fail",
                resource,
                where,
                f"a value for {name} contains a wildcard (* or ?), so guesses match it",
                "use the exact secret value, without * or ?",
            )
            continue
        folded.append(_sighting(facts, value, name, resource, where, scope))
    for i, pattern in enumerate(regex_values):
        where = f"{field}.RegexValues[{i}]"
        literal = regex_literal(pattern)
        if literal is None:
            patterns = True
            facts.add(
                "header-condition",
                "fail",
                resource,
                where,
                f"a regex value for {name} matches more than one exact value",
                "use Values with the exact secret (or an anchored ^literal$ regex)",
            )
            continue
        folded.append(_sighting(facts, literal, name, resource, where, scope))
    if len(values) + len(regex_values) > MAX_VALUES:
        facts.add(
            "header-condition",
            "warn",
            resource,
            field,
            f"{len(values) + len(regex_values)} values for {name}; 2 are enough for a rotation",
            "remove retired secret values from the condition",
        )
    return HeaderCondition(name, tuple(folded), field, patterns)


def regex_literal(pattern: str) -> str | None:
    """The literal an anchored regex matches (`^abc\\.d$` → `abc.d`), or None when it is wider."""
    if (
        len(pattern) < 3
        or not pattern.startswith("^")
        or not pattern.endswith("$")
        or pattern.endswith("\\$")
    ):
        return None
    body, out, i = pattern[1:-1], [], 0
    while i < len(body):
        char = body[i]
        if char == "\\":
            if i + 1 < len(body) and not body[i + 1].isalnum():
                out.append(body[i + 1])
                i += 2
                continue
            return None  # \d, \w, \s and friends are classes, not literals
        if char in _REGEX_META:
            return None
        out.append(char)
        i += 1
    return "".join(out)


def _sighting(facts: Facts, value: str, name: str, resource: str, field: str, scope: str | None) -> str:
    """Record a value by hash and strength; return the SHA-256 of its lower-cased form."""
    strength = assess_secret(value, name)
    facts.sightings.append(
        SecretSighting(sha256_hex(value), strength, len(value), name, resource, field, "lb", scope)
    )
    return sha256_hex(value.lower())
