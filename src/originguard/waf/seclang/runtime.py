# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Per-transaction state of the SecLang engine: variables, TX, matches, ctl effects.

`engine.py` holds the phase loop; this module what the loop reads and writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from originguard.waf.seclang import macros
from originguard.waf.seclang.bodies import BodyLimits, BodyResult, default_processor, parse_body
from originguard.waf.seclang.ctl import apply_ctl
from originguard.waf.seclang.memo import SHARED_VALUE, shared_keys
from originguard.waf.seclang.model import Link, Rule, VarSpec
from originguard.waf.seclang.reqvars import VarStore, add_body, add_response, request_vars
from originguard.waf.seclang.ruleset import RuleSetData
from originguard.waf.seclang.transaction import HttpRequest, HttpResponse, MatchedRule
from originguard.waf.seclang.variables import SCALARS, selects

CONTINUE: Final = 0
STOP: Final = 1
_MAX_DATA: Final = 200
_DYNAMIC_OPERATORS: Final = 1024
_PERSISTENT: Final = frozenset({"TX", "IP", "GLOBAL", "SESSION", "USER", "RESOURCE"})
# (collection, key — None for a scalar or a count —, value)
Target = tuple[str, bytes | None, bytes]


class TransactionState:
    """Variables, collections and decisions of one transaction."""

    def __init__(self, ruleset: RuleSetData, request: HttpRequest) -> None:
        self.ruleset = ruleset
        self.request = request
        settings = ruleset.settings
        self.mode = settings.rule_engine
        self.store: VarStore = request_vars(request, settings.argument_separator)
        self.persistent: dict[str, dict[bytes, tuple[bytes, bytes]]] = {c: {} for c in _PERSISTENT}
        self.cache: dict[tuple[int, bytes], bytes] = {}
        self.matched: list[MatchedRule] = []
        self.interrupted = False
        self.allowed = False
        self.status: int | None = None
        self.interrupting_rule: int | None = None
        self.removed_any = False
        self.removed_ranges: list[tuple[int, int]] = []
        self.removed_tags: set[str] = set()
        self.removed_msgs: set[str] = set()
        self.target_exclusions: dict[int, list[VarSpec]] = {}
        self.tag_exclusions: dict[str, list[VarSpec]] = {}
        self.body_access = settings.request_body_access
        content_type = next((v for k, v in request.headers if k.lower() == b"content-type"), b"")
        self.content_type = content_type
        self.processor: str | None = default_processor(content_type)
        if self.processor is not None:
            self.store.scalars["REQBODY_PROCESSOR"] = self.processor.encode()
        self.matched_var = b""
        self.matched_var_name = b""
        self.matched_vars: list[tuple[bytes, bytes, bytes]] = []
        self.rule: Rule | None = None
        self.msg = b""
        self.logdata = b""
        self.severity: str | None = None
        self.scan_cache: dict[tuple[str, int, bytes], frozenset[int]] = {}  # values over 4 KiB
        self.target_cache: dict[int, list[Target]] = {}
        self.group_cache: dict[tuple[int, int, bool], frozenset[int]] = {}
        self.live_keys: frozenset[int] | None = None  # phase_live_keys(), until the data changes
        self.reached: list[Rule] = []  # rules passed over by an `omit` of run_rules (prefix.py)

    # -- body and response -------------------------------------------------------------------
    def process_body(self) -> bool:
        """Run the body processor; True when the body limit rejected the request."""
        body = self.request.body
        settings = self.ruleset.settings
        if not self.body_access:
            add_body(self.store, b"", None)
            self.new_phase_data()
            return False
        if len(body) > settings.request_body_limit:
            if settings.request_body_limit_action == "Reject" and self.mode == "On":
                self.interrupted, self.status = True, 413
                return True
            body = body[: settings.request_body_limit]
        result: BodyResult | None = None
        if self.processor is not None and body:
            result = parse_body(self.processor, self.content_type, body, limits=BodyLimits())  # type: ignore[arg-type]
        add_body(self.store, body, result)
        self.new_phase_data()
        return False

    def add_response(self, response: HttpResponse) -> None:
        add_response(self.store, response)
        self.new_phase_data()
        settings = self.ruleset.settings
        ctype = self.store.scalars.get("RESPONSE_CONTENT_TYPE", b"").split(b";", 1)[0].strip().lower()
        if settings.response_body_access and ctype in settings.response_body_mime_types and response.body:
            self.store.scalars["RESPONSE_BODY"] = response.body[: settings.response_body_limit]
        self.new_phase_data()

    # -- targets -----------------------------------------------------------------------------
    def targets(self, rule: Rule, link: Link) -> list[Target]:
        """(collection, key or None, value) of every target of `link`, exclusions applied.

        Links naming only request collections share one resolution per transaction and phase
        (CRS repeats the same target lists on hundreds of rules)."""
        runtime_exclusions = (self.target_exclusions or self.tag_exclusions) and self._runtime_exclusions(
            rule
        )
        if link.static_targets and not runtime_exclusions:
            return self.targets_static(link)
        return self._resolve(link, link.exclusions + (runtime_exclusions or ()))

    def group_candidates(self, link: Link) -> frozenset[int]:
        """Every prefilter key some value of the link's (static) targets may match under its chain."""
        group = (link.target_key, link.chain_id, link.multi_match)
        hit = self.group_cache.get(group)
        if hit is None:
            found: set[int] = set()
            for coll, _, value in self.targets_static(link):
                found |= self._chain_keys(coll, link.chain_id, link.multi_match, value)
            hit = frozenset(found)
            self.group_cache[group] = hit
        return hit

    def _chain_keys(self, coll: str, chain: int, multi: bool, value: bytes) -> frozenset[int]:
        """The keys of `chain` whose pattern matches `value` transformed (with multiMatch, any
        of its intermediate values: every one is matched, so every one is scanned)."""
        transforms, cache = self.ruleset.transforms, self.cache
        if not multi:
            return self._candidates(coll, chain, transforms.apply(chain, value, cache))
        found: set[int] = set()
        for step in transforms.all_steps(chain, value, cache):
            found |= self._candidates(coll, chain, step)
        return frozenset(found)

    def targets_static(self, link: Link) -> list[Target]:
        hit = self.target_cache.get(link.target_key)
        if hit is None:
            hit = self._resolve(link, link.exclusions)
            self.target_cache[link.target_key] = hit
        return hit

    def _resolve(self, link: Link, exclusions: tuple[VarSpec, ...]) -> list[Target]:
        out: list[Target] = []
        for spec in link.variables:
            coll = spec.collection
            if coll in SCALARS:
                # v3's AnchoredVariable always yields one value, empty when never set
                # (libmodsecurity 3.0.15: `&REQUEST_BASENAME` is 1 and its value "" for "/").
                if spec.counting:
                    out.append((coll, None, b"1"))
                elif not any(x.collection == coll for x in exclusions):
                    out.append((coll, None, self._scalar(coll) or b""))
                continue
            if spec.counting:
                n = sum(1 for e in self._entries(coll, spec) if selects(spec, e[1]))
                out.append((spec.text, None, str(n).encode()))
                continue
            excl = [x for x in exclusions if x.collection == coll] if exclusions else None
            for key, lk, value in self._entries(coll, spec):
                if spec.key is not None:
                    if spec.key != lk:
                        continue
                elif spec.key_regex is not None and spec.key_regex.search(lk) is None:
                    continue
                if excl and any(selects(x, lk) for x in excl):
                    continue
                out.append((coll, key, value))
        return out

    def new_phase_data(self) -> None:
        """The request's variables changed (body, response): resolved targets are stale."""
        self.target_cache.clear()
        self.group_cache.clear()
        self.live_keys = None

    def phase_live_keys(self) -> frozenset[int]:
        """Every prefilter key some value of the request's collections matches, under any chain a
        prunable rule scans that collection with: a superset of each rule's own candidates
        (exclusions and selectors only take values away), from one lookup per repeated value."""
        ruleset = self.ruleset
        shared = ruleset.value_keys
        collections = self.store.collections
        found: set[int] = set()
        for coll, pairs in ruleset.value_chains.items():
            if coll in SCALARS:
                values: list[bytes] = [self._scalar(coll) or b""]
            else:
                values = [entry[2] for entry in collections.get(coll, ())]
            for value in values:
                small = len(value) <= SHARED_VALUE
                hit = shared.get((coll, value)) if small else None
                if hit is None:
                    hit = self._value_keys(coll, pairs, value)
                    if small:
                        shared.put((coll, value), hit, len(value))
                if hit:
                    found |= hit
        live = frozenset(found)
        self.live_keys = live
        return live

    def _value_keys(self, coll: str, pairs: tuple[tuple[int, bool], ...], value: bytes) -> frozenset[int]:
        """The keys `value` matches under `pairs`: each distinct transformed value scanned once
        against every pattern, the hits kept where the chain that produced it owns them."""
        ruleset = self.ruleset
        prefilter = ruleset.prefilter
        if prefilter is None:
            return frozenset()
        transforms, cache = ruleset.transforms, self.cache
        if len(value) > SHARED_VALUE:
            # A body: its per-chain scans are what the rules' own candidate groups read next,
            # and the all-pattern DFA would build far more states over 64 KiB than a chain's.
            found_large: set[int] = set()
            for chain, multi in pairs:
                found_large |= self._chain_keys(coll, chain, multi, value)
            return shared_keys(frozenset(found_large))
        signature = transforms.signature(value)
        plans = ruleset.identity_plans
        plan = plans.get((coll, signature))
        if plan is None:
            plan = transforms.split(pairs, signature)
            plans.put((coll, signature), plan, len(signature))
        # transformed value → the chains giving it
        produced: dict[bytes, set[int]] = {value: set(plan[0])} if plan[0] else {}
        for chain, multi in plan[1]:
            if multi:
                for step in transforms.all_steps(chain, value, cache):
                    produced.setdefault(step, set()).add(chain)
            else:
                produced.setdefault(transforms.apply(chain, value, cache), set()).add(chain)
        found: set[int] = set()
        key_chain = prefilter.key_chain
        shared = ruleset.any_scan_cache
        for output, chains in produced.items():
            small = len(output) <= SHARED_VALUE
            hits = shared.get(output) if small else None
            if hits is None:
                hits = prefilter.scan_any(output)
                if small:
                    shared.put(output, hits, len(output))
            for key in hits:
                if key_chain[key] in chains:
                    found.add(key)
        return shared_keys(frozenset(found))

    def _entries(self, coll: str, spec: VarSpec) -> Sequence[tuple[bytes, bytes, bytes]]:
        if coll in _PERSISTENT:
            store = self.persistent[coll]
            if spec.key is not None:
                hit = store.get(spec.key)
                return [(hit[0], spec.key, hit[1])] if hit is not None else ()
            return [(orig, lk, v) for lk, (orig, v) in store.items()]
        if coll == "MATCHED_VARS":
            return self.matched_vars
        if coll == "MATCHED_VARS_NAMES":
            return [(k, lk, k) for k, lk, _ in self.matched_vars]
        if coll == "RULE":
            return [
                (k.encode(), k.encode(), self.lookup("RULE", k)) for k in ("id", "msg", "severity", "logdata")
            ]
        return self.store.collections.get(coll, ())

    def _scalar(self, name: str) -> bytes | None:
        if name == "MATCHED_VAR":
            return self.matched_var
        if name == "MATCHED_VAR_NAME":
            return self.matched_var_name
        return self.store.scalars.get(name)

    def _runtime_exclusions(self, rule: Rule) -> tuple[VarSpec, ...]:
        extra = list(self.target_exclusions.get(rule.rule_id, ()))
        for tag in rule.tags:
            extra += self.tag_exclusions.get(tag, ())
        return tuple(extra)

    def _candidates(self, coll: str, chain: int, value: bytes) -> frozenset[int]:
        """The keys of `chain` whose pattern matches `value` (a value of `coll`). Short values
        share one scan across transactions; a long one (a body) is scanned only for the links
        that read `coll`: CRS keys ~150 patterns on the plain chain, 3 of which read the body."""
        prefilter = self.ruleset.prefilter
        if prefilter is None:
            return frozenset()
        if len(value) <= SHARED_VALUE:
            shared = self.ruleset.scan_cache
            key = (chain, value)
            hit = shared.get(key)
            if hit is None:
                hit = prefilter.scan(chain, value)
                shared.put(key, hit, len(value))
            return hit
        own = self.scan_cache
        long_key = (coll, chain, value)
        hit = own.get(long_key)
        if hit is None:
            hit = prefilter.scan_for(coll, chain, value)
            own[long_key] = hit
        return hit

    # -- matches and actions -----------------------------------------------------------------
    def begin_rule(self, rule: Rule) -> None:
        self.rule = rule
        self.matched_vars = []
        self.matched_var = self.matched_var_name = b""
        self.msg = self.logdata = b""
        self.severity = None

    def on_match(self, rule: Rule, link: Link, coll: str, key: bytes | None, value: bytes) -> None:
        """What every match of a link runs at once: MATCHED_VAR*, setvar, msg, logdata."""
        if coll:
            bname = coll.encode() if key is None else coll.encode() + b":" + key
            self.matched_var, self.matched_var_name = value, bname
            self.matched_vars.append((bname, bname.lower(), value))
        if link.severity is not None:
            self.severity = link.severity
        for sv in link.setvars:
            self._setvar(sv.collection.upper(), sv.name, sv.op, sv.value)

    def record_tx(
        self, rule: Rule, tx_test: tuple[bytes, bool, Any], entry: tuple[bytes, bytes] | None
    ) -> None:
        """The match of a `tx_simple` rule: MATCHED_VAR* and the record, as the general path sets them."""
        self.rule = rule
        self.severity = None
        self.msg = self.logdata = b""
        if tx_test[1]:
            name, value = b"&TX:" + tx_test[0], b"1" if entry is not None else b"0"
        else:
            assert entry is not None
            name, value = b"TX:" + entry[0], entry[1]
        self.matched_var, self.matched_var_name = value, name
        self.matched_vars = [(name, name.lower(), value)]
        self.matched.append(
            MatchedRule(
                rule.rule_id,
                rule.phase,
                "",
                "",
                name.decode("latin-1"),
                value[:_MAX_DATA],
                None,
                rule.tags,
                bool(rule.log),
            )
        )

    def record(self, rule: Rule) -> None:
        # msg and logdata are expanded once the whole chain matched, with the last link's
        # MATCHED_VAR and captures (libmodsecurity 3.0.15's executeActionsAfterFullMatch); a
        # chained link's own msg/logdata count only when the first link has none.
        msg = next((link.msg for link in rule.links if link.msg is not None), None)
        logdata = next((link.logdata for link in rule.links if link.logdata is not None), None)
        self.msg = macros.expand(msg, self.lookup) if msg is not None else b""
        self.logdata = macros.expand(logdata, self.lookup)[:_MAX_DATA] if logdata is not None else b""
        self.matched.append(
            MatchedRule(
                rule.rule_id,
                rule.phase,
                self.msg.decode("latin-1"),
                self.logdata.decode("latin-1"),
                self.matched_var_name.decode("latin-1"),
                self.matched_var[:_MAX_DATA],
                self.severity,
                rule.tags,
                bool(rule.log),
            )
        )

    def after_match(self, rule: Rule) -> int:
        """ctl actions of every link, then the rule's disruptive action."""
        for link in rule.links:
            for ctl in link.ctls:
                self._ctl(ctl.name, ctl.value, ctl.target)
        disruptive = rule.disruptive
        if disruptive == "pass" or self.mode != "On":
            return CONTINUE
        if disruptive == "allow":
            self.allowed = True
            return STOP
        self.interrupted = True
        self.interrupting_rule = rule.rule_id
        self.status = rule.status or (302 if disruptive == "redirect" else 403)
        return STOP

    def set_captures(self, captures: list[bytes | None]) -> None:
        tx = self.persistent["TX"]
        for i, cap in enumerate(captures[:10]):
            if cap is not None:  # a group that took no part leaves TX.n as it was, as in 3.0.15
                key = str(i).encode()
                tx[key] = (key, cap)

    def _setvar(self, coll: str, name: str, op: str, template: str) -> None:
        store = self.persistent.setdefault(coll, {})
        key = macros.expand(name, self.lookup).lower() if "%{" in name else name.encode("latin-1")
        if op == "!":
            store.pop(key, None)
            return
        value = macros.expand(template, self.lookup)
        if op == "=":
            store[key] = (key, value)
            return
        current = _number(store[key][1]) if key in store else 0
        delta = _number(value)
        store[key] = (key, str(current + delta if op == "+" else current - delta).encode())

    def lookup(self, coll: str, key: str) -> bytes:
        """A macro's value: the first value of COLLECTION[key], or a scalar."""
        if coll in _PERSISTENT:
            hit = self.persistent[coll].get(key.encode("latin-1"))
            return hit[1] if hit is not None else b""
        if coll == "RULE":
            rule = self.rule
            if rule is None:
                return b""
            if key == "id":
                return str(rule.rule_id).encode()
            if key == "msg":
                return self.msg or macros.expand(rule.links[0].msg or "", self.lookup)
            if key == "severity":
                return (self.severity or "").encode()
            if key == "logdata":
                return self.logdata
            return b""
        if coll in SCALARS:
            return self._scalar(coll) or b""
        want = key.encode("latin-1")
        for _, lk, value in self.store.collections.get(coll, ()):
            if lk == want:
                return value
        return b""

    def _ctl(self, name: str, value: str, target: VarSpec | None) -> None:
        apply_ctl(self, name, value, target)

    def is_removed(self, rule: Rule) -> bool:
        rid = rule.rule_id
        if any(lo <= rid <= hi for lo, hi in self.removed_ranges):
            return True
        if self.removed_tags and not self.removed_tags.isdisjoint(rule.tags):
            return True
        return bool(self.removed_msgs) and (rule.links[0].msg or "") in self.removed_msgs

    def dynamic_operator(self, link: Link) -> Any:
        from originguard.waf.seclang.operators import build_operator

        param = macros.expand(link.op_param, self.lookup).decode("latin-1")
        # The macros mostly name settings (`@within %{tx.allowed_methods}`): equal on every request.
        built = self.ruleset.dynamic_operators
        key = (id(link), param)
        operator = built.get(key)
        if operator is None:
            operator = build_operator(
                link.op_name, param, negated=link.op_negated, data_dirs=self.ruleset.data_dirs
            )
            if len(built) >= _DYNAMIC_OPERATORS:
                built.clear()  # request-chosen parameters cannot grow it without bound
            built[key] = operator
        return operator

    def score(self, *names: bytes) -> int:
        tx = self.persistent["TX"]
        for name in names:
            if name in tx:
                return _number(tx[name][1])
        return 0


def _number(value: bytes) -> int:
    try:
        return int(value.strip() or b"0")
    except ValueError:
        return 0
