"""Compile a web ACL config once into frozen rules of ready matchers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final, Literal

from originguard.config.crs import CrsGroup
from originguard.config.waf import BlockResponse, ManagedStatement, WafRule, WebAclConfig
from originguard.waf.acl import CompiledAcl, CompiledRule
from originguard.waf.codegen import generate
from originguard.waf.crs_load import CrsLoadError, load_crs
from originguard.waf.crs_match import CrsRule
from originguard.waf.crs_setup import crs_sources
from originguard.waf.evaluate import default_verdict, rule_matched, rule_runner
from originguard.waf.fields import RequestView, SlotTable
from originguard.waf.geo import GeoTable, load_geo_table
from originguard.waf.plan import Planner
from originguard.waf.request import Match
from originguard.waf.runpoints import RuleHooks
from originguard.waf.statements import StatementCompiler
from originguard.waf.verdict import BlockReply, Verdict

_BUNDLED: list[GeoTable] = []
_LABELLED_LIMIT: Final = 256  # distinct (labels, counted) default verdicts kept per ACL


def compile_acl(
    config: WebAclConfig,
    *,
    geo_table: GeoTable | None = None,
    resolve: Callable[[str], Path] | None = None,
) -> CompiledAcl:
    """Compile `config` (regexes, search strings, CIDR sets, transforms) into a `CompiledAcl`.

    `resolve` turns the relative paths of an `owasp-crs` group into paths (the config file's
    directory). A CRS file that does not load raises `CrsLoadError` (file, line, problem) with
    `rule` set to the rule name.
    """
    if geo_table is None:
        if not _BUNDLED:
            _BUNDLED.append(load_geo_table())
        geo_table = _BUNDLED[0]
    slots = SlotTable()
    compiler = StatementCompiler(slots, geo_table)
    planner = Planner(compiler)
    default_response = block_reply(config.block_response)
    rules: list[CompiledRule] = []
    crs: list[tuple[CrsRule, CompiledRule]] = []
    for rule in sorted(config.rules, key=lambda r: r.priority):
        response = block_reply(rule.response) if rule.response is not None else default_response
        if isinstance(rule.statement, ManagedStatement):
            crs_rule, compiled = _crs(rule, rule.statement.managed, response, config, resolve)
            crs.append((crs_rule, compiled))
        else:
            matcher = compiler.compile(rule.statement, rule.name)
            direct = compiler.direct(rule.statement, rule.name)
            compiled = CompiledRule(rule.name, rule.action, tuple(rule.labels), matcher, response, direct)
        planner.add(len(rules), rule.statement, compiled.labels)
        rules.append(compiled)
    plan = planner.build()  # before reading the slots: planning may add some
    fns = slots.fns()
    default = default_verdict(config.default_action, default_response)

    # Count rules (a geo label on every request) make labelled defaults common; building the frozen
    # verdict costs ~1.5 µs, a lookup of the few distinct ones a tenth of that.
    labelled: dict[tuple[tuple[str, ...], tuple[str, ...]], Verdict] = {}

    def finish(labels: set[str], counted: list[str]) -> Verdict:
        key = (tuple(sorted(labels)), tuple(counted))
        verdict = labelled.get(key)
        if verdict is None:
            if len(labelled) >= _LABELLED_LIMIT:
                labelled.clear()
            verdict = labelled[key] = default_verdict(config.default_action, default_response, *key)
        return verdict

    compiled_rules = tuple(rules)
    inline = {
        index: (rule.direct, rule_matched(rule))
        for index, rule in enumerate(compiled_rules)
        if rule.direct is not None and plan.always >> index & 1
    }
    may_count = any(rule.action == "count" for rule in compiled_rules)
    hooks = RuleHooks(rule_runner(compiled_rules, plan.exact), inline, finish, default, may_count)
    evaluator = generate(plan, slots.recipes, fns, hooks)
    return CompiledAcl(
        rules=compiled_rules,
        default_action=config.default_action,
        default_response=default_response,
        slots=fns,
        body_limit=config.body_inspection_kib * 1024,
        plan=plan,
        evaluator=evaluator,
        default_verdict=default,
        crs=tuple(crs),
    )


def block_reply(response: BlockResponse) -> BlockReply:
    """Prebuild a block response; content-type defaults to text/plain."""
    headers = {name.lower(): value for name, value in response.headers.items()}
    headers.setdefault("content-type", "text/plain; charset=utf-8")
    return BlockReply(response.status, tuple(headers.items()), response.body.encode("utf-8"))


def _crs(
    rule: WafRule,
    group: CrsGroup,
    response: BlockReply,
    config: WebAclConfig,
    resolve: Callable[[str], Path] | None,
) -> tuple[CrsRule, CompiledRule]:
    """One rule running the whole Core Rule Set: CRS's own anomaly scoring decides inside it."""
    mode: Literal["block", "count"] = "count" if rule.action == "count" else "block"
    body_limit = config.body_inspection_kib * 1024
    sources = crs_sources(group, mode=mode, body_limit=body_limit, resolve=resolve)
    try:
        loaded = load_crs(sources)
    except CrsLoadError as exc:
        exc.rule = rule.name
        raise
    crs_rule = CrsRule(rule.name, group, mode, loaded, sources.stateless)

    def match(view: RequestView) -> Match | None:
        return crs_rule.match_request(view.request, view.labels)

    compiled = CompiledRule(rule.name, rule.action, tuple(rule.labels), match, response)
    return crs_rule, compiled
