# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Evaluate a compiled web ACL against one request: the first terminating rule decides."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, Literal

from originguard.waf.acl import CompiledAcl, CompiledRule
from originguard.waf.fields import RequestView
from originguard.waf.rate import RateState
from originguard.waf.request import Match, WafRequest
from originguard.waf.verdict import Action, BlockReply, Verdict

VALUE_LIMIT: Final = 64  # characters of a matched value kept in a verdict (enough to see the attack)


def evaluate(acl: CompiledAcl, request: WafRequest, now: float, rate: RateState) -> Verdict:
    """Run `acl` on `request` at time `now`; count rules record and continue, allow/block stop."""
    # The plan (gates that skip rules which cannot match) runs as one generated function per ACL
    # (`codegen`); it gives the verdict of `evaluate_reference`, which a property test checks.
    verdict: Verdict = acl.evaluator(request, now, rate)
    return verdict


def rule_runner(
    rules: tuple[CompiledRule, ...], exact: int = 0
) -> Callable[[int, RequestView], Verdict | None]:
    """Run the rules whose bits are set in a mask, in priority order: the verdict of the first to stop.

    A count rule in `exact` (marked only when it matches, `Plan.exact`) counts without its matcher: a
    geo label on every request cost its lookup again and a Match it never used.
    """
    counts = exact & sum(1 << index for index, rule in enumerate(rules) if rule.action == "count")

    def run(mask: int, view: RequestView) -> Verdict | None:
        while mask:
            lowest = mask & -mask
            mask ^= lowest
            rule = rules[lowest.bit_length() - 1]
            if lowest & counts:
                view.labels.update(rule.labels)
                view.counted.append(rule.name)
                continue
            found = rule.matcher(view)
            if found is None:
                continue
            view.labels.update(rule.labels)
            if rule.action != "count":
                return _rule_verdict(rule, found, view.labels, view.counted)
            view.counted.append(rule.name)
        return None

    return run


def rule_matched(rule: CompiledRule) -> Callable[[Match, RequestView], Verdict | None]:
    """What `rule_runner` does when `rule` matches, for rules the generated evaluator runs itself."""

    def matched(found: Match, view: RequestView) -> Verdict | None:
        view.labels.update(rule.labels)
        if rule.action != "count":
            return _rule_verdict(rule, found, view.labels, view.counted)
        view.counted.append(rule.name)
        return None

    return matched


def default_verdict(
    default_action: Literal["allow", "block"],
    default_response: BlockReply,
    labels: tuple[str, ...] = (),
    counted: tuple[str, ...] = (),
) -> Verdict:
    """The verdict when no terminating rule matched."""
    blocked = default_action == "block"
    return Verdict(
        action=Action.BLOCK if blocked else Action.ALLOW,
        rule=None,
        labels=labels,
        counted=counted,
        field=None,
        value=None,
        reason=f"no terminating rule matched; default action {default_action}",
        response=default_response if blocked else None,
    )


def evaluate_reference(acl: CompiledAcl, request: WafRequest, now: float, rate: RateState) -> Verdict:
    """`evaluate` without the plan: every rule in priority order (the definition tests compare against)."""
    view = RequestView(request, acl.slots, now, rate)
    for rule in acl.rules:
        found = rule.matcher(view)
        if found is None:
            continue
        view.labels.update(rule.labels)
        if rule.action == "count":
            view.counted.append(rule.name)
            continue
        return _rule_verdict(rule, found, view.labels, view.counted)
    if not view.counted and not view.labels:
        return _default_verdict(acl)
    return _default_verdict(acl, tuple(sorted(view.labels)), tuple(view.counted))


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
        crs=found.crs,
    )


def _default_verdict(
    acl: CompiledAcl, labels: tuple[str, ...] = (), counted: tuple[str, ...] = ()
) -> Verdict:
    if not labels and not counted:
        return acl.default_verdict  # prebuilt: frozen dataclasses cost ~1 µs to build
    return default_verdict(acl.default_action, acl.default_response, labels, counted)


def evaluate_response(acl: CompiledAcl, request: WafRequest, response: Any) -> Verdict | None:
    """Run the ACL's `owasp-crs` rules on an origin response (a `seclang.HttpResponse`) at cache fill.

    None when no rule matched. The ACL's default action is not applied: it is for requests, and a
    response only ever gets blocked by a rule that found something in it.
    """
    labels: set[str] = set()
    counted: list[str] = []
    for crs_rule, rule in acl.crs:
        if not crs_rule.group.response_inspection.enabled:
            continue
        found = crs_rule.match_response(request, response)
        if found is None:
            continue
        labels.update(rule.labels)
        labels.update(f"{crs_rule.label_prefix}{rule_id}" for rule_id in found.crs.rule_ids)
        if rule.action != "count":
            return _rule_verdict(rule, found, labels, counted)
        counted.append(rule.name)
    if not counted:
        return None
    return Verdict(
        action=Action.ALLOW,
        rule=None,
        labels=tuple(sorted(labels)),
        counted=tuple(counted),
        field=None,
        value=None,
        reason=f"response counted by {', '.join(counted)}",
        response=None,
    )
