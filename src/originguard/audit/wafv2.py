"""Audit a WAFv2 web ACL (get-web-acl output): it must block something, and be visible."""

from __future__ import annotations

import base64
import binascii

from originguard.audit.facts import Facts, SecretSighting
from originguard.audit.secret_strength import assess_secret, sha256_hex
from originguard.audit.shape import JsonObject, Reader


def is_wafv2(doc: object) -> bool:
    """True for get-web-acl output."""
    return isinstance(doc, dict) and isinstance(doc.get("WebACL"), dict)


def is_web_acl(doc: object) -> bool:
    """A web ACL itself (`get-web-acl --query WebACL`); its `Rules` are not ELBv2 rules."""
    return isinstance(doc, dict) and {"DefaultAction", "VisibilityConfig", "Rules"} <= doc.keys()


def audit_wafv2(reader: Reader, doc: JsonObject) -> Facts:
    """Warn on count-only rules, allow-by-default with no blocking rule, and metrics or sampling off."""
    facts = Facts(kinds={"wafv2"})
    acl = reader.field_obj(doc, "WebACL", "", required=True)
    name = reader.text(acl, "Name", "WebACL")
    base = f"WebACL({name})"
    rules = reader.objects(acl, "Rules", "WebACL")
    default = reader.field_obj(acl, "DefaultAction", "WebACL")
    enforcing = [r for r in rules if _enforces(r)]
    if rules and not enforcing:
        facts.add(
            "waf-rules",
            "warn",
            reader.file,
            f"{base}.Rules",
            "every rule only counts: the ACL blocks nothing",
            "switch the rules (or managed groups' OverrideAction) from Count to Block / None",
        )
    if "Allow" in default and not any(
        "Block" in (r.get("Action") or {}) or "OverrideAction" in r for r in enforcing
    ):
        facts.add(
            "waf-rules",
            "warn",
            reader.file,
            f"{base}.DefaultAction",
            "the default action allows and no rule blocks",
            "add blocking rules (for example AWSManagedRulesCommonRuleSet)",
        )
    elif enforcing:
        facts.add("waf-rules", "pass", reader.file, f"{base}.Rules", f"{len(enforcing)} rule(s) enforce")
    for i, rule in enumerate(rules):
        where = f"{base}.Rules[{i}]({reader.text(rule, 'Name', base)})"
        _visibility(
            facts, reader, reader.field_obj(rule, "VisibilityConfig", where), f"{where}.VisibilityConfig"
        )
        _header_gate(facts, reader, rule, default, where)
    _visibility(facts, reader, reader.field_obj(acl, "VisibilityConfig", base), f"{base}.VisibilityConfig")
    return facts


def _enforces(rule: JsonObject) -> bool:
    """A rule that can stop a request: a non-Count action, or a rule group not overridden to Count."""
    if "OverrideAction" in rule:
        return "Count" not in (rule.get("OverrideAction") or {})
    action = rule.get("Action") or {}
    return bool(action) and "Count" not in action


def _visibility(facts: Facts, reader: Reader, config: JsonObject, where: str) -> None:
    if config and (
        config.get("SampledRequestsEnabled") is False or config.get("CloudWatchMetricsEnabled") is False
    ):
        facts.add(
            "waf-rules",
            "warn",
            reader.file,
            where,
            "metrics or request sampling are off: blocked attacks stay invisible",
            "set SampledRequestsEnabled and CloudWatchMetricsEnabled to true",
        )


def _header_gate(facts: Facts, reader: Reader, rule: JsonObject, default: JsonObject, where: str) -> None:
    """The reference's equivalent of checks 3+4: DefaultAction Block + Allow on an exact header match."""
    statement = reader.field_obj(rule, "Statement", where)
    match = reader.field_obj(statement, "ByteMatchStatement", f"{where}.Statement")
    header = reader.field_obj(reader.field_obj(match, "FieldToMatch", where), "SingleHeader", where)
    if not header or "Allow" not in (rule.get("Action") or {}):
        return
    field = f"{where}.Statement.ByteMatchStatement.SearchString"
    name = reader.text(header, "Name", where)
    value = search_string(reader.text(match, "SearchString", where))
    facts.sightings.append(
        SecretSighting(
            sha256_hex(value), assess_secret(value, name), len(value), name, reader.file, field, "lb", None
        )
    )
    exact = reader.text(match, "PositionalConstraint", where) == "EXACTLY"
    if "Block" in default and exact:
        facts.add(
            "header-condition",
            "pass",
            reader.file,
            field,
            f"the ACL admits only requests with the exact {name}",
        )
    else:
        facts.add(
            "header-condition",
            "warn",
            reader.file,
            field,
            f"a header rule on {name} that does not gate all requests",
            "use PositionalConstraint EXACTLY with DefaultAction Block",
        )


def search_string(text: str) -> str:
    """A ByteMatch `SearchString` as text: the CLI prints this blob base64-encoded, boto3 as bytes.

    A value that decodes as base64 to printable ASCII is the encoded form (a 40-character random
    secret is valid base64 too, but decodes to binary: the odds of it being printable are ~1e-13).
    """
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return text
    if decoded and all(0x20 < byte < 0x7F for byte in decoded):
        return decoded.decode("ascii")
    return text
