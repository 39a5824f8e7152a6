# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Macro expansion: `%{TX.anomaly_score}`, `%{MATCHED_VAR}`, `%{request_headers.host}`, `%{rule.id}`.

Templates are split once (cached by text); a macro naming nothing expands to the empty string, as in
ModSecurity v3.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

# A template part: literal bytes, or (COLLECTION upper-case, key lower-case or "").
Part = bytes | tuple[str, str]


@lru_cache(maxsize=4096)
def split_template(template: str) -> tuple[Part, ...]:
    """`"a %{tx.b} c"` → (b"a ", ("TX", "b"), b" c")."""
    parts: list[Part] = []
    rest = template
    while True:
        start = rest.find("%{")
        end = rest.find("}", start + 2) if start >= 0 else -1
        if start < 0 or end < 0:
            if rest:
                parts.append(rest.encode("latin-1", "replace"))
            return tuple(parts)
        if start:
            parts.append(rest[:start].encode("latin-1", "replace"))
        ref = rest[start + 2 : end]
        name, _, key = ref.partition(".")
        parts.append((name.upper(), key.lower()))
        rest = rest[end + 1 :]


def has_macro(template: str) -> bool:
    """Whether the text needs expanding per evaluation."""
    return "%{" in template


def expand(template: str, lookup: Callable[[str, str], bytes]) -> bytes:
    """Expand `template`; `lookup(COLLECTION, key)` gives a variable's (first) value."""
    if "%{" not in template:
        return template.encode("latin-1", "replace")
    out = []
    for part in split_template(template):
        out.append(part if isinstance(part, bytes) else lookup(part[0], part[1]))
    return b"".join(out)
