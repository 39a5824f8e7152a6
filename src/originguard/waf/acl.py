"""A web ACL compiled for evaluation: its rules with ready matchers, the plan and the evaluator.

Built by `compile`, read by `evaluate`: the types live here so the two do not import each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from originguard.waf.codegen import Evaluator
from originguard.waf.crs_match import CrsRule
from originguard.waf.fields import Matcher, SlotFn
from originguard.waf.plan import Plan
from originguard.waf.ratelimit import Direct
from originguard.waf.verdict import BlockReply, Verdict


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """One rule ready to run; an `owasp-crs` group becomes one of these (CRS scores inside it)."""

    name: str
    action: Literal["allow", "block", "count"]
    labels: tuple[str, ...]
    matcher: Matcher
    response: BlockReply
    direct: Direct | None = None  # the matcher as a function of the request alone, when it needs no slot


@dataclass(frozen=True, slots=True)
class CompiledAcl:
    """A web ACL compiled for evaluation: rules in priority order and the per-request slot functions."""

    rules: tuple[CompiledRule, ...]
    default_action: Literal["allow", "block"]
    default_response: BlockReply
    slots: tuple[SlotFn, ...]
    body_limit: int  # bytes of body the edge should hand over (body_inspection_kib)
    plan: Plan  # which rules a request could match, tested per field before the rules run
    evaluator: Evaluator  # the plan as one generated function (`codegen`), called by `evaluate`
    default_verdict: Verdict  # the verdict without labels or counts, built once
    # The `owasp-crs` rules, with their rule's action, labels and block reply: origin responses go
    # through those with response inspection on when the cache fills (`evaluate_response`).
    crs: tuple[tuple[CrsRule, CompiledRule], ...] = ()

    @property
    def rule_names(self) -> tuple[str, ...]:
        """Every compiled rule name, for stats and admin views."""
        return tuple(rule.name for rule in self.rules)
