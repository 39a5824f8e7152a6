"""Header rules shared by the server and the proxy paths: hop-by-hop removal and lookups.

RFC 9110 §7.6.1: a proxy removes Connection, the fields Connection lists, and the classic
hop-by-hop fields. A viewer must not be able to make us drop a header that security depends on
(the secret origin header, X-Forwarded-*), so `protected` names survive a `Connection:` listing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

Header = tuple[bytes, bytes]

HOP_BY_HOP: Final = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)


# Connection options that name no field (RFC 9112 §9.6, §9.3): nothing more to remove for them.
_CONNECTION_OPTIONS: Final = frozenset({b"close", b"keep-alive"})


def connection_tokens(headers: Iterable[Header]) -> set[bytes]:
    """Lower-cased field names listed in every Connection header."""
    tokens: set[bytes] = set()
    for name, value in headers:
        if name.lower() == b"connection":
            tokens.update(t.strip().lower() for t in value.split(b",") if t.strip())
    return tokens


def strip_hop_by_hop(
    headers: Sequence[Header], protected: frozenset[bytes] = frozenset(), drop: frozenset[bytes] = frozenset()
) -> list[Header]:
    """Drop hop-by-hop fields, the ones Connection names (except `protected`) and `drop` (all
    lower-case names). One pass and one lower() per field: it runs on every proxied message."""
    kept: list[Header] = []
    lowers: list[bytes] = []
    listed: set[bytes] | None = None
    for name, value in headers:
        lower = name.lower()
        if lower in HOP_BY_HOP:
            if lower == b"connection":
                for token in value.split(b","):
                    token = token.strip().lower()
                    if token and token not in _CONNECTION_OPTIONS and token not in protected:
                        if listed is None:
                            listed = set()
                        listed.add(token)
            continue
        if lower in drop:
            continue
        kept.append((name, value))
        lowers.append(lower)
    if listed is None:
        return kept
    # A listed field may come before its Connection header: filter again, now that all are known.
    return [field for field, lower in zip(kept, lowers, strict=True) if lower not in listed]


def without(headers: Iterable[Header], names: frozenset[bytes]) -> list[Header]:
    """Headers minus every field whose lower-cased name is in `names`."""
    return [(n, v) for n, v in headers if n.lower() not in names]


class FieldSet:
    """Lower-case field names, tested without lower-casing most names: a name whose length no
    member has cannot be one, so only the rest pay for lower() (on proxy paths, per field)."""

    __slots__ = ("lengths", "names")

    def __init__(self, names: Iterable[bytes]) -> None:
        self.names = frozenset(names)
        self.lengths = frozenset(len(name) for name in self.names)

    def holds(self, name: bytes) -> bool:
        """Is `name` (any case) one of the set."""
        return len(name) in self.lengths and name.lower() in self.names


def forward_fields(headers: Sequence[Header], drop: FieldSet) -> tuple[bytes, bool]:
    """Header lines for the next hop: `drop` fields (which hold the hop-by-hop ones) and the
    fields Connection names removed; and whether a Date field is among those kept."""
    parts: list[bytes] = []
    listed: set[bytes] | None = None
    has_date = False
    lengths = drop.lengths
    dropped = drop.names
    for name, value in headers:
        size = len(name)
        if size in lengths and name.lower() in dropped:
            if size == 10 and name.lower() == b"connection":
                for token in value.split(b","):
                    token = token.strip().lower()
                    if token and token not in _CONNECTION_OPTIONS:
                        listed = {token} if listed is None else listed | {token}
            continue
        if size == 4 and name.lower() == b"date":
            has_date = True
        # Four appends: `parts += (...)` builds a tuple per field.
        parts.append(name)
        parts.append(b": ")
        parts.append(value)
        parts.append(b"\r\n")
    if listed is not None and not listed <= drop.names:
        # A listed field may come before its Connection header: again, now that all are known.
        return forward_fields(headers, FieldSet(drop.names | listed))
    return b"".join(parts), has_date


def values_of(headers: Iterable[Header], name: bytes) -> list[bytes]:
    """All values of one field (`name` lower-case), in order."""
    return [v for n, v in headers if n.lower() == name]


def first_value(headers: Iterable[Header], name: bytes) -> bytes | None:
    """The first value of one field (`name` lower-case), or None."""
    for n, v in headers:
        if n.lower() == name:
            return v
    return None


def content_length(headers: Iterable[Header]) -> int | None:
    """The declared Content-Length, or None (the server's parser already refused bad or duplicate ones)."""
    value = first_value(headers, b"content-length")
    return int(value) if value is not None else None
