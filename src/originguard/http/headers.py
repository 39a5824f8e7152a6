# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Header rules shared by the server and the proxy paths: hop-by-hop removal and lookups.

RFC 9110 §7.6.1: a proxy removes Connection, the fields Connection lists, and the classic
hop-by-hop fields. A viewer must not be able to make us drop a header that security depends on
(the secret origin header, X-Forwarded-*), so `protected` names survive a `Connection:` listing.
"""

from __future__ import annotations

from collections.abc import Iterable
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


# Called as a function on the per-request paths (here and in http/connection.py): `name.lower()`
# from compiled code looks the method up by name on every call.
LOWER: Final = bytes.lower

# Connection options that name no field (RFC 9112 §9.6, §9.3): nothing more to remove for them.
_CONNECTION_OPTIONS: Final = frozenset({b"close", b"keep-alive"})


def listed_names(value: bytes) -> list[bytes]:
    """The field names one Connection value lists, lower-case, without the options that name no
    field (close, keep-alive)."""
    names: list[bytes] = []
    for token in value.split(b","):
        token = token.strip().lower()
        if token and token not in _CONNECTION_OPTIONS:
            names.append(token)
    return names


def strip_hop_by_hop(
    headers: list[Header], protected: frozenset[bytes] = frozenset(), drop: frozenset[bytes] = frozenset()
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
                for token in listed_names(value):
                    if token not in protected:
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
        longest = max((len(name) for name in self.names), default=0)
        # Indexed by name length: a list lookup is cheaper than hashing the length.
        self.lengths = [any(len(name) == size for name in self.names) for size in range(longest + 1)]

    def holds(self, name: bytes) -> bool:
        """Is `name` (any case) one of the set."""
        size = len(name)
        return size < len(self.lengths) and self.lengths[size] and name.lower() in self.names


def fields_to_cut(headers: list[Header], drop: FieldSet) -> list[int]:
    """Which fields (indices into `headers`) a proxy removes from a head it forwards: `drop`
    (which holds the hop-by-hop ones) and those Connection names.

    `headers` is a list, not a Sequence: compiled, a list is indexed directly and its tuples
    unpacked without the generic iterator protocol (half the instructions of this function)."""
    cut: list[int] = []
    listed: set[bytes] | None = None
    lengths = drop.lengths
    longest = len(lengths)
    dropped = drop.names
    for index in range(len(headers)):
        name, value = headers[index]
        size = len(name)
        if size < longest and lengths[size]:
            lower = LOWER(name)
            if lower not in dropped:
                continue
            cut.append(index)
            if size == 10 and lower == b"connection":
                for token in listed_names(value):
                    listed = {token} if listed is None else listed | {token}
    if listed is not None and not listed <= dropped:
        # A listed field may come before its Connection header: again, now that all are known.
        return fields_to_cut(headers, FieldSet(dropped | listed))
    return cut


def edit_head(raw: bytes, line_end: int, headers: list[Header], cut: list[int], added: bytes) -> bytes:
    """A head as received — its first line through its last field's value (`Request.raw_head`),
    the first line's CRLF at `line_end` — without the field lines `cut` (indices into `headers`,
    as parsed from `raw`, ascending), with `added` lines and the blank line that ends a head.

    Forwarding a head this way costs a few slice compares per removed line instead of a render
    per field. Lines are located by adding up `name: value` lengths (one space after the colon,
    as nearly every sender writes); each removed line is checked where it is expected (CRLF,
    name, CRLF: a value holds no CR or LF, so only a real line passes) and a mismatch falls back
    to searching for the line."""
    if not cut:
        return b"".join((raw, b"\r\n", added, b"\r\n"))
    parts: list[bytes] = []
    size = len(raw)
    position = line_end  # the CRLF before field line 0
    kept_from = 0
    line = 0
    for index in cut:
        while line < index:
            name, value = headers[line]
            position += len(name) + len(value) + 4
            line += 1
        name, value = headers[index]
        name_end = position + 2 + len(name)
        end = name_end + 2 + len(value)
        # CR and LF compared as byte values: no slice objects. The last field has no CRLF here.
        if (
            position < kept_from
            or end > size
            or raw[position] != 13
            or raw[position + 1] != 10
            or raw[position + 2 : name_end] != name
            or (end < size and (end + 1 == size or raw[end] != 13 or raw[end + 1] != 10))
        ):
            return _edit_by_search(raw, [headers[i][0] for i in cut], added)
        parts.append(raw[kept_from:position])
        kept_from = end
    parts.append(raw[kept_from:])
    parts.append(b"\r\n")
    parts.append(added)
    parts.append(b"\r\n")
    return b"".join(parts)


def _edit_by_search(raw: bytes, names: list[bytes], added: bytes) -> bytes:
    """`edit_head` for heads whose lines are not all `name: value` (other whitespace)."""
    parts: list[bytes] = []
    kept_from = 0
    for name in names:
        start = raw.find(b"\r\n" + name + b":", kept_from)
        end = raw.find(b"\r\n", start + 2)
        parts.append(raw[kept_from:start])
        kept_from = end if end >= 0 else len(raw)  # the last field: no CRLF in `raw`
    parts.append(raw[kept_from:])
    parts.append(b"\r\n")
    parts.append(added)
    parts.append(b"\r\n")
    return b"".join(parts)


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
