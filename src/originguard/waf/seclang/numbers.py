# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""C's `atoll` and C++'s `std::stoi` on bytes: the number parsing ModSecurity's operators use.

`@lt`/`@ge`/... read values with atoll (leading spaces, a sign, digits, the rest ignored, 0 when
none, saturated on overflow); `@eq` with std::stoi, which throws on no digits or a value outside
32 bits, and ModSecurity reads the throw as 0. CRS compares counts and lengths this way.
"""

from __future__ import annotations

from typing import Final

_LLONG_MAX: Final = (1 << 63) - 1
_INT_MAX: Final = (1 << 31) - 1
_SPACE: Final = b" \t\n\v\f\r"


def _leading(value: bytes) -> tuple[int, bool]:
    """(number, had digits) of the leading integer of `value`."""
    text = value.lstrip(_SPACE)
    sign = 1
    if text[:1] in (b"+", b"-"):
        sign = -1 if text[:1] == b"-" else 1
        text = text[1:]
    end = 0
    while end < len(text) and 0x30 <= text[end] <= 0x39:
        end += 1
    if end == 0:
        return 0, False
    return sign * int(text[:end]), True


def atoll(value: bytes) -> int:
    number, _ = _leading(value)
    return max(-_LLONG_MAX - 1, min(_LLONG_MAX, number))


def stoi(value: bytes) -> int:
    number, digits = _leading(value)
    if not digits or not -_INT_MAX - 1 <= number <= _INT_MAX:
        return 0
    return number
