"""Rule actions at load: which exist, where they may stand, and their compiled form.

Every action CRS 3.3 and 4.x use is known here; any other is refused with file:line. Actions that
only feed an audit log we do not write (auditlog, noauditlog, ctl:auditEngine, ctl:auditLogParts)
and metadata (ver, rev, maturity, accuracy) are accepted and have no effect on the verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final, Literal, cast

from originguard.errors import SecLangError
from originguard.waf.seclang import variables as var
from originguard.waf.seclang.model import SEVERITIES, Ctl, Link, Rule, SetVar
from originguard.waf.seclang.parse import ActionRef, Directive

DISRUPTIVE: Final = frozenset({"pass", "deny", "drop", "allow", "redirect", "block"})
_METADATA: Final = frozenset({"ver", "rev", "maturity", "accuracy", "auditlog", "noauditlog"})
_START_ONLY: Final = frozenset(
    {"id", "phase", "tag", "skip", "skipAfter", "status", "log", "nolog"} | DISRUPTIVE | _METADATA
)
_CHILD_IGNORED: Final = frozenset({"log", "nolog"}) | _METADATA
_SETVAR_COLLECTIONS: Final = frozenset({"tx", "ip", "global", "session", "user", "resource"})
_CTLS: Final = frozenset(
    {
        "ruleRemoveById",
        "ruleRemoveByTag",
        "ruleRemoveByMsg",
        "ruleRemoveTargetById",
        "ruleRemoveTargetByTag",
        "requestBodyProcessor",
        "ruleEngine",
        "forceRequestBodyVariable",
        "requestBodyAccess",
        "responseBodyAccess",
        "auditEngine",
        "auditLogParts",
    }
)
_PROCESSORS: Final = frozenset({"URLENCODED", "MULTIPART", "JSON", "XML"})


def apply_actions(
    rule: Rule,
    link: Link,
    actions: Sequence[ActionRef],
    d: Directive,
    *,
    is_start: bool,
    update: bool = False,
) -> bool:
    """Fold `actions` into `rule` / `link`; returns whether the rule continues with `chain`."""
    chained = False
    setvars: list[SetVar] = list(link.setvars)
    ctls: list[Ctl] = list(link.ctls)
    transforms = list(link.transforms)
    for a in actions:
        name = a.name
        if name in _START_ONLY and not is_start:
            if name in _CHILD_IGNORED:
                continue  # CRS 3.3 repeats these in chained rules; only the first link's count
            raise SecLangError(d.file, d.line, d.text, f"action {name} is not allowed in a chained rule")
        if name == "chain":
            chained = True
        elif name == "id":
            rule.rule_id = integer(a.arg, d)
        elif name == "phase":
            rule.phase = phase_number(a.arg, d)
        elif name in DISRUPTIVE:
            rule.disruptive = cast("Literal['pass', 'deny', 'drop', 'allow', 'redirect', 'block']", name)
            if name == "redirect":
                rule.redirect = a.arg
            if name == "allow" and a.arg:
                raise SecLangError(d.file, d.line, d.text, f"allow:{a.arg} is not supported")
        elif name == "status":
            rule.status = integer(a.arg, d)
        elif name in ("log", "nolog"):
            rule.log = name == "log"
        elif name == "tag":
            rule.tags += (a.arg,)
        elif name == "skip":
            rule.skip = integer(a.arg, d)
        elif name == "skipAfter":
            rule.skip_after = a.arg
        elif name in _METADATA:
            pass
        elif name == "t":
            transforms = ["none"] if a.arg.lower() == "none" else [*transforms, a.arg]
        elif name == "setvar":
            setvars.append(_setvar(a.arg, d))
        elif name == "ctl":
            ctls.append(_ctl(a.arg, d))
        elif name == "capture":
            link.capture = True
        elif name == "multiMatch":
            link.multi_match = True
        elif name == "msg":
            link.msg = a.arg
        elif name == "logdata":
            link.logdata = a.arg
        elif name == "severity":
            link.severity = _severity(a.arg, d)
        elif name == "initcol":
            # Persistent collections are per transaction here (no shared store): initcol only
            # names the collection, which starts empty in each transaction.
            if a.arg.split("=", 1)[0].lower() not in _SETVAR_COLLECTIONS:
                raise SecLangError(d.file, d.line, d.text, f"initcol:{a.arg} is not supported")
        elif name == "expirevar":
            pass  # a per-transaction collection never outlives the transaction it would expire in
        else:
            raise SecLangError(d.file, d.line, d.text, f"action {name} is not supported")
    if is_start and not update and rule.rule_id == 0 and d.name in ("SecRule", "SecAction"):
        raise SecLangError(d.file, d.line, d.text, "a rule needs an id")
    link.setvars = tuple(setvars)
    link.ctls = tuple(ctls)
    link.transforms = tuple(transforms)
    return chained


def build_link_operator(link: Link, rule: Rule, data_dirs: tuple[Path, ...]) -> None:
    """Compile the link's operator once; a parameter with %{...} is compiled per evaluation."""
    from originguard.waf.seclang.operators import build_operator

    if "%{" in link.op_param:
        link.op_dynamic = True
        return
    try:
        link.operator = build_operator(
            link.op_name, link.op_param, negated=link.op_negated, data_dirs=data_dirs
        )
    except SecLangError as exc:
        raise SecLangError(rule.file, rule.line, f"{link.op_name} {link.op_param}", exc.problem) from None
    except (ValueError, OSError) as exc:
        raise SecLangError(rule.file, rule.line, f"{link.op_name} {link.op_param}", str(exc)) from None


def id_ranges(text: str, d: Directive) -> list[tuple[int, int]]:
    """`"1 2-5 7"` or `"1,2-5"` → inclusive ranges."""
    ranges = []
    for part in text.replace(",", " ").split():
        lo, _, hi = part.partition("-")
        ranges.append((integer(lo, d), integer(hi or lo, d)))
    return ranges


def phase_number(text: str, d: Directive) -> int:
    named = {"request": 2, "response": 4, "logging": 5}
    if text.lower() in named:
        return named[text.lower()]
    phase = integer(text, d)
    if not 1 <= phase <= 5:
        raise SecLangError(d.file, d.line, d.text, f"phase {text} does not exist")
    return phase


def integer(text: str, d: Directive) -> int:
    try:
        return int(text.strip().strip("'\""))
    except ValueError:
        raise SecLangError(d.file, d.line, d.text, f"{text!r} is not a number") from None


def _severity(text: str, d: Directive) -> str:
    if text.isdigit() and int(text) < len(SEVERITIES):
        return SEVERITIES[int(text)]
    if text.upper() in SEVERITIES:
        return text.upper()
    raise SecLangError(d.file, d.line, d.text, f"severity {text} does not exist")


def _setvar(text: str, d: Directive) -> SetVar:
    op: Literal["=", "+", "-", "!"] = "="
    if text.startswith("!"):
        op, target, value = "!", text[1:], ""
    else:
        target, eq, value = text.partition("=")
        if not eq:
            value = "1"  # `setvar:tx.flag` sets the flag
        elif value[:1] in ("+", "-"):
            op, value = cast("Literal['+', '-']", value[0]), value[1:]
    collection, dot, name = target.partition(".")
    if not dot or collection.lower() not in _SETVAR_COLLECTIONS or not name:
        raise SecLangError(d.file, d.line, d.text, f"setvar:{text} is not supported")
    return SetVar(collection.lower(), name.lower(), op, value)


def _ctl(text: str, d: Directive) -> Ctl:
    name, _, value = text.partition("=")
    if name not in _CTLS:
        raise SecLangError(d.file, d.line, d.text, f"ctl:{name} is not supported")
    if name in ("ruleRemoveTargetById", "ruleRemoveTargetByTag"):
        which, semi, target = value.partition(";")
        if not semi:
            raise SecLangError(d.file, d.line, d.text, f"ctl:{name} needs `which;TARGET`")
        refs = var.parse_target_text(target, d)
        return Ctl(name, which, refs)
    if name == "requestBodyProcessor" and value.upper() not in _PROCESSORS:
        raise SecLangError(d.file, d.line, d.text, f"request body processor {value} is not supported")
    if name == "ruleEngine" and value.lower() not in ("on", "off", "detectiononly"):
        raise SecLangError(d.file, d.line, d.text, f"ctl:ruleEngine={value} is not a mode")
    return Ctl(name, value, None)
