"""Request fields a proxy drops before anything reads them: names with an underscore (pure).

CGI, WSGI, PHP and Rack turn a field name into a variable by upper-casing it and mapping `-` to
`_`, so `X_Origin_Verify` and `X-Origin-Verify` both become `HTTP_X_ORIGIN_VERIFY`: a viewer could
forge a header the app trusts, or smuggle a second `Content_Length` past every hop that reads
`Content-Length`. nginx ignores such fields by default (`underscores_in_headers off`); so does a
listener here, unless it allows them, and even then a field whose name equals a secret header's
once `_` reads as `-` is dropped. Dropped fields are neither seen by rules nor WAF nor forwarded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

Header = tuple[bytes, bytes]

UNDERSCORE: Final = 95  # b"_"[0]: an int needle, so `in` is one memchr


class UnderscorePolicy:
    """What one listener does with field names that hold `_`; `protected` (lower-case names,
    the secret headers) may be replaced on reload, `allowed` too."""

    __slots__ = ("allowed", "on_drop", "protected")

    def __init__(
        self, allowed: bool, protected: frozenset[bytes], on_drop: Callable[[int], None] | None = None
    ) -> None:
        self.allowed = allowed
        self.protected = protected
        self.on_drop = on_drop  # told how many fields one request lost (a metric)

    def drops(self, name: bytes) -> bool:
        """Does this listener drop a field of this name."""
        if UNDERSCORE not in name:
            return False
        return not self.allowed or name.replace(b"_", b"-").lower() in self.protected


def kept_fields(headers: list[Header], policy: UnderscorePolicy) -> list[Header] | None:
    """The fields that stay, or None when every field stays (the common case: no copy)."""
    kept: list[Header] | None = None
    for position, field in enumerate(headers):
        if policy.drops(field[0]):
            if kept is None:
                kept = headers[:position]
        elif kept is not None:
            kept.append(field)
    if kept is not None and policy.on_drop is not None:
        policy.on_drop(len(headers) - len(kept))
    return kept
