"""SecLang text → directives with their file and line, through msc-pyparser (CRS's own tooling).

The parser only splits the text; what each directive means is decided in `compile.py`. Anything
msc-pyparser cannot read becomes a `SecLangError(file, line, directive text)`.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import msc_pyparser  # type: ignore[import-untyped]

from originguard.errors import SecLangError


class VarRef(NamedTuple):
    """One entry of a rule's variable list, as written: `!ARGS:foo`, `&TX:x`, `XML:/*`."""

    name: str  # upper-case collection or variable name
    selector: str  # "" when the whole collection is meant; "/re/" for a regex selector
    negated: bool
    counting: bool


class ActionRef(NamedTuple):
    """One action as written: name and its argument (`setvar` → "tx.a=+5", `ctl` → "x=y")."""

    name: str
    arg: str
    line: int


class Directive(NamedTuple):
    """One configuration directive with where it came from."""

    name: str  # "SecRule", "SecAction", "SecMarker", ...
    file: str
    line: int
    text: str  # the first source line, for error messages
    args: tuple[str, ...]  # plain directives: their arguments
    variables: tuple[VarRef, ...]
    operator: str  # "@rx" (implicit @rx made explicit)
    operator_arg: str
    operator_negated: bool
    actions: tuple[ActionRef, ...]


def parse_file(path: Path) -> list[Directive]:
    """Parse one rule file."""
    try:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError as exc:
        raise SecLangError(str(path), 0, "", f"cannot read: {exc.strerror}") from None
    return parse_text(text, str(path))


def parse_text(text: str, file: str) -> list[Directive]:
    """Parse SecLang text; `file` names it in errors."""
    lines = text.splitlines()
    parser = _new_parser()
    try:
        parser.parser.parse(text, debug=False)
    except Exception as exc:  # msc-pyparser raises a bare Exception(message, {line, ...})
        line = 0
        if len(exc.args) > 1 and isinstance(exc.args[1], dict):
            line = int(exc.args[1].get("line", 0))
        shown = lines[line - 1] if 0 < line <= len(lines) else ""
        first = str(exc.args[0]).splitlines()[0] if exc.args else "syntax error"
        raise SecLangError(file, line, shown, f"cannot parse ({first})") from None
    return list(_directives(parser.configlines, file, lines))


def parse_actions(text: str, file: str, line: int) -> tuple[ActionRef, ...]:
    """Parse a bare action list ("t:none,pass"), as SecDefaultAction and SecRuleUpdateActionById hold."""
    quoted = text.replace("\\", "\\\\").replace('"', '\\"')
    directives = _reparse(f'SecAction "{quoted}"', file, line, text)
    return tuple(a._replace(line=line) for a in directives.actions)


def parse_variables(text: str, file: str, line: int) -> tuple[VarRef, ...]:
    """Parse a bare variable list ("!ARGS:foo|REQUEST_HEADERS"), as SecRuleUpdateTargetById holds."""
    return _reparse(f'SecRule {text} "@unconditionalMatch" "id:1"', file, line, text).variables


def _reparse(source: str, file: str, line: int, shown: str) -> Directive:
    try:
        found = parse_text(source, file)
    except SecLangError:
        raise SecLangError(file, line, shown, "cannot parse") from None
    return found[0]


def _new_parser() -> Any:
    # ply prints "Generating LALR tables" on stderr while it builds the parser: keep the CLI quiet.
    with contextlib.redirect_stderr(io.StringIO()):
        return msc_pyparser.MSCParser()


def _directives(configlines: list[dict[str, Any]], file: str, lines: list[str]) -> Iterator[Directive]:
    for entry in configlines:
        kind = entry["type"]
        if kind == "Comment":
            continue
        line = int(entry.get("lineno", 0))
        text = lines[line - 1] if 0 < line <= len(lines) else kind
        operator = str(entry.get("operator", "")) or ("@rx" if "operator_argument" in entry else "")
        yield Directive(
            name=kind,
            file=file,
            line=line,
            text=text,
            args=tuple(str(a["argument"]) for a in entry.get("arguments", ())),
            variables=tuple(_var(v) for v in entry.get("variables", ())),
            operator=operator,
            operator_arg=str(entry.get("operator_argument", "")),
            operator_negated=bool(entry.get("operator_negated", False)),
            actions=tuple(_action(a, line) for a in entry.get("actions", ())),
        )


def _var(v: dict[str, Any]) -> VarRef:
    return VarRef(str(v["variable"]).upper(), str(v["variable_part"]), bool(v["negated"]), bool(v["counter"]))


def _action(a: dict[str, Any], line: int) -> ActionRef:
    # msc-pyparser splits "ctl:ruleRemoveTargetById=942100;ARGS:foo" into four parts; join them back.
    arg = str(a["act_arg"])
    if a["act_arg_val"]:
        arg += "=" + str(a["act_arg_val"])
    if a["act_arg_val_param"]:
        arg += ";" + str(a["act_arg_val_param"])
    if a["act_arg_val_param_val"]:
        arg += ":" + str(a["act_arg_val_param_val"])
    return ActionRef(str(a["act_name"]), arg, int(a.get("lineno", line)))
