"""Load an `owasp-crs` rule set once per process, keyed by a digest of what made it.

Parsing and compiling CRS 4.28's rules costs ~0.7 s (RE2 sets as the prefilter compile in ~0.1 s),
so an edge starts in ~1.3 s without an on-disk cache; a pickle of the compiled rule set would read
back in a time of the same order, and is not kept. A process keeps its last few rule sets under a
SHA-256 of every input (rule and data files, the generated SecLang around them), so a config reload
with unchanged rules, or `check` after `up`'s own compile, costs nothing.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Final

from originguard.errors import OriginguardError, SecLangError
from originguard.waf.crs_setup import CrsSources

_KEPT: Final = 4  # rule sets kept per process (reloads, several edges in one test process)
_LOADED: dict[str, LoadedCrs] = {}
_RULE_ID: Final = re.compile(rb"\bid\s*:\s*'?(\d+)")
_SIGNATURE: Final = re.compile(rb'(?m)^\s*SecComponentSignature\s+"OWASP_CRS/(\d+\.\d+\.\d+)')


class CrsLoadError(OriginguardError):
    """A rule file does not load: `where` is `FILE:LINE` (or the file), `problem` says what is wrong."""

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        self.rule = ""  # the web ACL rule holding the group, set by waf.compile
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True, slots=True)
class LoadedCrs:
    """A loaded rule set and what `check` and the start-up log say about it."""

    ruleset: Any  # waf.seclang.RuleSet (Any: the engine's types are its own)
    key: str  # the SHA-256 of the inputs
    rules: int  # rules loaded (after configure-time exclusions)
    version: str  # the CRS release the rules name (`ver:'OWASP_CRS/4.28.0'`), or "unknown"


def load_crs(sources: CrsSources) -> LoadedCrs:
    """The compiled rule set of `sources`: the one this process already holds, or compiled now."""
    missing = [path for path in sources.files if not path.is_file()]
    if missing:
        raise CrsLoadError(str(missing[0]), "no such file")
    key = fingerprint(sources)
    kept = _LOADED.get(key)
    if kept is not None:
        return kept
    defined, version = _describe(sources)
    ruleset = _compile(sources)
    by_id = getattr(ruleset, "rules_by_id", None)
    rules = len(by_id) if isinstance(by_id, dict) else defined
    loaded = LoadedCrs(ruleset, key, rules, version=version)
    if len(_LOADED) >= _KEPT:
        _LOADED.pop(next(iter(_LOADED)))
    _LOADED[key] = loaded
    return loaded


def fingerprint(sources: CrsSources) -> str:
    """SHA-256 over everything a compiled rule set depends on."""
    digest = hashlib.sha256()
    data = sorted(p for d in sources.data_dirs if d.is_dir() for p in d.glob("*.data"))
    for path in (*sources.files, *data):
        digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(sources.before.encode() + b"\0" + sources.after.encode())
    return digest.hexdigest()


def _compile(sources: CrsSources) -> Any:
    from originguard.waf.seclang import load_ruleset

    try:
        return load_ruleset(
            list(sources.files), before=sources.before, after=sources.after, data_dirs=sources.data_dirs
        )
    except SecLangError as exc:  # its `file` is FILE:LINE
        raise CrsLoadError(exc.file, exc.problem) from None


def _describe(sources: CrsSources) -> tuple[int, str]:
    """How many rule ids the files define, and the CRS release they sign as.

    The release is the rules' own `SecComponentSignature "OWASP_CRS/x.y.z"` (REQUEST-901); a rule's
    `ver:` is not used, as a few rules keep the release they last changed in."""
    ids: set[bytes] = set()
    version = ""
    for path in sources.files[1:]:  # the rules, not the setup file (which may be older)
        text = path.read_bytes()
        ids.update(_RULE_ID.findall(text))
        found = _SIGNATURE.search(text)
        if found and not version:
            version = found.group(1).decode()
    return len(ids), version or "unknown"
