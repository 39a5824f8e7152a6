"""Directives → the compiled rule set: phases, chains, markers, defaults, removals and updates.

ModSecurity v3 semantics: SecRuleRemoveBy* and SecRuleUpdateTargetById apply to every rule whatever
the order of the directives (v3 keeps them as exceptions checked at evaluation); markers exist in
every phase; `skipAfter` jumps past the next marker of that name in the phase, or to the phase end.
Whatever this module does not implement is refused with file:line, never ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from originguard.errors import SecLangError
from originguard.waf.seclang import actions as act
from originguard.waf.seclang import variables as var
from originguard.waf.seclang.model import DYNAMIC_COLLECTIONS, Link, Rule, Settings
from originguard.waf.seclang.parse import Directive, parse_actions, parse_variables
from originguard.waf.seclang.settings import apply_setting, is_setting

PHASES = (1, 2, 3, 4, 5)


class Compiled(NamedTuple):
    """Everything the phase loop needs, built once."""

    phases: dict[int, list[Rule]]
    settings: Settings
    chains: list[tuple[str, ...]]
    rules_by_id: dict[int, Rule]


class _Default(NamedTuple):
    disruptive: str
    status: int | None
    log: bool
    transforms: tuple[str, ...]


_PLAIN_DEFAULT = _Default("pass", None, True, ())


def compile_directives(directives: Sequence[Directive], data_dirs: Sequence[Path]) -> Compiled:
    """Build the rule set from directives in load order."""
    builder = _Builder(tuple(data_dirs))
    for d in directives:
        builder.add(d)
    return builder.finish()


class _Builder:
    def __init__(self, data_dirs: tuple[Path, ...]) -> None:
        self.data_dirs = data_dirs
        self.settings = Settings()
        self.defaults: dict[int, _Default] = {}
        self.order: list[Rule] = []  # rules and markers in load order
        self.open_chain: Rule | None = None
        self.chains: dict[tuple[str, ...], int] = {(): 0}
        self.target_keys: dict[tuple[Any, ...], int] = {}
        self.remove_ids: list[tuple[int, int]] = []
        self.remove_tags: set[str] = set()
        self.remove_msgs: set[str] = set()
        self.target_updates: list[tuple[Directive, str, str]] = []  # (directive, id-spec, variables)
        self.action_updates: list[tuple[Directive, str, str]] = []

    def add(self, d: Directive) -> None:
        if self.open_chain is not None and d.name != "SecRule":
            raise SecLangError(d.file, d.line, d.text, "a chain must continue with SecRule")
        if d.name in ("SecRule", "SecAction"):
            self._rule(d)
        elif d.name == "SecMarker":
            marker = Rule(d.file, d.line)
            marker.is_marker = True
            marker.marker = _one_arg(d)
            self.order.append(marker)
        elif d.name == "SecDefaultAction":
            self._default(d)
        elif d.name == "SecRuleRemoveById":
            self.remove_ids.extend(act.id_ranges(" ".join(d.args), d))
        elif d.name == "SecRuleRemoveByTag":
            self.remove_tags.update(d.args)
        elif d.name == "SecRuleRemoveByMsg":
            self.remove_msgs.update(d.args)
        elif d.name in ("SecRuleUpdateTargetById", "SecRuleUpdateTargetByTag"):
            if len(d.args) != 2:
                raise SecLangError(d.file, d.line, d.text, "replacing targets is not supported")
            self.target_updates.append((d, d.args[0], d.args[1]))
        elif d.name == "SecRuleUpdateActionById":
            if len(d.args) != 2:
                raise SecLangError(d.file, d.line, d.text, "expects an id and an action list")
            self.action_updates.append((d, d.args[0], d.args[1]))
        elif d.name == "SecComponentSignature":
            signatures = (*self.settings.component_signatures, _one_arg(d))
            self.settings = self.settings._replace(component_signatures=signatures)
        elif is_setting(d.name):
            self.settings = apply_setting(self.settings, d)
        else:
            raise SecLangError(d.file, d.line, d.text, f"directive {d.name} is not supported")

    def _default(self, d: Directive) -> None:
        parsed = parse_actions(_one_arg(d), d.file, d.line)
        phase, disruptive, status, log = 2, "pass", None, True
        transforms: list[str] = []
        for a in parsed:
            if a.name == "phase":
                phase = act.phase_number(a.arg, d)
            elif a.name in act.DISRUPTIVE:
                disruptive = a.name
            elif a.name == "status":
                status = act.integer(a.arg, d)
            elif a.name in ("log", "nolog"):
                log = a.name == "log"
            elif a.name == "t":
                transforms = [] if a.arg.lower() == "none" else [*transforms, a.arg]
            elif a.name not in ("auditlog", "noauditlog", "tag"):
                raise SecLangError(
                    d.file, d.line, d.text, f"action {a.name} in SecDefaultAction is not supported"
                )
        self.defaults[phase] = _Default(disruptive, status, log, tuple(transforms))

    def _rule(self, d: Directive) -> None:
        link = Link()
        if d.name == "SecRule":
            link.variables, link.exclusions = var.compile_targets(d.variables, d)
            link.op_name, link.op_param, link.op_negated = d.operator, d.operator_arg, d.operator_negated
        parent = self.open_chain
        rule = parent if parent is not None else Rule(d.file, d.line)
        chained = act.apply_actions(rule, link, d.actions, d, is_start=parent is None)
        rule.links.append(link)
        if parent is None:
            self.order.append(rule)
        self.open_chain = rule if chained else None

    def finish(self) -> Compiled:
        if self.open_chain is not None:
            r = self.open_chain
            raise SecLangError(r.file, r.line, "", "the last rule of a chain has `chain`")
        by_id: dict[int, Rule] = {}
        for rule in self.order:
            if not rule.is_marker:
                if rule.rule_id in by_id:
                    raise SecLangError(rule.file, rule.line, "", f"rule id {rule.rule_id} is defined twice")
                by_id[rule.rule_id] = rule
        self._apply_updates(by_id)
        kept = [r for r in self.order if r.is_marker or not self._removed(r)]
        phases: dict[int, list[Rule]] = {p: [] for p in PHASES}
        for rule in kept:
            for p in PHASES if rule.is_marker else (rule.phase,):
                phases[p].append(rule)
        for rule in kept:
            if not rule.is_marker:
                self._finish_rule(rule)
        for rules in phases.values():
            _resolve_skips(rules)
        chains = [c for c, _ in sorted(self.chains.items(), key=lambda item: item[1])]
        return Compiled(phases, self.settings, chains, {r.rule_id: r for r in kept if not r.is_marker})

    def _removed(self, rule: Rule) -> bool:
        if any(lo <= rule.rule_id <= hi for lo, hi in self.remove_ids):
            return True
        if self.remove_tags and self.remove_tags.intersection(rule.tags):
            return True
        msg = rule.links[0].msg
        return bool(self.remove_msgs) and msg is not None and msg in self.remove_msgs

    def _apply_updates(self, by_id: dict[int, Rule]) -> None:
        for d, which, targets in self.target_updates:
            refs = parse_variables(targets, d.file, d.line)
            added, excluded = var.compile_targets(refs, d, allow_only_exclusions=False)
            for rule in _select(by_id, which, d):
                first = rule.links[0]
                first.variables += tuple(v for v in added if v not in first.variables)
                first.exclusions += excluded
        for d, which, text in self.action_updates:
            for rule in _select(by_id, which, d, by_tag=False):
                act.apply_actions(
                    rule, rule.links[0], parse_actions(text, d.file, d.line), d, is_start=True, update=True
                )

    def _finish_rule(self, rule: Rule) -> None:
        default = self.defaults.get(rule.phase, _PLAIN_DEFAULT)
        # v3 takes the default's disruptive action only for `block` (rule_with_actions.cc
        # executeAction: "rule does not contain block"); a rule with none passes.
        if rule.disruptive is None:
            rule.disruptive = "pass"
        elif rule.disruptive == "block":
            rule.disruptive = default.disruptive  # type: ignore[assignment]
            if rule.status is None:
                rule.status = default.status
        if rule.log is None:
            rule.log = default.log
        for link in rule.links:
            transforms = link.transforms
            if default.transforms and "none" not in transforms:
                transforms = default.transforms + transforms
            chain = tuple(t for t in transforms if t != "none")
            link.transforms = chain
            link.chain_id = self.chains.setdefault(chain, len(self.chains))
            signature = (link.variables, link.exclusions)
            link.target_key = self.target_keys.setdefault(signature, len(self.target_keys))
            link.static_targets = bool(link.variables) and not any(
                v.collection in DYNAMIC_COLLECTIONS for v in link.variables
            )
            act.build_link_operator(link, rule, self.data_dirs)


def _select(by_id: dict[int, Rule], which: str, d: Directive, *, by_tag: bool | None = None) -> list[Rule]:
    if d.name.endswith("ByTag") and by_tag is not False:
        return [r for r in by_id.values() if which in r.tags]
    ranges = act.id_ranges(which, d)
    return [r for r in by_id.values() if any(lo <= r.rule_id <= hi for lo, hi in ranges)]


def _resolve_skips(rules: list[Rule]) -> None:
    markers: dict[str, list[int]] = {}
    for i, rule in enumerate(rules):
        if rule.is_marker:
            markers.setdefault(rule.marker, []).append(i)
    for i, rule in enumerate(rules):
        if rule.is_marker or not rule.skip_after:
            continue
        after = [m for m in markers.get(rule.skip_after, ()) if m > i]
        rule.skip_after_index = after[0] + 1 if after else len(rules)


def _one_arg(d: Directive) -> str:
    if len(d.args) != 1:
        raise SecLangError(d.file, d.line, d.text, "expects one argument")
    return d.args[0]
