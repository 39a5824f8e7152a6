"""Evaluate a compiled web ACL against one request: the first terminating rule decides."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from originguard.waf.compile import BlockReply, CompiledAcl, CompiledRule
from originguard.waf.fields import RequestView
from originguard.waf.rate import RateState
from originguard.waf.request import Match, WafRequest

VALUE_LIMIT: Final = 64  # characters of a matched value kept in a verdict (enough to see the attack)


class Action(StrEnum):
    ALLOW = "allow"
    BLOCK = "block"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to do with a request and why: the rule, the field and value that matched, the labels."""

    action: Action
    rule: str | None
    labels: tuple[str, ...]
    counted: tuple[str, ...]
    field: str | None
    value: str | None
    reason: str
    response: BlockReply | None

    @property
    def blocked(self) -> bool:
        """True when the request must not reach the origin."""
        return self.action is Action.BLOCK


def evaluate(acl: CompiledAcl, request: WafRequest, now: float, rate: RateState) -> Verdict:
    """Run `acl` on `request` at time `now`; count rules record and continue, allow/block stop."""
    view = RequestView(request, acl.slots, now, rate)
    rules, plan = acl.rules, acl.plan
    pending = plan.always  # bit i set: rule i could match and has not run yet
    counted: list[str] = []
    # Before each gate, run the pending rules it cannot precede (`below`: the rules before its first).
    for gate, below in plan.steps:
        while pending & below:
            lowest = pending & -pending
            pending ^= lowest
            rule = rules[lowest.bit_length() - 1]
            found = rule.matcher(view)
            if found is None:
                continue
            view.labels.update(rule.labels)
            if rule.action != "count":
                return _rule_verdict(rule, found, view.labels, counted)
            counted.append(rule.name)
        pending |= gate(view)
    while pending:
        lowest = pending & -pending
        pending ^= lowest
        rule = rules[lowest.bit_length() - 1]
        found = rule.matcher(view)
        if found is None:
            continue
        view.labels.update(rule.labels)
        if rule.action != "count":
            return _rule_verdict(rule, found, view.labels, counted)
        counted.append(rule.name)
    if not counted and not view.labels:
        return _default_verdict(acl)
    return _default_verdict(acl, tuple(sorted(view.labels)), tuple(counted))


def evaluate_reference(acl: CompiledAcl, request: WafRequest, now: float, rate: RateState) -> Verdict:
    """`evaluate` without the plan: every rule in priority order (the definition tests compare against)."""
    view = RequestView(request, acl.slots, now, rate)
    counted: list[str] = []
    for rule in acl.rules:
        found = rule.matcher(view)
        if found is None:
            continue
        view.labels.update(rule.labels)
        if rule.action == "count":
            counted.append(rule.name)
            continue
        return _rule_verdict(rule, found, view.labels, counted)
    if not counted and not view.labels:
        return _default_verdict(acl)
    return _default_verdict(acl, tuple(sorted(view.labels)), tuple(counted))


def _rule_verdict(rule: CompiledRule, found: Match, labels: set[str], counted: list[str]) -> Verdict:
    action = Action.BLOCK if rule.action == "block" else Action.ALLOW
    detail = f" ({found.detail})" if found.detail else ""
    where = f" on {found.field}" if found.field else ""
    return Verdict(
        action=action,
        rule=rule.name,
        labels=tuple(sorted(labels)),
        counted=tuple(counted),
        field=found.field or None,
        value=found.value[:VALUE_LIMIT] if found.field else None,
        reason=f"rule {rule.name} matched{where}{detail}",
        response=rule.response if action is Action.BLOCK else None,
    )


def _default_verdict(
    acl: CompiledAcl, labels: tuple[str, ...] = (), counted: tuple[str, ...] = ()
) -> Verdict:
    # The common outcome; without labels or counts it is the same object every time (frozen
    # dataclasses cost ~1 µs to build, a tenth of the whole evaluation budget).
    if not labels and not counted:
        cached = _DEFAULTS.get(id(acl))
        if cached is not None and cached[0] is acl:
            return cached[1]
    blocked = acl.default_action == "block"
    verdict = Verdict(
        action=Action.BLOCK if blocked else Action.ALLOW,
        rule=None,
        labels=labels,
        counted=counted,
        field=None,
        value=None,
        reason=f"no terminating rule matched; default action {acl.default_action}",
        response=acl.default_response if blocked else None,
    )
    if not labels and not counted:
        if len(_DEFAULTS) > 64:
            _DEFAULTS.clear()
        _DEFAULTS[id(acl)] = (acl, verdict)
    return verdict


_DEFAULTS: dict[int, tuple[CompiledAcl, Verdict]] = {}
