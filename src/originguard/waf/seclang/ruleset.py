# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""A compiled rule set's data: phases, settings, the prefilter and what transactions share.

`engine.RuleSet` adds the evaluation entry points; the transaction state (`runtime`) reads this.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from originguard.waf.seclang.chains import TransformTable
from originguard.waf.seclang.compile import Compiled
from originguard.waf.seclang.memo import Memo
from originguard.waf.seclang.model import Settings
from originguard.waf.seclang.prefilter_wiring import wire
from originguard.waf.seclang.prefix import PhaseStart

# (the chains that leave a value of one signature unchanged, the (chain, multiMatch) pairs to run)
IdentityPlan = tuple[frozenset[int], tuple[tuple[int, bool], ...]]


class RuleSetData:
    """The compiled rules and the results their transactions share."""

    def __init__(self, compiled: Compiled, data_dirs: tuple[Path, ...]) -> None:
        self.phases = compiled.phases
        self.settings: Settings = compiled.settings
        self.rules_by_id = compiled.rules_by_id
        self.data_dirs = data_dirs
        self.transforms = TransformTable(compiled.chains)
        self.prefilter = wire(self.phases, data_dirs)
        # Shared by every transaction of this rule set: (chain, value) → candidate keys. Browsers
        # send the same User-Agent, Accept and cookie values request after request.
        self.scan_cache: Memo[tuple[int, bytes], frozenset[int]] = Memo()
        # collection → the (chain, multiMatch) pairs its values are scanned under by prunable
        # rules; and (collection, value) → every key the value matches under them, shared by
        # the transactions of this rule set (headers repeat request after request).
        chains_of: dict[str, set[tuple[int, bool]]] = {}
        self.value_keys: Memo[tuple[str, bytes], frozenset[int]] = Memo()
        self.any_scan_cache: Memo[bytes, frozenset[int]] = Memo()  # transformed value → Prefilter.scan_any
        # (collection, TransformTable.signature) → (chains leaving the value unchanged, the rest)
        self.identity_plans: Memo[tuple[str, bytes], IdentityPlan] = Memo()
        self.dynamic_operators: dict[tuple[int, str], Any] = {}  # (id(link), parameter) → operator
        self.phase1_start: PhaseStart | None = None  # set by engine.RuleSet once it can run rules
        for rules in self.phases.values():
            for rule in rules:
                first = rule.links[0] if rule.links and not rule.is_marker else None
                if first is not None and first.prefilter_key >= 0 and first.static_targets:
                    rule.quick = ((first.target_key, first.chain_id, first.multi_match), first.prefilter_key)
                    if not any(spec.counting for spec in first.variables):
                        rule.prunable = True
                        for spec in first.variables:
                            chains_of.setdefault(spec.collection, set()).add(
                                (first.chain_id, first.multi_match)
                            )
                if first is not None and len(first.variables) == 1 and not first.exclusions:
                    spec = first.variables[0]
                    plain = first.chain_id == 0 and not first.multi_match and not first.op_dynamic
                    if plain and spec.collection == "TX" and spec.key is not None and spec.key_regex is None:
                        rule.tx_test = (spec.key, spec.counting, first.operator)
                        rule.tx_simple = (
                            len(rule.links) == 1
                            and not (
                                first.setvars or first.ctls or first.capture or first.msg or first.logdata
                            )
                            and first.severity is None
                        )

        self.value_chains: dict[str, tuple[tuple[int, bool], ...]] = {
            coll: tuple(sorted(pairs)) for coll, pairs in sorted(chains_of.items())
        }
