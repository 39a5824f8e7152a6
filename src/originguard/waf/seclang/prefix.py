"""The request-independent start of phase 1, found at load so transactions can skip running it.

CRS opens phase 1 with ~25 rules (REQUEST-901's SecActions and `&TX:x "@eq 0"` defaults) that
read only TX and the settings, whose TX starts empty in every transaction: they end the same way
every time. A rule is *independent* when every target is TX, it has no ctl and no capture, it sets
only TX, and its macros name only TX and RULE (and MATCHED_VAR where it has targets of its own).

Between them may stand *aside* rules, which read the request but touch nothing an independent
rule reads: no TX in targets or macros, no setvar, capture, skip or stop (`pass` only), ctl only
for the body processor (ModSecurity's recommended 200000/200001 come before CRS). They commute
with the independent ones, so the engine runs the independent rules of that opening once, on no
request, and each transaction starts from what they left (`PhaseStart`), runs the aside rules
they reached, and goes on from `resume_at`. Only the order of the matched list differs: an aside
rule's match is listed after the independent rules' matches.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from originguard.waf.seclang.macros import split_template
from originguard.waf.seclang.model import Link, Rule
from originguard.waf.seclang.transaction import MatchedRule

_MATCHED: Final = frozenset({"MATCHED_VAR", "MATCHED_VAR_NAME"})
_INDEPENDENT_MACROS: Final = frozenset({"TX", "RULE"}) | _MATCHED


class PhaseStart(NamedTuple):
    """Where phase 1 resumes and the state the rules before it left."""

    resume_at: int  # the index of the first rule still to run
    aside: tuple[Rule, ...]  # the aside rules the opening reached, to run in every transaction
    tx: tuple[tuple[bytes, tuple[bytes, bytes]], ...]
    matched: tuple[MatchedRule, ...]
    matched_var: bytes
    matched_var_name: bytes
    matched_vars: tuple[tuple[bytes, bytes, bytes], ...]
    rule: Rule | None
    msg: bytes
    logdata: bytes
    severity: str | None


def opening(rules: list[Rule]) -> tuple[int, frozenset[int]]:
    """(how many rules open `rules` that are independent or aside, the indices of the aside ones);
    (0, ∅) when no independent rule is among them."""
    count = 0
    aside: set[int] = set()
    while count < len(rules):
        rule = rules[count]
        if rule.is_marker or all(_independent(link, bool(link.variables)) for link in rule.links):
            pass
        elif _aside(rule):
            aside.add(count)
        else:
            break
        count += 1
    if count == len(aside):
        return 0, frozenset()
    return count, frozenset(aside)


def _independent(link: Link, has_targets: bool) -> bool:
    if link.ctls or link.capture:
        return False
    if any(spec.collection != "TX" for spec in (*link.variables, *link.exclusions)):
        return False
    if any(setvar.collection != "tx" for setvar in link.setvars):
        return False
    # a SecAction's MATCHED_VAR is the previous rule's, which may be an aside one
    allowed = (
        _INDEPENDENT_MACROS if has_targets else _INDEPENDENT_MACROS - {"MATCHED_VAR", "MATCHED_VAR_NAME"}
    )
    return all(_names_only(text, allowed) for text in _texts(link))


def _aside(rule: Rule) -> bool:
    if rule.skip or rule.skip_after or rule.disruptive != "pass":
        return False
    for link in rule.links:
        if link.capture or link.setvars or not link.variables:
            return False
        if any(spec.collection == "TX" for spec in (*link.variables, *link.exclusions)):
            return False
        if any(ctl.name not in _ASIDE_CTLS for ctl in link.ctls):
            return False
        if not all(_names_only(text, frozenset()) for text in _texts(link)):
            return False
    return True


_ASIDE_CTLS: Final = frozenset({"requestBodyProcessor", "requestBodyAccess", "forceRequestBodyVariable"})


def _texts(link: Link) -> list[str]:
    texts = [text for setvar in link.setvars for text in (setvar.name, setvar.value)]
    return [*texts, link.msg or "", link.logdata or "", link.op_param if link.op_dynamic else ""]


def _names_only(text: str, allowed: frozenset[str]) -> bool:
    return "%{" not in text or all(
        isinstance(part, bytes) or part[0] in allowed for part in split_template(text)
    )
