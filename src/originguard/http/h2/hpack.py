# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Compiled (mypyc): HPACK (RFC 7541) decoder and encoder for HTTP/2 header blocks; sans-IO.

`Decoder.decode(block)` turns one complete header block (HEADERS + CONTINUATION fragments joined)
into a list of (name, value) pairs; `Encoder.encode(headers)` does the reverse. Each side keeps its
dynamic table (`hpack_table.DynamicTable`) across the blocks of one connection, so every block of a
connection must pass through the same object in order, and a decoding error (H2CompressionError, the
connection's COMPRESSION_ERROR) leaves the table unusable: the connection must end (RFC 9113 §4.3).

Attacks refused with bounded cost, each a COMPRESSION_ERROR:
- the HPACK bomb: a few bytes referencing a large dynamic entry many times; the decoded header list
  is counted as SETTINGS_MAX_HEADER_LIST_SIZE counts it (name + value + 32 per field, RFC 9113 §6.5.2)
  and decoding stops at the first field past `max_header_list_size`;
- integers longer than 4 continuation octets (values past 2^28), string literals longer than the
  header list cap or than the block, indices past the tables, Huffman EOS or bad padding (§5.2);
- a dynamic table size update past our SETTINGS_HEADER_TABLE_SIZE, after a field, or missing when
  we lowered that setting (§4.2, §6.3).

Sensitive fields (§7.1.3): the encoder sends `authorization`, `proxy-authorization`, cookies shorter
than 20 octets (guessable) and every name in `sensitive` (the encoder's, such as the secret origin
header's name, and a block's) as never-indexed literals, so neither we nor a later hop puts them in
a compression context, and keeps no copy of their values; the decoder reports which fields arrived
so (`never_indexed`), for a hop that forwards them over HTTP/2.
"""

from __future__ import annotations

from typing import Final

from originguard.errors import H2CompressionError
from originguard.http.h2.hpack_table import ENTRY_OVERHEAD, STATIC_COUNT, STATIC_ENTRIES, DynamicTable
from originguard.http.h2.hpack_tables import STATIC_TABLE
from originguard.http.h2.huffman import huffman_decode, huffman_encode, huffman_length

DEFAULT_TABLE_SIZE: Final = 4096  # RFC 9113 §6.5.2 initial SETTINGS_HEADER_TABLE_SIZE
DEFAULT_MAX_HEADER_LIST_SIZE: Final = 65536
# 4 continuation octets carry 28 bits: more than any table size, index or string length we accept.
MAX_INTEGER_OCTETS: Final = 4
SHORT_COOKIE: Final = 20  # RFC 7541 §7.1.3: short cookie values are guessable, never index them
ALWAYS_NEVER_INDEXED: Final = frozenset((b"authorization", b"proxy-authorization"))
# Values that change with nearly every response: indexing them only evicts entries that repeat.
NOT_INDEXED: Final = frozenset((b"content-length", b"content-range", b"age", b"etag", b"last-modified"))
NO_NAMES: Final[frozenset[bytes]] = frozenset()
MAX_CODED: Final = 256  # coded literals kept per encoder
MAX_CODED_LENGTH: Final = 64


def _integer(block: bytes, pos: int, end: int, prefix: int) -> tuple[int, int]:
    """(value, next position) of the integer whose prefix is the low `prefix` bits (§5.1)."""
    mask = (1 << prefix) - 1
    value = block[pos] & mask
    pos += 1
    if value < mask:
        return value, pos
    shift = 0
    while True:
        if pos >= end:
            raise H2CompressionError("HPACK: integer runs past the end of the block")
        if shift >= 7 * MAX_INTEGER_OCTETS:
            raise H2CompressionError("HPACK: integer too large")
        byte = block[pos]
        pos += 1
        value += (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


class Decoder:
    """Decodes the header blocks of one connection's peer, in order."""

    def __init__(
        self,
        max_header_list_size: int = DEFAULT_MAX_HEADER_LIST_SIZE,
        max_table_size: int = DEFAULT_TABLE_SIZE,
    ) -> None:
        self.table = DynamicTable(max_table_size, searchable=False)
        self.max_header_list_size = max_header_list_size
        # Our SETTINGS_HEADER_TABLE_SIZE: the bound on the peer's size updates.
        self.max_allowed_table_size = max_table_size
        self.update_required = False
        # Positions (in the last decoded list) of the fields sent as never-indexed.
        self.never_indexed: list[int] = []

    def set_max_allowed_table_size(self, size: int) -> None:
        """Our SETTINGS_HEADER_TABLE_SIZE changed (call once the peer ACKed it)."""
        self.max_allowed_table_size = size
        if size < self.table.max_size:
            self.update_required = True  # §4.2: the next block must shrink the table first

    def decode(self, block: bytes) -> list[tuple[bytes, bytes]]:
        """The header list of one complete header block; H2CompressionError when it is invalid."""
        headers: list[tuple[bytes, bytes]] = []
        if len(self.never_indexed):
            self.never_indexed = []
        table = self.table
        pos = 0
        end = len(block)
        list_size = 0
        limit = self.max_header_list_size
        if self.update_required and (end == 0 or block[0] & 0xE0 != 0x20):
            raise H2CompressionError("HPACK: the block must start with a table size update (RFC 7541 §4.2)")
        while pos < end:
            first = block[pos]
            if first & 0x80:  # §6.1 indexed field
                index, pos = _integer(block, pos, end, 7)
                field = self._field(index)
                name = field[0]
                value = field[1]
            elif first & 0x40:  # §6.2.1 literal with incremental indexing
                index, pos = _integer(block, pos, end, 6)
                name, value, pos = self._literal(block, pos, end, index)
                table.add(name, value)
            elif first & 0x20:  # §6.3 dynamic table size update
                if len(headers):
                    raise H2CompressionError("HPACK: table size update after a field (RFC 7541 §4.2)")
                size, pos = _integer(block, pos, end, 5)
                if size > self.max_allowed_table_size:
                    raise H2CompressionError("HPACK: table size update above SETTINGS_HEADER_TABLE_SIZE")
                table.resize(size)
                self.update_required = False
                continue
            else:  # §6.2.2 without indexing (0x00), §6.2.3 never indexed (0x10)
                index, pos = _integer(block, pos, end, 4)
                name, value, pos = self._literal(block, pos, end, index)
                if first & 0x10:
                    self.never_indexed.append(len(headers))
            list_size += len(name) + len(value) + ENTRY_OVERHEAD
            if list_size > limit:
                raise H2CompressionError("HPACK: header list larger than SETTINGS_MAX_HEADER_LIST_SIZE")
            headers.append((name, value))
        return headers

    def _field(self, index: int) -> tuple[bytes, bytes]:
        if index == 0:
            raise H2CompressionError("HPACK: index 0 (RFC 7541 §6.1)")
        if index <= STATIC_COUNT:
            return STATIC_ENTRIES[index - 1]
        return self.table.get(index - STATIC_COUNT)

    def _literal(self, block: bytes, pos: int, end: int, index: int) -> tuple[bytes, bytes, int]:
        if index:
            name = self._field(index)[0]
        else:
            name, pos = self._string(block, pos, end)
        value, pos = self._string(block, pos, end)
        return name, value, pos

    def _string(self, block: bytes, pos: int, end: int) -> tuple[bytes, int]:
        """(octets, next position) of a string literal (§5.2)."""
        if pos >= end:
            raise H2CompressionError("HPACK: string literal missing at the end of the block")
        huffman = block[pos] & 0x80
        length, pos = _integer(block, pos, end, 7)
        if length > end - pos:
            raise H2CompressionError("HPACK: string literal runs past the end of the block")
        if length > self.max_header_list_size:
            raise H2CompressionError("HPACK: string literal larger than the header list cap")
        raw = block[pos : pos + length]
        return (huffman_decode(raw) if huffman else raw), pos + length


class Encoder:
    """Encodes the header blocks we send on one connection, in order."""

    def __init__(
        self,
        max_table_size: int = DEFAULT_TABLE_SIZE,
        sensitive: frozenset[bytes] = NO_NAMES,
        huffman: bool = True,
    ) -> None:
        self.table = DynamicTable(max_table_size, searchable=True)
        # Names always sent never-indexed: credentials, plus the connection's own (the secret
        # origin header's name), given once here rather than per block.
        self.never_indexed = ALWAYS_NEVER_INDEXED | sensitive
        self.huffman = huffman  # False only to reproduce RFC 7541 C.3/C.5 byte for byte
        # Literals sent again and again without indexing (content-length, etag, ...): their coded
        # form, so a repeated value is not Huffman-coded per response. Bounded: cleared when full.
        self.coded: dict[bytes, bytes] = {}
        # Our own cap on the table, whatever the peer allows (memory per connection).
        self.own_max_table_size = max_table_size
        self.pending_min_size = -1  # smallest size the peer allowed since the last block, -1: none
        self.pending_size = -1

    def set_max_table_size(self, size: int) -> None:
        """The peer's SETTINGS_HEADER_TABLE_SIZE: the next block starts with the size update(s) (§4.2)."""
        size = min(size, self.own_max_table_size)
        if self.pending_min_size < 0 or size < self.pending_min_size:
            self.pending_min_size = size
        self.pending_size = size

    def encode(self, headers: list[tuple[bytes, bytes]], sensitive: frozenset[bytes] = NO_NAMES) -> bytes:
        """One header block for `headers` (lower-case names); `sensitive` names (too) go never-indexed."""
        out: list[bytes] = []
        if self.pending_size >= 0:
            self._size_updates(out)
        table = self.table
        for name, value in headers:
            never = name in self.never_indexed
            if not never and len(sensitive):
                never = name in sensitive
            if not never and name == b"cookie":
                never = len(value) < SHORT_COOKIE
            if not never:
                index = _STATIC_FIELDS.get((name, value), 0)
                if not index:
                    index = table.find(name, value)
                    if index:
                        index += STATIC_COUNT
                if index:
                    out.append(_int_bytes(index, 7, 0x80))
                    continue
            name_index = _STATIC_NAMES.get(name, 0)
            if not name_index:
                name_index = table.find_name(name)
                if name_index:
                    name_index += STATIC_COUNT
            if never:
                out.append(_int_bytes(name_index, 4, 0x10))
            elif name in NOT_INDEXED or len(name) + len(value) + ENTRY_OVERHEAD > table.max_size >> 1:
                # a field over half the table would evict most of it (or all: §4.4) to be used once
                out.append(_int_bytes(name_index, 4, 0x00))
            else:
                out.append(_int_bytes(name_index, 6, 0x40))
                table.add(name, value)
            if not name_index:
                out.append(self._literal(name))
            out.append(_string_bytes(value, self.huffman) if never else self._literal(value))
        return b"".join(out)

    def _literal(self, data: bytes) -> bytes:
        """A string literal, from the cache of coded literals when it was sent before."""
        coded = self.coded.get(data)
        if coded is None:
            coded = _string_bytes(data, self.huffman)
            if len(data) <= MAX_CODED_LENGTH:
                if len(self.coded) >= MAX_CODED:
                    self.coded.clear()
                self.coded[data] = coded
        return coded

    def _size_updates(self, out: list[bytes]) -> None:
        if self.pending_min_size < self.pending_size:
            out.append(_int_bytes(self.pending_min_size, 5, 0x20))
            self.table.resize(self.pending_min_size)
        out.append(_int_bytes(self.pending_size, 5, 0x20))
        self.table.resize(self.pending_size)
        self.pending_size = -1
        self.pending_min_size = -1


def _int_bytes(value: int, prefix: int, flags: int) -> bytes:
    """An integer with a `prefix`-bit prefix, the first octet's high bits `flags` (§5.1)."""
    mask = (1 << prefix) - 1
    if value < mask:
        return _ONE_OCTET[flags | value]
    out = [flags | mask]
    value -= mask
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _string_bytes(data: bytes, huffman: bool) -> bytes:
    """A string literal, Huffman-coded unless that is longer (§5.2)."""
    if huffman:
        coded = huffman_length(data)
        if coded <= len(data):  # RFC 7541 Appendix C prefers Huffman on a tie
            return _int_bytes(coded, 7, 0x80) + huffman_encode(data)
    return _int_bytes(len(data), 7, 0) + data


_ONE_OCTET: Final[list[bytes]] = [bytes((octet,)) for octet in range(256)]
_STATIC_FIELDS: Final[dict[tuple[bytes, bytes], int]] = {}
_STATIC_NAMES: Final[dict[bytes, int]] = {}
for _index, (_name, _value) in enumerate(STATIC_TABLE, start=1):
    _STATIC_FIELDS.setdefault((_name, _value), _index)
    _STATIC_NAMES.setdefault(_name, _index)
