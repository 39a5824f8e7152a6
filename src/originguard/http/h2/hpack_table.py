# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Compiled (mypyc): the HPACK static and dynamic tables (RFC 7541 §2.3, §4) with size accounting.

The dynamic table is a list appended at its newest end; evictions advance `oldest` and the dead
prefix is cut off in batches, so adding and evicting cost O(1) amortised (a list insert at the front
would move every entry). Dynamic index 1 is the newest entry (§2.3.3). For the encoder, `find` and
`find_name` look an entry up by its insertion number, kept in a dict per field and per name.
"""

from __future__ import annotations

from typing import Final

from originguard.errors import H2CompressionError
from originguard.http.h2.hpack_tables import STATIC_TABLE

STATIC_ENTRIES: Final[list[tuple[bytes, bytes]]] = list(STATIC_TABLE)
STATIC_COUNT: Final = 61
ENTRY_OVERHEAD: Final = 32  # RFC 7541 §4.1: an entry's size is name + value + 32
COMPACT_AFTER: Final = 32  # dead slots kept before the list is cut


class DynamicTable:
    """One direction's dynamic table: entries, their total size and the size limit."""

    def __init__(self, max_size: int, searchable: bool) -> None:
        self.searchable = searchable  # the encoder's: keep the lookup dicts (the decoder needs none)
        self.entries: list[tuple[bytes, bytes]] = []
        self.oldest = 0  # position in `entries` of the oldest live entry
        self.size = 0
        self.max_size = max_size
        self.inserted = 0  # insertion number of the newest entry (1-based)
        self.by_field: dict[tuple[bytes, bytes], int] = {}
        self.by_name: dict[bytes, int] = {}

    def __len__(self) -> int:
        return len(self.entries) - self.oldest

    def get(self, index: int) -> tuple[bytes, bytes]:
        """The entry at dynamic index `index` (1 = newest); H2CompressionError past the end (§2.3.3)."""
        if index > len(self.entries) - self.oldest:
            raise H2CompressionError("HPACK: index past the dynamic table (RFC 7541 §2.3.3)")
        return self.entries[len(self.entries) - index]

    def add(self, name: bytes, value: bytes) -> None:
        """Insert as the newest entry, evicting the oldest until it fits (§4.4)."""
        needed = len(name) + len(value) + ENTRY_OVERHEAD
        if needed > self.max_size:
            self._evict_to(0)  # §4.4: an entry larger than the table empties it and is not added
            return
        self._evict_to(self.max_size - needed)
        field = (name, value)
        self.entries.append(field)
        self.size += needed
        self.inserted += 1
        if self.searchable:
            self.by_field[field] = self.inserted
            self.by_name[name] = self.inserted

    def resize(self, max_size: int) -> None:
        """A new maximum size (§4.3): evicts until the table fits."""
        self.max_size = max_size
        self._evict_to(max_size)

    def find(self, name: bytes, value: bytes) -> int:
        """Dynamic index of the newest entry equal to (name, value), 0 when none."""
        number = self.by_field.get((name, value), 0)
        return self.inserted - number + 1 if number else 0

    def find_name(self, name: bytes) -> int:
        """Dynamic index of the newest entry named `name`, 0 when none."""
        number = self.by_name.get(name, 0)
        return self.inserted - number + 1 if number else 0

    def fields(self) -> list[tuple[bytes, bytes]]:
        """The live entries, newest first (tests compare them with RFC 7541 Appendix C)."""
        return self.entries[self.oldest :][::-1]

    def _evict_to(self, limit: int) -> None:
        entries = self.entries
        while self.size > limit:
            name, value = entries[self.oldest]
            self.size -= len(name) + len(value) + ENTRY_OVERHEAD
            # The insertion number of entries[i] is inserted - (len - 1 - i).
            if self.searchable:
                number = self.inserted - (len(entries) - 1 - self.oldest)
                if self.by_field.get((name, value), 0) == number:
                    del self.by_field[(name, value)]
                if self.by_name.get(name, 0) == number:
                    del self.by_name[name]
            self.oldest += 1
        if self.oldest >= COMPACT_AFTER and self.oldest * 2 >= len(entries):
            del entries[: self.oldest]
            self.oldest = 0
