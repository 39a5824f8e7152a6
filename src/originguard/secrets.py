# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Secrets: a value type that never shows itself, loading from file or env, generation.

A secret file holds one value per line. The first line is the *current* value (what edges send);
every line is *accepted* (what gates admit). Rotation is therefore a sequence of file contents:
`old` → `old\\nnew` (gates accept both) → `new\\nold` (edges switch) → `new` (old refused).
"""

from __future__ import annotations

import hashlib
import os
import secrets as _random
import stat
from dataclasses import dataclass
from hmac import compare_digest
from pathlib import Path
from typing import Final, final

from originguard.errors import SecretError

# 40 chars of [a-z0-9] ≈ 206 bits, and survives the case-folding of cloud load balancers.
SECRET_ALPHABET: Final = "abcdefghijklmnopqrstuvwxyz0123456789"
SECRET_LENGTH: Final = 40


@final
class Secret:
    """A secret value; `repr`, `str` and pickling never reveal it."""

    __slots__ = ("_value",)

    def __init__(self, value: bytes) -> None:
        if not value:
            raise SecretError("a secret value must not be empty")
        self._value = value

    def reveal(self) -> bytes:
        """The raw bytes; call only where the value goes on the wire to a trusted peer."""
        return self._value

    def matches(self, candidate: bytes) -> bool:
        """Constant-time comparison (an attacker must not learn the value byte by byte)."""
        return compare_digest(self._value, candidate)

    def fingerprint(self) -> str:
        """A short SHA-256 prefix that identifies the value in reports without exposing it."""
        return hashlib.sha256(self._value).hexdigest()[:8]

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self.fingerprint())

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")


@dataclass(frozen=True, slots=True)
class SecretValues:
    """The values of one named secret: `current` is sent, every one of `accepted` is admitted."""

    name: str
    current: Secret
    accepted: tuple[Secret, ...]

    def admits(self, candidate: bytes) -> bool:
        """Whether `candidate` equals any accepted value; compares against all to keep timing flat."""
        found = False
        for value in self.accepted:
            found |= value.matches(candidate)
        return found


def generate_secret_value() -> str:
    """A fresh random secret value (≈ 206 bits)."""
    return "".join(_random.choice(SECRET_ALPHABET) for _ in range(SECRET_LENGTH))


def parse_secret_text(name: str, text: str, source: str) -> SecretValues:
    """Parse the one-value-per-line format; blank lines and `#` comments are ignored."""
    lines = [ln.strip() for ln in text.splitlines()]
    values = [ln for ln in lines if ln and not ln.startswith("#")]
    if not values:
        raise SecretError(f"secret {name!r}: {source} holds no value")
    for value in values:
        if any(ord(c) < 0x21 or ord(c) > 0x7E for c in value):
            raise SecretError(
                f"secret {name!r}: {source} holds a value with spaces, control or non-ASCII characters"
            )
    secrets = tuple(Secret(v.encode("ascii")) for v in dict.fromkeys(values))
    return SecretValues(name=name, current=secrets[0], accepted=secrets)


def load_secret_file(name: str, path: Path) -> SecretValues:
    """Load a secret file, refusing one that group or others can read."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise SecretError(
            f"secret {name!r}: file {path} does not exist (create it: originguard secret new {path})"
        ) from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretError(
            f"secret {name!r}: file {path} is readable by group or others "
            f"(mode {stat.S_IMODE(st.st_mode):04o}); fix: chmod 600 {path}"
        )
    return parse_secret_text(name, path.read_text(encoding="ascii", errors="replace"), f"file {path}")


def load_secret_env(name: str, variable: str) -> SecretValues:
    """Load a secret from an environment variable (several values separated by newlines or commas)."""
    text = os.environ.get(variable)
    if text is None:
        raise SecretError(f"secret {name!r}: environment variable {variable} is not set")
    return parse_secret_text(name, text.replace(",", "\n"), f"environment variable {variable}")


def write_secret_file(path: Path, values: list[str]) -> None:
    """Write values atomically with mode 0600 (the rename means readers never see half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write("".join(f"{v}\n" for v in values))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
