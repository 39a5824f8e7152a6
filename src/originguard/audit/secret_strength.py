"""How guessable a secret header value is, by the reference's entropy rule; never shows the value.

Entropy = length × log2(alphabet), measured after case-folding because the ALB compares header
values case-insensitively (so `AbC` is no stronger than `abc` there).
"""

from __future__ import annotations

import hashlib
import math
import re
import string
from dataclasses import dataclass
from typing import Final, Literal

MIN_BITS: Final = 128.0
UUID_BITS: Final = 122.0  # a v4 UUID has 6 fixed bits out of 128
ALB_MAX_VALUE_CHARS: Final = 128

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_HEX = frozenset("0123456789abcdef")
_PUNCTUATION = frozenset(string.punctuation)

# Words people put in origin secrets; each counts as one pick from a small list, not as letters.
WORDS: Final = frozenset(
    """
    secret secrets password passwd passphrase cloudfront cloud front origin verify verified header
    token admin administrator changeme default letmein welcome example test testing prod production
    staging stage development internal private public access allow allowed deny custom edge gate
    amazon azure google akamai fastly cloudflare value shared bypass protect protected security secure
    master root user guest hello world qwerty abc123 trustno1 dragon monkey login signin auth
    authorized authorization bearer apikey api-key server service backend frontend proxy forward
    forwarded site website company demo sample dummy temp temporary local localhost
    """.split()  # noqa: SIM905  (a word list reads better as text)
)
_WORD_BITS: Final = math.log2(len(WORDS))


@dataclass(frozen=True, slots=True)
class Strength:
    """The verdict on one value: severity, estimated bits and why (never the value itself)."""

    severity: Literal["pass", "warn", "fail"]
    bits: float
    reason: str


def sha256_hex(value: str | bytes) -> str:
    """Full SHA-256 hex digest, used to compare values across files without keeping them."""
    raw = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
    return hashlib.sha256(raw).hexdigest()


def short_fingerprint(digest: str) -> str:
    """The at-most-8-hex-digit prefix reports may show, as `sha256:1a2b3c4d`."""
    return f"sha256:{digest[:8]}"


def assess_secret(value: str, header_name: str = "") -> Strength:
    """Judge one secret value: ≥128 bits after case-folding, no words, repeats or wildcards."""
    if not value:
        return Strength("fail", 0.0, "the value is empty")
    if any(ord(c) < 0x21 or ord(c) > 0x7E for c in value):
        return Strength("fail", 0.0, "the value has spaces, control or non-ASCII characters")
    if "*" in value or "?" in value:
        # The ALB reads `*` and `?` in condition values as wildcards, widening the match.
        return Strength("fail", 0.0, "the value contains '*' or '?', which the ALB reads as wildcards")
    folded = value.lower()
    if header_name and folded == header_name.lower():
        return Strength("fail", 0.0, "the value equals the header name")
    if _is_repetitive(folded):
        return Strength("fail", 0.0, "the value is a repetition of a few characters")
    if _UUID.fullmatch(folded):
        return Strength("warn", UUID_BITS, f"a UUID holds {UUID_BITS:.0f} bits, below {MIN_BITS:.0f}")
    remainder, words = _strip_words(folded)
    bits = len(remainder) * math.log2(_alphabet_size(remainder)) + words * _WORD_BITS
    if words and bits < MIN_BITS:
        return Strength("fail", bits, f"the value is built from dictionary words (≈{bits:.0f} bits)")
    if bits < MIN_BITS:
        return Strength("fail", bits, f"≈{bits:.0f} bits after case-folding, below {MIN_BITS:.0f}")
    return Strength("pass", bits, f"≈{bits:.0f} bits after case-folding")


def _alphabet_size(folded: str) -> int:
    """Size of the smallest character class family that covers the value."""
    chars = set(folded)
    if not chars:
        return 1
    if chars <= _HEX and chars & set("abcdef"):
        return 16
    size = 0
    size += 26 if chars & set(string.ascii_lowercase) else 0
    size += 10 if chars & set(string.digits) else 0
    size += len(_PUNCTUATION) if chars & _PUNCTUATION else 0
    return max(size, 2)


def _strip_words(folded: str) -> tuple[str, int]:
    """Remove dictionary words (longest first) and count them; words ≥ 4 letters only."""
    remainder, count = folded, 0
    for word in sorted((w for w in WORDS if len(w) >= 4), key=len, reverse=True):
        if word in remainder:
            count += remainder.count(word)
            remainder = remainder.replace(word, "")
    return remainder, count


def _is_repetitive(folded: str) -> bool:
    """True for `aaaa…`, `abab…` and other values with almost no distinct characters."""
    if len(set(folded)) <= max(2, min(4, len(folded) // 4)):
        return True
    # A string is a repetition of a shorter unit iff it occurs inside itself doubled, off-start.
    return (folded + folded).find(folded, 1) < len(folded)
