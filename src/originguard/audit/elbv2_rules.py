"""ELBv2 rules and actions: what ends a rule, check 3 (header rules forward) and check 4 (default 403)."""

from __future__ import annotations

from dataclasses import dataclass

from originguard.audit.facts import Facts, ForwardRule, HeaderCondition
from originguard.audit.headers import header_condition
from originguard.audit.shape import JsonObject, Reader


@dataclass(frozen=True, slots=True)
class Located:
    """One object of an export and where it is: file and key path."""

    file: str
    path: str
    obj: JsonObject


def is_default(rule: Located) -> bool:
    """The listener's default rule (describe-rules lists it last, `Priority: "default"`)."""
    return rule.obj.get("IsDefault") is True or str(rule.obj.get("Priority")) == "default"


def terminal(reader: Reader, actions: list[JsonObject], path: str) -> JsonObject:
    """The action that ends the rule (authenticate actions run first, ordered by `Order`)."""
    if not actions:
        raise reader.error(path, "a rule or listener has no actions")
    ordered = sorted(enumerate(actions), key=lambda pair: (_order(reader, pair[1], path), pair[0]))
    return ordered[-1][1]


def rule_terminal(rule: Located) -> JsonObject:
    """The action that ends `rule`."""
    reader = Reader(rule.file)
    return terminal(reader, reader.objects(rule.obj, "Actions", rule.path), f"{rule.path}.Actions")


def rule_forwards(rule: Located) -> bool:
    """Whether the rule ends in forward (to targets: the app)."""
    return rule_terminal(rule).get("Type") == "forward"


def rule_where(rule: Located) -> str:
    """`Rules[3](priority 10)`: the key path plus the priority users see in the console."""
    return f"{rule.path}(priority {Reader(rule.file).text(rule.obj, 'Priority', rule.path)})"


def check_shape(rule: Located) -> None:
    """Raise ConfigError now for a rule the checks could not read, so only its file is skipped."""
    rule_terminal(rule)
    _header_conditions(Facts(), rule)


def audit_rules(facts: Facts, rules: list[Located], listener: str) -> None:
    """Check 3 over one listener's rules: header rules must forward, and something must forward."""
    answered = False  # something forwards, or a header rule that does not was already reported
    for rule in rules:
        if is_default(rule):
            continue
        headers = _header_conditions(facts, rule)
        if rule_forwards(rule):
            answered = True
            facts.forward_rules.append(
                ForwardRule(rule.file, rule_where(rule), f"priority {_priority(rule)}", headers)
            )
        elif headers and not _denies(rule):
            answered = True
            _header_rule_not_forwarding(facts, rule, headers[0].name)
    if not answered and rules:
        facts.add(
            "header-condition",
            "fail",
            rules[0].file,
            listener,
            "no rule of this listener forwards: nothing reaches the app under the secret header",
            "give the rule with the secret http-header condition a forward action to the app",
        )


def audit_default_action(facts: Facts, file: str, where: str, actions: list[JsonObject]) -> None:
    """Check 4: the listener's default must be a fixed response, ideally 403."""
    reader = Reader(file)
    action = terminal(reader, actions, where)
    kind = reader.text(action, "Type", where)
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
    status = reader.text(reader.field_obj(action, "FixedResponseConfig", where), "StatusCode", where)
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


def _priority(rule: Located) -> str:
    return Reader(rule.file).text(rule.obj, "Priority", rule.path)


def _denies(rule: Located) -> bool:
    """A fixed 4xx/5xx: a deny rule keyed on a header is harmless (it admits nothing)."""
    action = rule_terminal(rule)
    if action.get("Type") != "fixed-response":
        return False
    config = action.get("FixedResponseConfig")
    status = str(config.get("StatusCode", "")) if isinstance(config, dict) else ""
    return status[:1] in ("4", "5")


def _header_rule_not_forwarding(facts: Facts, rule: Located, header: str) -> None:
    """A header rule that redirects or answers 200 itself: check 3 wants the header rule to forward."""
    action = rule_terminal(rule)
    kind = str(action.get("Type") or "no action")
    if kind == "fixed-response":
        config = action.get("FixedResponseConfig")
        status = str(config.get("StatusCode", "")) if isinstance(config, dict) else ""
        kind = f"a fixed {status or 'response'}"
    facts.add(
        "header-condition",
        "fail",
        rule.file,
        f"{rule_where(rule)}.Actions",
        f"the rule on {header} ends in {kind}, not forward: nothing reaches the app under the header, "
        "so the header proves nothing here and the app is served some other way (or not at all)",
        "make the rule with the secret header condition forward to the app's target group",
    )


def _header_conditions(facts: Facts, rule: Located) -> tuple[HeaderCondition, ...]:
    """The rule's http-header conditions (values recorded by hash, wildcards and regexes judged)."""
    reader = Reader(rule.file)
    where = rule_where(rule)
    found: list[HeaderCondition] = []
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
        found.append(header_condition(facts, rule.file, field, name, values, regexes, None))
    return tuple(found)


def _order(reader: Reader, action: JsonObject, path: str) -> int:
    """An action's `Order` (1-50000); absent means the API's list order."""
    text = reader.text(action, "Order", path, "0")
    if not text.isdigit():
        raise reader.error(f"{path}.Order", "Order must be a whole number")
    return int(text)
