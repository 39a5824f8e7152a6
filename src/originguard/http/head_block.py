"""A response's header block kept as raw bytes (pure): lookups and removals without a split.

A proxied response head is forwarded nearly as it came. Splitting it into (name, value) pairs
and rendering them again costs a Python call per field, which was most of a relay's time; here
the block is lower-cased once and one regex scan finds the lines a proxy cares about (framing,
hop-by-hop, Date). The block has already been validated by llhttp in strict mode (CRLF line
ends, token names, no obs-fold, no space before the colon), so a line starts a field exactly
where LF is followed by `name:`.
"""

from __future__ import annotations

import re
from typing import Final

Header = tuple[bytes, bytes]

# RFC 9110 §7.6.1 and RFC 9112 §6.1: fields about this connection, not the message.
HOP_BY_HOP: Final = (
    b"connection",
    b"keep-alive",
    b"proxy-connection",
    b"proxy-authenticate",
    b"proxy-authorization",
    b"te",
    b"trailer",
    b"transfer-encoding",
    b"upgrade",
)
# What the one scan of every block records: the fields a relay decides on.
TRACKED: Final = frozenset({*HOP_BY_HOP, b"content-length", b"date"})
_TRACKED_LINES: Final = re.compile(rb"\n(" + b"|".join(re.escape(n) for n in sorted(TRACKED)) + rb"):")
# One (name, value) per line; leading and trailing OWS are not part of a value (RFC 9110 §5.5).
_FIELD: Final = re.compile(rb"([^:\r\n]+):[ \t]*([^\r\n]*?)[ \t]*\r\n")
_CONNECTION_OPTIONS: Final = frozenset({b"close", b"keep-alive"})


class HeadBlock:
    """Header lines as received (each ending in CRLF, no status line, no blank line)."""

    __slots__ = ("block", "lines", "lower")

    def __init__(self, block: bytes) -> None:
        self.block = block
        # A leading LF makes every line start look alike: an LF found at index p of `lower`
        # is the start of a line at index p of `block`.
        self.lower = b"\n" + block.lower()
        lines: dict[bytes, list[int]] = {}
        for found in _TRACKED_LINES.finditer(self.lower):
            name = found.group(1)
            starts = lines.get(name)
            if starts is None:
                lines[name] = [found.start()]
            else:
                starts.append(found.start())
        self.lines = lines  # tracked field name → where its lines start

    def has(self, name: bytes) -> bool:
        """Is field `name` (lower-case) present."""
        if name in TRACKED:
            return name in self.lines
        return self.lower.find(b"\n" + name + b":") >= 0  # find(): `in` on bytes raises inside

    def values(self, name: bytes) -> list[bytes]:
        """Every value of field `name` (lower-case), in order."""
        block = self.block
        skip = len(name) + 1
        found: list[bytes] = []
        for start in self._starts(name):
            found.append(block[start + skip : block.find(b"\r\n", start)].strip(b" \t"))
        return found

    def first(self, name: bytes) -> bytes | None:
        """The first value of field `name` (lower-case), or None."""
        starts = self._starts(name)
        if not starts:
            return None
        start = starts[0]
        return self.block[start + len(name) + 1 : self.block.find(b"\r\n", start)].strip(b" \t")

    def fields(self) -> list[Header]:
        """Every (name, value) pair, in order (for code that needs them all)."""
        found: list[Header] = _FIELD.findall(self.block)
        return found

    def without(self, names: tuple[bytes, ...]) -> bytes:
        """The block minus every line of the fields `names` (lower-case)."""
        starts: list[int] = []
        for name in names:
            starts += self._starts(name)
        if not starts:
            return self.block
        starts.sort()
        block = self.block
        kept: list[bytes] = []
        position = 0
        for start in starts:
            kept.append(block[position:start])
            position = block.find(b"\r\n", start) + 2
        kept.append(block[position:])
        return b"".join(kept)

    def without_hop_by_hop(self, also: tuple[bytes, ...] = ()) -> bytes:
        """The block minus hop-by-hop fields, the fields Connection names, and `also`."""
        drop = also
        for name in HOP_BY_HOP:
            if name in self.lines:
                drop += (name,)
        if b"connection" in self.lines:
            for value in self.values(b"connection"):
                for token in value.split(b","):
                    token = token.strip().lower()
                    if token and token not in _CONNECTION_OPTIONS and token not in drop:
                        drop += (token,)
        return self.without(drop)

    def _starts(self, name: bytes) -> list[int]:
        if name in TRACKED:
            return self.lines.get(name, [])
        starts: list[int] = []
        lower = self.lower
        marker = b"\n" + name + b":"
        start = lower.find(marker)
        while start >= 0:
            starts.append(start)
            start = lower.find(marker, start + len(marker))
        return starts
