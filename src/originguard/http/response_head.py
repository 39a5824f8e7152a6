# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""An upstream response head, read once for what a proxy needs of it.

Given an `on_header` callback, httptools calls into Python once per field; for a relayed response
that was most of the cost of its head (about 1,000 instructions a field, compiled). The upstream
connection takes no such callback. llhttp still checks every byte of the head: it refuses obs-fold,
a bare CR or LF and whitespace before the colon (tests/unit/http/test_response_head.py), so in a
head it accepted every field line is `name:OWS value` ending in CRLF. One `split()` then gives
every line, and a table indexed by a line's first byte (either case) names the few fields it can
start with: the framing fields, Date, and the ones the proxy cuts. Lowering the whole head instead
cost as much as the rest of the scan.

    status_at(received, start) -> int: the status code, read off the status line
    keeps_alive(head, status) -> int: whether the connection outlives the response (-1: unsure)
    scan_head(raw, cuts) -> ResponseHead: framing (Content-Length, Transfer-Encoding), Date, the
                            spans a proxy removes (its cut set and what Connection lists)
    forwarded_head(head, added) -> bytes: the head as received minus those spans, plus `added`
    fields_of(raw) -> list of (name, value): for the paths that want every field
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from originguard.http.headers import HOP_BY_HOP, listed_names

Header = tuple[bytes, bytes]

# What a line's name is to a proxy, as bits: Connection and Transfer-Encoding are also cut.
CUT: Final = 1
DATE: Final = 2
LENGTH: Final = 4
CODINGS: Final = 8
CONNECTION: Final = 16

_NOTED: Final = {
    b"date": DATE,
    b"content-length": LENGTH,
    b"transfer-encoding": CODINGS,
    b"connection": CONNECTION,
}
# Called as a function: a method called by name from compiled code is looked up on every call.
_SPLIT: Final = bytes.split

# A framing field stays whatever Connection lists: the relay frames the body by it (nginx ignores
# such listings too).
_FRAMING: Final = b"content-length"


class CutSet:
    """Lower-case names of response fields a proxy removes, as a table by first byte."""

    __slots__ = ("names", "table")

    def __init__(self, names: Iterable[bytes]) -> None:
        self.names = frozenset(names)
        # Indexed by a line's first byte (either case): (name, its usual spelling + ":", what it
        # is to a proxy); a handful of entries at most.
        table: list[list[tuple[bytes, bytes, int]]] = [[] for _ in range(256)]
        for name in sorted({*self.names, *_NOTED}):
            kind = _NOTED.get(name, 0) | (CUT if name in self.names else 0)
            usual = b"-".join(part.capitalize() for part in name.split(b"-")) + b":"
            for first in {name[0], usual[0]}:
                table[first].append((name, usual, kind))
        self.table = table


HOP_BY_HOP_CUTS: Final = CutSet(HOP_BY_HOP)


class ResponseHead:
    """One response head as received (status line through its last field's CRLF) and what
    `scan_head` found in it."""

    __slots__ = ("codings", "connection", "cut", "has_date", "length", "raw", "status_end")

    def __init__(self, raw: bytes, status_end: int) -> None:
        self.raw = raw
        self.status_end = status_end  # where the status line's CRLF starts
        self.cut: list[int] = []  # start, end offsets of each removed "\r\n<line>", ascending
        self.has_date = False  # a Date field stays
        self.length: bytes | None = None  # the Content-Length value
        self.codings: bytes | None = None  # the Transfer-Encoding values, lower-case, comma-joined
        self.connection: bytes | None = None  # the Connection values as sent, comma-joined

    def fields(self) -> list[Header]:
        """Every field, in order (names as sent)."""
        return fields_of(self.raw)


def scan_head(raw: bytes, cuts: CutSet) -> ResponseHead:
    """Read `raw`, a head llhttp accepted, for framing, Date and the lines to remove."""
    lines = _SPLIT(raw, b"\r\n")  # the status line, each field, b"" after the last CRLF
    head = ResponseHead(raw, len(lines[0]))
    table = cuts.table
    cut = head.cut
    listed: set[bytes] | None = None
    position = head.status_end  # the CRLF before the current line
    for index in range(1, len(lines) - 1):
        line = lines[index]
        end = position + 2 + len(line)
        if len(line):  # not `if line`: compiled, that is a generic truth test per line
            for name, usual, kind in table[line[0]]:
                # Most senders spell names the usual way: one compiled startswith. Otherwise a
                # colon right after the name, then a case-blind compare (RFC 9110 §5.1).
                size = len(name)
                if not line.startswith(usual) and (
                    len(line) <= size or line[size] != 58 or line[:size].lower() != name  # 58: ":"
                ):
                    continue
                if kind & CUT:
                    cut.append(position)
                    cut.append(end)
                if kind == DATE:  # not DATE | CUT: a Date that goes does not count
                    head.has_date = True
                elif kind & LENGTH:
                    if head.length is None:
                        head.length = _value(line, size + 1)
                elif kind & CODINGS:
                    value = _value(line, size + 1).lower()
                    head.codings = value if head.codings is None else head.codings + b"," + value
                elif kind & CONNECTION:
                    value = _value(line, size + 1)
                    head.connection = value if head.connection is None else head.connection + b"," + value
                    if value != b"keep-alive" and value != b"close":  # what nearly all send
                        listed = _listed(value, cuts.names, listed)
                break
        position = end
    if listed is not None:
        _cut_listed(head, lines, listed)  # RFC 9110 §7.6.1: a listed field may come before Connection
    return head


def status_at(received: bytes, start: int) -> int:
    """The status code of the head llhttp accepted at `start`, read off its line when that is a
    first head spelled `HTTP/1.x DDD` as nearly all are; else 0 (ask the parser: its
    `get_status_code()` is a call by name from compiled code, several times the cost)."""
    if start or len(received) < 13 or not received.startswith(b"HTTP/1.") or received[8] != 32:
        return 0
    hundreds, tens, units, after = received[9], received[10], received[11], received[12]
    if not (48 <= hundreds <= 57 and 48 <= tens <= 57 and 48 <= units <= 57) or (after != 32 and after != 13):
        return 0
    return (hundreds - 48) * 100 + (tens - 48) * 10 + units - 48


def keeps_alive(head: ResponseHead, status: int) -> int:
    """Whether the connection outlives this response, as llhttp's `should_keep_alive()` says it
    (RFC 9112 §9.3, §6.3), for the plain cases: 1 or 0; -1 when unsure (ask the parser)."""
    if head.codings is not None:
        return -1
    connection = head.connection
    if head.raw.startswith(b"HTTP/1.1 "):
        if connection == b"close":
            return 0
        if connection is not None and connection != b"keep-alive":
            return -1
    elif head.raw.startswith(b"HTTP/1.0 "):
        if connection is None or connection == b"close":
            return 0
        if connection != b"keep-alive":
            return -1
    else:
        return -1
    if head.length is None and not (100 <= status < 200 or status == 204 or status == 304):
        return 0  # the body runs until the close
    return 1


def forwarded_head(head: ResponseHead, added: bytes, status_line: bytes = b"") -> bytes:
    """The head as received without its cut lines, with `added` lines (each ending in CRLF) and
    the blank line that ends a head; `status_line` (no CRLF), when given, replaces the first line."""
    raw = head.raw
    cut = head.cut
    if not cut and not status_line:
        return raw + added + b"\r\n"
    parts: list[bytes] = []
    kept_from = 0
    if status_line:
        parts.append(status_line)
        kept_from = head.status_end
    for index in range(0, len(cut), 2):
        parts.append(raw[kept_from : cut[index]])
        kept_from = cut[index + 1]
    parts.append(raw[kept_from:])
    parts.append(added)
    parts.append(b"\r\n")
    return b"".join(parts)


def fields_of(raw: bytes) -> list[Header]:
    """Every field of a head llhttp accepted, in order; values without surrounding whitespace
    (RFC 9112 §5: it is not part of the value)."""
    fields: list[Header] = []
    lines = raw.split(b"\r\n")
    for index in range(1, len(lines) - 1):
        name, _, value = lines[index].partition(b":")
        fields.append((name, value.strip(b" \t")))
    return fields


def _value(line: bytes, start: int) -> bytes:
    """`line[start:]` without the OWS (SP, HTAB) around it. A loop over a byte or two costs less
    than `strip()`, a method call from compiled code (argument parsing included)."""
    end = len(line)
    while start < end and (line[start] == 32 or line[start] == 9):
        start += 1
    while end > start and (line[end - 1] == 32 or line[end - 1] == 9):
        end -= 1
    return line[start:end]


def _listed(value: bytes, cut: frozenset[bytes], listed: set[bytes] | None) -> set[bytes] | None:
    """`listed` plus the field names one Connection value lists that are not cut yet."""
    for token in listed_names(value):
        if token != _FRAMING and token not in cut:
            listed = {token} if listed is None else listed | {token}
    return listed


def _cut_listed(head: ResponseHead, lines: list[bytes], listed: set[bytes]) -> None:
    """Add the lines whose names Connection lists to `head.cut` (rare: a second pass is fine)."""
    spans = [(head.cut[i], head.cut[i + 1]) for i in range(0, len(head.cut), 2)]
    position = head.status_end
    for index in range(1, len(lines) - 1):
        end = position + 2 + len(lines[index])
        name = lines[index].partition(b":")[0].lower()
        if name in listed:
            spans.append((position, end))
            if name == b"date":
                head.has_date = False
        position = end
    head.cut = [offset for span in sorted(set(spans)) for offset in span]
