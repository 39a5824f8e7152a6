"""Load an `owasp-crs` rule set once: compiled rule sets are kept on disk, keyed by what made them.

Parsing and compiling CRS's ~700 rules costs seconds; an edge starts in well under that because
the compiled `RuleSet` is pickled into the cache directory under a SHA-256 of every input (the rule
and data files, the setup file, the generated SecLang around them, the engine's own source), so any
change to one of them compiles afresh. The pickle is only ever read from a directory the operator's
config names (the state dir under `originguard up`); an unreadable or stale entry is recompiled.
A process also keeps its last few rule sets, so a config reload with unchanged rules costs nothing.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from originguard.errors import OriginguardError, SecLangError
from originguard.waf.crs_setup import CrsSources

_KEPT: Final = 4  # rule sets kept per process (reloads, several edges in one test process)
_LOADED: dict[str, LoadedCrs] = {}
_RULE_ID: Final = re.compile(rb"\bid\s*:\s*'?(\d+)")
_VERSION: Final = re.compile(rb"OWASP_CRS/(\d+\.\d+\.\d+)")


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
    from_cache: bool  # read back from the cache directory, not compiled
    version: str  # the CRS release the rules name (`ver:'OWASP_CRS/4.28.0'`), or "unknown"


def load_crs(sources: CrsSources, cache_dir: Path | None) -> LoadedCrs:
    """The compiled rule set of `sources`, from this process, the cache directory or compiled now."""
    missing = [path for path in sources.files if not path.is_file()]
    if missing:
        raise CrsLoadError(str(missing[0]), "no such file")
    key = fingerprint(sources)
    kept = _LOADED.get(key)
    if kept is not None:
        return kept
    cached = _read_cache(cache_dir, key)
    defined, version = _describe(sources)
    ruleset = cached if cached is not None else _compile(sources)
    by_id = getattr(ruleset, "rules_by_id", None)
    rules = len(by_id) if isinstance(by_id, dict) else defined
    loaded = LoadedCrs(ruleset, key, rules, from_cache=cached is not None, version=version)
    if cached is None:
        _write_cache(cache_dir, key, ruleset)
    if len(_LOADED) >= _KEPT:
        _LOADED.pop(next(iter(_LOADED)))
    _LOADED[key] = loaded
    return loaded


def fingerprint(sources: CrsSources) -> str:
    """SHA-256 over everything a compiled rule set depends on, the engine's code included."""
    digest = hashlib.sha256()
    digest.update(sys.version.encode())
    for path in _engine_files():
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
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


def _engine_files() -> list[Path]:
    package = Path(__file__).parent / "seclang"
    return sorted(package.rglob("*.py"))


def _describe(sources: CrsSources) -> tuple[int, str]:
    """How many rule ids the files define, and the CRS version they name."""
    ids: set[bytes] = set()
    version = ""
    for index, path in enumerate(sources.files):
        text = path.read_bytes()
        ids.update(_RULE_ID.findall(text))
        if index and not version:  # the rules' own version, not the setup file's
            found = _VERSION.search(text)
            version = found.group(1).decode() if found else ""
    return len(ids), version or "unknown"


def _read_cache(cache_dir: Path | None, key: str) -> Any:
    if cache_dir is None:
        return None
    path = cache_dir / f"owasp-crs-{key[:40]}.pickle"
    try:
        with path.open("rb") as file:
            return pickle.load(file)
    except FileNotFoundError:
        return None
    except Exception:  # a truncated or foreign file: compile again and overwrite it
        return None


def _write_cache(cache_dir: Path | None, key: str, ruleset: Any) -> None:
    if cache_dir is None:
        return
    path = cache_dir / f"owasp-crs-{key[:40]}.pickle"
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with temporary.open("wb") as file:
            pickle.dump(ruleset, file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)  # atomic: a concurrent edge reads the old file or the new one
    except (OSError, pickle.PicklingError, TypeError, AttributeError, RecursionError):
        # A read-only state dir, or a rule set the engine cannot pickle: the edge still runs, it
        # only compiles at every start.
        temporary.unlink(missing_ok=True)
