"""Test support for the engine tests: a ruleset from text, requests, and — only while the ops
helper's transforms/operators are not merged — a minimal placeholder for them (test-only)."""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path
from typing import Any

import re2

from originguard.waf.seclang.engine import RuleSet, load_ruleset
from originguard.waf.seclang.transaction import HttpRequest


def _placeholder_ops() -> None:
    try:
        importlib.import_module("originguard.waf.seclang.transforms")
        importlib.import_module("originguard.waf.seclang.operators")
        return
    except ImportError:
        pass
    tmod = types.ModuleType("originguard.waf.seclang.transforms")
    tmod.TRANSFORMS = {  # type: ignore[attr-defined]
        "lowercase": bytes.lower,
        "urlDecodeUni": lambda v: v.replace(b"%20", b" "),
        "length": lambda v: str(len(v)).encode(),
        "removeWhitespace": lambda v: b"".join(v.split()),
    }
    omod = types.ModuleType("originguard.waf.seclang.operators")

    class _Op:
        def __init__(self, name: str, param: str, negated: bool) -> None:
            self.name, self.param, self.negated = name, param, negated
            options = re2.Options()
            options.encoding = re2.Options.Encoding.LATIN1
            self.rx = re2.compile(param.encode("latin-1"), options) if name == "@rx" else None

        def match(self, value: bytes, captures: list[bytes] | None) -> bool:
            p = self.param.encode("latin-1")
            if self.rx is not None:
                m = self.rx.search(value)
                ok = m is not None
                if ok and captures is not None:
                    captures.extend(g or b"" for g in (m.group(0), *m.groups()))
            elif self.name in ("@eq", "@lt", "@ge", "@gt", "@le"):
                a, b = _num(value), _num(p)
                ok = {"@eq": a == b, "@lt": a < b, "@ge": a >= b, "@gt": a > b, "@le": a <= b}[self.name]
            elif self.name == "@streq":
                ok = value == p
            elif self.name == "@contains":
                ok = p in value
            elif self.name == "@within":
                ok = value in p
            elif self.name == "@unconditionalMatch":
                ok = True
            else:
                raise ValueError(f"placeholder has no {self.name}")
            return ok != self.negated

    def build_operator(name: str, param: str, *, negated: bool, data_dirs: Any) -> _Op:
        return _Op(name, param, negated)

    omod.build_operator = build_operator  # type: ignore[attr-defined]
    sys.modules[tmod.__name__] = tmod
    sys.modules[omod.__name__] = omod


def _num(v: bytes) -> int:
    try:
        return int(v)
    except ValueError:
        return 0


_placeholder_ops()


def ruleset(text: str, tmp_path: Path | None = None) -> RuleSet:
    """A ruleset from SecLang text (the engine On unless the text says otherwise)."""
    return load_ruleset((), before="SecRuleEngine On\n" + text)


def get(
    target: bytes = b"/?a=1&b=2", headers: tuple[tuple[bytes, bytes], ...] = ((b"Host", b"x"),)
) -> HttpRequest:
    return HttpRequest(b"GET", target, b"HTTP/1.1", headers)


def ids(rs: RuleSet, request: HttpRequest) -> list[int]:
    return [m.rule_id for m in rs.evaluate_request(request).matched if m.logged]
