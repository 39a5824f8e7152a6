# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""The phase loop: targets → transforms → operator → actions, with ModSecurity v3's semantics.

v3 details kept on purpose (checked against libmodsecurity 3.0.15): a rule is tried on every value
of every target, and each match runs the link's setvar/msg/logdata again (a rule matching two ARGS
adds its score twice); setvar on a chain's first link runs even when a later link fails; ctl, skip,
skipAfter and the disruptive action run only after the whole chain matched; disruptive actions run
only with the engine On; a rule without a disruptive action passes (the SecDefaultAction's applies
to `block` only); deny without status is 403.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

from originguard.waf.seclang import runtime
from originguard.waf.seclang.compile import Compiled, compile_directives
from originguard.waf.seclang.model import Link, Rule
from originguard.waf.seclang.parse import Directive, parse_file, parse_text
from originguard.waf.seclang.prefix import PhaseStart, opening
from originguard.waf.seclang.ruleset import RuleSetData
from originguard.waf.seclang.transaction import HttpRequest, HttpResponse, Verdict


def load_ruleset(
    paths: Sequence[Path],
    *,
    before: str = "",
    after: str = "",
    data_dirs: Sequence[Path] = (),
) -> RuleSet:
    """Parse and compile rule files (in the given order) with setup text before and after them."""
    directives: list[Directive] = []
    if before:
        directives += parse_text(before, "<before>")
    for path in paths:
        directives += parse_file(Path(path))
    if after:
        directives += parse_text(after, "<after>")
    dirs = tuple(Path(d) for d in data_dirs) or tuple(sorted({Path(p).parent for p in paths}))
    return RuleSet(compile_directives(directives, dirs), dirs)


class RuleSet(RuleSetData):
    """A compiled rule set; `transaction(request)` evaluates one request against it."""

    def __init__(self, compiled: Compiled, data_dirs: tuple[Path, ...]) -> None:
        super().__init__(compiled, data_dirs)
        self.phase1_start = _phase1_start(self)

    def transaction(self, request: HttpRequest) -> Transaction:
        """A new transaction for `request`."""
        return Transaction(self, request)

    def evaluate_request(self, request: HttpRequest) -> Verdict:
        """Phases 1 and 2 (and 5): the verdict on a request."""
        tx = Transaction(self, request)
        if tx.request_headers() is None:
            tx.request_body()
        tx.logging()
        return tx.verdict()


class Transaction(runtime.TransactionState):
    """One request (and its response) through the phases, like a ModSecurity transaction."""

    def request_headers(self) -> Verdict | None:
        """Phase 1."""
        return self._phase(1)

    def request_body(self) -> Verdict | None:
        """Phase 2, after the request body processor ran."""
        if not self.interrupted:
            blocked = self.process_body()
            if blocked:
                return self.verdict()
        return self._phase(2)

    def response_headers(self, response: HttpResponse) -> Verdict | None:
        """Phase 3."""
        self.add_response(response)
        return self._phase(3)

    def response_body(self) -> Verdict | None:
        """Phase 4 (RESPONSE_BODY only with SecResponseBodyAccess and a listed MIME type)."""
        return self._phase(4)

    def logging(self) -> None:
        """Phase 5."""
        if self.mode != "Off":
            self._run(5)

    def verdict(self) -> Verdict:
        """What the transaction decided so far."""
        return Verdict(
            self.interrupted,
            self.status,
            self.interrupting_rule,
            tuple(self.matched),
            self.score(b"blocking_inbound_anomaly_score", b"inbound_anomaly_score"),
            self.score(b"blocking_outbound_anomaly_score", b"outbound_anomaly_score"),
        )

    def _phase(self, phase: int) -> Verdict | None:
        # One exit on purpose: mypy keeps `self.interrupted` narrowed to False across `_run`,
        # and the compiled code would then refuse the Verdict a blocking rule produced.
        if not (self.interrupted or self.allowed or self.mode == "Off"):
            self._run(phase)
        return self.verdict() if self.interrupted else None

    def _run(self, phase: int) -> None:
        start = 0
        if phase == 1:
            begin = self.ruleset.phase1_start
            if begin is not None:
                self.resume(begin)
                if begin.aside and self.run_rules(phase, 0, -1, begin.aside) < 0:
                    return
                start = begin.resume_at
        self.run_rules(phase, start, -1)

    def resume(self, begin: PhaseStart) -> None:
        """The state the request-independent start of phase 1 leaves (prefix.py), without running it."""
        self.persistent["TX"].update(begin.tx)
        self.matched.extend(begin.matched)
        self.matched_var, self.matched_var_name = begin.matched_var, begin.matched_var_name
        self.matched_vars = list(begin.matched_vars)
        self.rule, self.msg, self.logdata, self.severity = (
            begin.rule,
            begin.msg,
            begin.logdata,
            begin.severity,
        )

    def run_rules(
        self,
        phase: int,
        start: int,
        stop: int,
        rules: Sequence[Rule] | None = None,
        omit: frozenset[int] = frozenset(),
    ) -> int:
        """Run the phase's rules (or `rules`) from index `start` until the end, or until the next
        rule's index is `stop` or more (-1: no stop), passing over the indices in `omit`; the index
        reached, -1 when a rule stopped the phase."""
        if rules is None:
            rules = self.ruleset.phases.get(phase, [])
        i, n = start, len(rules)
        if 0 <= stop < n:
            n = stop
        group_cache = self.group_cache
        tx = self.persistent["TX"]
        while i < n:
            rule = rules[i]
            i += 1
            if omit and i - 1 in omit:
                self.reached.append(rule)
                continue
            quick = rule.quick
            if quick is not None:
                if rule.prunable:
                    live = self.live_keys
                    if live is None:
                        live = self.phase_live_keys()
                    if quick[1] not in live:
                        continue  # no value of the phase matches its first link's pattern
                candidates = group_cache.get(quick[0])
                if candidates is None:
                    candidates = self.group_candidates(rule.links[0])
                if quick[1] not in candidates:
                    continue  # no value of its targets can match its first link
            tx_test = rule.tx_test
            if tx_test is not None:
                # A miss here is the rule's miss; a hit runs the whole rule (exclusions, actions).
                entry = tx.get(tx_test[0])
                if tx_test[1]:
                    if not tx_test[2].match(b"1" if entry is not None else b"0", None):
                        continue
                elif entry is None or not tx_test[2].match(entry[1], None):
                    continue
            if rule.is_marker or (self.removed_any and self.is_removed(rule)):
                continue
            if rule.tx_simple and tx_test is not None and not self.target_exclusions:
                # A one-link TX test with no actions of its own (CRS's `@lt N ... skipAfter`):
                # its match is recorded without the general path's target resolution.
                self.record_tx(rule, tx_test, entry)  # `entry` as the test above read it
            elif not self._evaluate(rule):
                continue
            outcome = self.after_match(rule)
            if outcome == runtime.STOP:
                return -1
            if rule.skip_after:
                i = rule.skip_after_index
            elif rule.skip:
                i = _skip(rules, i, rule.skip)
        return i

    def _evaluate(self, rule: Rule) -> bool:
        self.begin_rule(rule)
        for link in rule.links:
            if not self._link(rule, link):
                return False
        self.record(rule)
        return True

    def _link(self, rule: Rule, link: Link) -> bool:
        if not link.variables:  # SecAction
            self.on_match(rule, link, "", None, b"")
            return True
        key = link.prefilter_key
        if key >= 0 and link.static_targets and key not in self.group_candidates(link):
            return False  # no value of these targets can match this pattern: O(1) after the first
        operator = link.operator if not link.op_dynamic else self.dynamic_operator(link)
        transforms = self.ruleset.transforms
        chain = link.chain_id
        # (no bound method kept on the transaction: it would make every transaction a reference
        # cycle, freed only by the collector, whose full passes were the engine's p99)
        prefiltered = key >= 0
        captures: list[bytes | None] | None = [] if link.capture else None
        matched = False
        for coll, name, value in self.targets(rule, link):
            if link.multi_match:
                values: Sequence[bytes] = transforms.all_steps(chain, value, self.cache)
            else:
                values = (transforms.apply(chain, value, self.cache),)
            for tv in values:
                if prefiltered and key not in self._candidates(coll, chain, tv):
                    continue
                if captures is not None:
                    captures.clear()
                if operator.match(tv, captures):
                    matched = True
                    if captures:
                        self.set_captures(captures)
                    self.on_match(rule, link, coll, name, tv)
        return matched


_NO_REQUEST: Final = HttpRequest(b"GET", b"/", b"HTTP/1.1", ())


def _phase1_start(ruleset: RuleSet) -> PhaseStart | None:
    """Phase 1's request-independent start, run once (None: nothing to skip, or it decides)."""
    count, aside = opening(ruleset.phases.get(1, []))
    if count == 0 or ruleset.settings.rule_engine == "Off":
        return None
    tx = Transaction(ruleset, _NO_REQUEST)
    index = tx.run_rules(1, 0, count, omit=aside)
    if index < 0 or tx.interrupted or tx.allowed or tx.removed_any:
        return None  # it blocks or allows every request (no crs-setup): run it as it is
    return PhaseStart(
        index,
        tuple(tx.reached),
        tuple(tx.persistent["TX"].items()),
        tuple(tx.matched),
        tx.matched_var,
        tx.matched_var_name,
        tuple(tx.matched_vars),
        tx.rule,
        tx.msg,
        tx.logdata,
        tx.severity,
    )


def _skip(rules: Sequence[Rule], i: int, count: int) -> int:
    # skip:N counts rules, not markers (libmodsecurity 3.0.15: `skip:1` before a marker skips
    # the rule after the marker).
    while count and i < len(rules):
        if not rules[i].is_marker:
            count -= 1
        i += 1
    return i
