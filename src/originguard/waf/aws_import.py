"""Import a cloud WAF web ACL (`get-web-acl` JSON) into our YAML shape, listing what cannot be mapped.

A rule whose statement cannot be expressed is left out (its note says why); a detail that is dropped
while the rule is kept (an unknown transformation, a header filter) is noted too. Nothing is dropped
silently: the caller prints every note.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Final

from originguard.waf.aws_crs import COVERAGE, extra_families

JsonObj = dict[str, Any]
_TRANSFORMS: Final = {
    "LOWERCASE": "lowercase",
    "URL_DECODE": "url_decode",
    "URL_DECODE_UNI": "url_decode_uni",
    "HTML_ENTITY_DECODE": "html_entity_decode",
    "COMPRESS_WHITE_SPACE": "compress_white_space",
    "REMOVE_NULLS": "remove_nulls",
    "NORMALIZE_PATH": "normalize_path",
    "BASE64_DECODE": "base64_decode",
    "CMD_LINE": "cmd_line",
    "REPLACE_COMMENTS": "replace_comments",
    "JS_DECODE": "js_decode",
}
_SIMPLE_FIELDS: Final = {
    "UriPath": "path",
    "QueryString": "query",
    "Method": "method",
    "AllQueryArguments": "all_query_args",
    "Cookies": "cookies",
}
_BODY_KIB: Final = {"KB_16": 16, "KB_32": 32, "KB_48": 48, "KB_64": 64}


class Unmappable(Exception):
    """A statement has no equivalent; the rule holding it is left out."""


def import_web_acl(json_obj: JsonObj) -> tuple[JsonObj, list[str]]:
    """Our `WebAclConfig` as a YAML-ready dict, and a note for everything not mapped exactly."""
    acl = json_obj.get("WebACL", json_obj)
    notes: list[str] = []
    bodies: JsonObj = acl.get("CustomResponseBodies") or {}
    result: JsonObj = {"default_action": "block" if "Block" in (acl.get("DefaultAction") or {}) else "allow"}
    size = (((acl.get("AssociationConfig") or {}).get("RequestBody") or {}).get("CLOUDFRONT") or {}).get(
        "DefaultSizeInspectionLimit"
    )
    if size in _BODY_KIB:
        result["body_inspection_kib"] = _BODY_KIB[size]
    rules: list[JsonObj] = []
    for index, rule in enumerate(acl.get("Rules") or []):
        name = str(rule.get("Name", f"rule-{index}"))
        where = f"rule {name!r}"
        try:
            mapped = _rule(rule, name, where, bodies, notes)
        except Unmappable as exc:
            notes.append(f"{where}: left out: {exc}")
            continue
        rules.append(mapped)
    result["rules"] = _one_crs_rule(rules, notes)
    for key in ("CaptchaConfig", "ChallengeConfig", "TokenDomains"):
        if acl.get(key):
            notes.append(f"{key}: not supported (originguard has no CAPTCHA/challenge); ignored")
    return result, notes


def _rule(rule: JsonObj, name: str, where: str, bodies: JsonObj, notes: list[str]) -> JsonObj:
    statement = rule.get("Statement") or {}
    out: JsonObj = {"name": name, "priority": int(rule.get("Priority", 0))}
    if "ManagedRuleGroupStatement" in statement:
        out["statement"] = _managed(statement["ManagedRuleGroupStatement"], where, notes)
        override = rule.get("OverrideAction") or {}
        out["action"] = "count" if "Count" in override else "block"
    else:
        out["statement"] = _statement(statement, where, notes)
        out["action"] = _action(rule.get("Action") or {}, out, where, bodies, notes)
    labels = [str(label.get("Name")) for label in rule.get("RuleLabels") or [] if label.get("Name")]
    if labels:
        out["labels"] = labels
    return out


def _action(action: JsonObj, out: JsonObj, where: str, bodies: JsonObj, notes: list[str]) -> str:
    if "Block" in action:
        custom = (action["Block"] or {}).get("CustomResponse")
        if custom:
            response: JsonObj = {"status": int(custom.get("ResponseCode", 403))}
            headers = {h["Name"]: h["Value"] for h in custom.get("ResponseHeaders") or []}
            if headers:
                response["headers"] = headers
            key = custom.get("CustomResponseBodyKey")
            if key and key in bodies:
                response["body"] = bodies[key].get("Content", "")
                kind = bodies[key].get("ContentType", "TEXT_PLAIN")
                content_type = {"TEXT_HTML": "text/html", "APPLICATION_JSON": "application/json"}
                headers.setdefault("content-type", content_type.get(kind, "text/plain"))
                response["headers"] = headers
            out["response"] = response
        return "block"
    if "Allow" in action:
        if (action["Allow"] or {}).get("CustomRequestHandling"):
            notes.append(f"{where}: Allow CustomRequestHandling (inserted headers) is not supported; dropped")
        return "allow"
    if "Count" in action:
        return "count"
    kind = next(iter(action), "none")
    notes.append(f"{where}: action {kind} has no equivalent; imported as count so it stays visible")
    return "count"


def _statement(statement: JsonObj, where: str, notes: list[str]) -> JsonObj:
    if len(statement) != 1:
        raise Unmappable(f"a statement must have exactly one key, got {sorted(statement)}")
    kind, body = next(iter(statement.items()))
    if kind in ("AndStatement", "OrStatement"):
        key = "and" if kind == "AndStatement" else "or"
        return {key: [_statement(s, where, notes) for s in body.get("Statements") or []]}
    if kind == "NotStatement":
        return {"not": _statement(body.get("Statement") or {}, where, notes)}
    if kind == "ByteMatchStatement":
        position = str(body.get("PositionalConstraint", "CONTAINS")).lower()
        search = _search_string(body.get("SearchString", ""), where, notes)
        return {"byte_match": {**_field_part(body, where, notes), "search": search, "position": position}}
    if kind == "RegexMatchStatement":
        return {"regex_match": {**_field_part(body, where, notes), "pattern": body.get("RegexString", "")}}
    if kind == "SqliMatchStatement":
        level = str(body.get("SensitivityLevel", "LOW")).lower()
        return {"sqli": {**_field_part(body, where, notes), "sensitivity": level}}
    if kind == "XssMatchStatement":
        return {"xss": _field_part(body, where, notes)}
    if kind == "SizeConstraintStatement":
        op = str(body.get("ComparisonOperator", "GT")).lower()
        return {
            "size_constraint": {**_field_part(body, where, notes), "op": op, "size": int(body.get("Size", 0))}
        }
    if kind == "GeoMatchStatement":
        geo: JsonObj = {"countries": list(body.get("CountryCodes") or [])}
        forwarded = _forwarded(body.get("ForwardedIPConfig"))
        if forwarded:
            geo["forwarded_ip"] = forwarded
        return {"geo_match": geo}
    if kind == "LabelMatchStatement":
        scope = "namespace" if body.get("Scope") == "NAMESPACE" else "label"
        return {"label_match": {"label": body.get("Key", ""), "scope": scope}}
    if kind == "RateBasedStatement":
        return {"rate_based": _rate(body, where, notes)}
    if kind == "IPSetReferenceStatement":
        raise Unmappable(
            f"IPSetReferenceStatement {body.get('ARN', '')} holds no addresses in this export; "
            "add them with `get-ip-set` as an ip_set: {cidrs: [...]}"
        )
    raise Unmappable(f"{kind} has no equivalent in originguard")


def _field_part(body: JsonObj, where: str, notes: list[str]) -> JsonObj:
    part: JsonObj = {"field": _field(body.get("FieldToMatch") or {}, where, notes)}
    spec = next(iter((body.get("FieldToMatch") or {}).values()), None)
    oversize = (spec or {}).get("OversizeHandling") if isinstance(spec, dict) else None
    if oversize in ("MATCH", "NO_MATCH", "CONTINUE"):
        part["oversize"] = oversize.lower()
    # Always explicit: our detectors decode by default when no transforms are given; the cloud WAF does not.
    part["transforms"] = _transforms(body.get("TextTransformations") or [], where, notes)
    return part


def _field(field: JsonObj, where: str, notes: list[str]) -> Any:
    if len(field) != 1:
        raise Unmappable(f"FieldToMatch must have one key, got {sorted(field)}")
    kind, spec = next(iter(field.items()))
    spec = spec or {}
    if kind in _SIMPLE_FIELDS:
        if kind == "Cookies" and spec.get("MatchScope") not in (None, "VALUE", "ALL"):
            notes.append(
                f"{where}: Cookies MatchScope {spec.get('MatchScope')} not supported; values inspected"
            )
        if kind == "Cookies" and (spec.get("MatchPattern") or {}).keys() - {"All"}:
            notes.append(f"{where}: Cookies MatchPattern filters not supported; all cookies inspected")
        return _SIMPLE_FIELDS[kind]
    if kind == "SingleHeader":
        return {"header": str(spec.get("Name", "")).lower()}
    if kind == "SingleQueryArgument":
        return {"query_arg": str(spec.get("Name", ""))}
    if kind == "Body":
        return "body"
    if kind == "JsonBody":
        if (spec.get("MatchPattern") or {}).get("IncludedPaths"):
            notes.append(f"{where}: JsonBody IncludedPaths not supported; the whole document is inspected")
        return {"KEY": "json_keys", "VALUE": "json_values"}.get(str(spec.get("MatchScope")), "json_body")
    if kind == "Headers":
        if (spec.get("MatchPattern") or {}).keys() - {"All"}:
            notes.append(f"{where}: Headers MatchPattern filters not supported; all headers inspected")
        return "header_names" if spec.get("MatchScope") == "KEY" else "all_headers"
    raise Unmappable(f"FieldToMatch {kind} is not supported")


def _transforms(items: list[JsonObj], where: str, notes: list[str]) -> list[str]:
    names: list[str] = []
    for item in sorted(items, key=lambda t: int(t.get("Priority", 0))):
        kind = str(item.get("Type", "NONE"))
        if kind == "NONE":
            continue
        if kind in _TRANSFORMS:
            names.append(_TRANSFORMS[kind])
        else:
            notes.append(
                f"{where}: text transformation {kind} is not supported; skipped (matching may differ)"
            )
    return names


def _search_string(value: Any, where: str, notes: list[str]) -> str:
    """SearchString is a blob; JSON exports may hold it base64-encoded. Decode only when unambiguous."""
    text = str(value)
    try:
        raw = base64.b64decode(text, validate=True)
        decoded = raw.decode("ascii")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return text
    if len(text) >= 8 and decoded.isprintable() and base64.b64encode(raw).decode() == text:
        notes.append(f"{where}: SearchString {text!r} read as base64 of {decoded!r}; check it")
        return decoded
    return text


def _forwarded(config: JsonObj | None) -> JsonObj | None:
    if not config:
        return None
    forwarded: JsonObj = {"header": str(config.get("HeaderName", "X-Forwarded-For")).lower()}
    forwarded["fallback"] = "match" if config.get("FallbackBehavior") == "MATCH" else "no_match"
    if config.get("Position") in ("FIRST", "LAST", "ANY"):
        forwarded["position"] = str(config["Position"]).lower()
    return forwarded


def _rate(body: JsonObj, where: str, notes: list[str]) -> JsonObj:
    rate: JsonObj = {
        "limit": int(body.get("Limit", 2000)),
        "window": int(body.get("EvaluationWindowSec", 300)),
    }
    aggregate = body.get("AggregateKeyType", "IP")
    keys: list[Any] = {"IP": ["ip"], "FORWARDED_IP": ["forwarded_ip"], "CONSTANT": ["constant"]}.get(
        aggregate, []
    )
    for custom in body.get("CustomKeys") or []:
        kind, spec = next(iter(custom.items()))
        simple = {"IP": "ip", "ForwardedIP": "forwarded_ip", "HTTPMethod": "method", "UriPath": "path"}
        if kind in simple:
            keys.append(simple[kind])
        elif kind == "Header":
            keys.append({"header": str(spec.get("Name", "")).lower()})
        else:
            raise Unmappable(f"rate-based custom key {kind} is not supported")
    if not keys:
        raise Unmappable(f"rate-based aggregation {aggregate} is not supported")
    rate["keys"] = keys
    forwarded = _forwarded(body.get("ForwardedIPConfig"))
    if forwarded:
        rate["forwarded_ip"] = forwarded
    if body.get("ScopeDownStatement"):
        rate["scope_down"] = _statement(body["ScopeDownStatement"], where, notes)
    return rate


def _managed(group: JsonObj, where: str, notes: list[str]) -> JsonObj:
    name = group.get("Name", "")
    coverage = COVERAGE.get(name) if group.get("VendorName", "AWS") == "AWS" else None
    if coverage is None:
        raise Unmappable(f"managed group {group.get('VendorName', '')}/{name} has no OWASP CRS equivalent")
    families = ", ".join(str(family) for family in coverage.families)
    notes.append(f"{where}: managed group {name} mapped to the OWASP CRS (rules {families}xxx)")
    notes.extend(f"{where}: differs: {difference}" for difference in coverage.differences)
    dropped = [
        key for key in ("ExcludedRules", "RuleActionOverrides", "ScopeDownStatement") if group.get(key)
    ]
    if dropped:
        notes.append(
            f"{where}: {', '.join(dropped)} dropped (AWS rule names are not CRS rule ids): "
            "tune with exclusions: [{remove_rule: ID}] instead"
        )
    return {"managed": {"name": "owasp-crs", "paranoia_level": 1}, "_aws_group": name}


def _one_crs_rule(rules: list[JsonObj], notes: list[str]) -> list[JsonObj]:
    """Every AWS group CRS covers becomes one `owasp-crs` rule, at the first group's priority.

    CRS scores all its rules together: a second copy would run everything twice. The rule blocks
    if any of the groups did (their override was not Count).
    """
    crs = [rule for rule in rules if "_aws_group" in rule.get("statement", {})]
    if not crs:
        return rules
    groups = [rule["statement"].pop("_aws_group") for rule in crs]
    first = crs[0]
    first["name"] = "owasp-crs" if len(crs) > 1 else first["name"]
    first["action"] = "block" if any(rule["action"] == "block" for rule in crs) else "count"
    for rule in crs[1:]:
        notes.append(
            f"rule {rule['name']!r}: merged into the one owasp-crs rule (priority {first['priority']})"
        )
    extra = extra_families(groups)
    if extra:
        notes.append(
            "owasp-crs also runs what no imported AWS group did: "
            + "; ".join(extra)
            + " (start with action: count to see their false positives)"
        )
    merged = set(map(id, crs[1:]))
    return [rule for rule in rules if id(rule) not in merged]
