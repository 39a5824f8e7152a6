# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""In-memory response store, bounded by bytes, evicting the least recently used (CLOCK).

The hit path is `fresh_wire`: one dict lookup, one freshness compare, one flag store, and the
ready bytes. Eviction is CLOCK (second chance), an LRU approximation: a hit only sets `ref`; a hand
walks a ring of keys, clearing `ref` on the way and evicting the first entry found without it.
A plain dict plus that ring costs ~60 B per entry where an OrderedDict costs ~105 B (measured).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

from originguard.cache.entry import CacheEntry
from originguard.cache.facts import Headers
from originguard.cache.invalidation import InvalidationPath
from originguard.cache.key import normalize_host, split_key, vary_key

ENTRY_OVERHEAD: Final = 280
"""Bytes an entry costs beyond its key and wire bytes (measured by bench/cache_store_bench.py)."""

VARIANT_OVERHEAD: Final = 330
"""Bytes a Vary variant costs beyond its secondary key and wire bytes (entry + inner dict slot)."""

GROUP_OVERHEAD: Final = 260
"""Bytes a Vary group costs beyond its key (object, inner dict, table slot)."""

_PathMatch = Callable[[bytes], bool]

MAX_VARIANTS: Final = 32
"""Variants kept per URL; a Vary on a high-cardinality field must not fill the cache with one URL."""


class _Variants:
    """The stored variants of one URL whose responses carry Vary (RFC 9111 §4.1)."""

    __slots__ = ("charge", "entries", "fields", "ref")

    def __init__(self, fields: tuple[bytes, ...], charge: int) -> None:
        self.fields = fields
        self.entries: dict[bytes, CacheEntry] = {}
        self.charge = charge
        self.ref = False


class MemoryStore:
    """Stored responses by cache key, at most `max_bytes` charged and `max_object_bytes` per object."""

    def __init__(self, max_bytes: int, max_object_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.max_object_bytes = max_object_bytes
        self._map: dict[bytes, CacheEntry | _Variants] = {}
        # Keys in insertion order for the CLOCK hand; deleted keys stay until the ring is compacted.
        self._ring: list[bytes] = []
        self._hand = 0
        self._bytes = 0
        self._count = 0

    @property
    def size(self) -> int:
        """Bytes charged for everything stored."""
        return self._bytes

    def __len__(self) -> int:
        """Number of stored responses (each Vary variant counts)."""
        return self._count

    def admits(self, length: int) -> bool:
        """Could a response of `length` bytes be stored; if not, stream it through instead."""
        return length <= self.max_object_bytes

    def fresh_wire(self, key: bytes, now: float) -> bytes | None:
        """Ready bytes of a fresh, Vary-free entry for a plain GET; None means take the slow path."""
        entry = self._map.get(key)
        if type(entry) is not CacheEntry or now >= entry.fresh_until:
            return None
        entry.ref = True
        return entry.wire if now < entry.memo_until else entry.wire_at(now)

    def get(self, key: bytes, headers: Headers = ()) -> CacheEntry | None:
        """The entry stored for `key` whose Vary fields match the request `headers`."""
        item = self._map.get(key)
        if item is None or type(item) is CacheEntry:
            if item is not None:
                item.ref = True
            return item
        assert isinstance(item, _Variants)
        entry = item.entries.get(vary_key(item.fields, headers))
        if entry is not None:
            item.ref = True
        return entry

    def put(self, key: bytes, entry: CacheEntry, vary: tuple[bytes, ...] = (), headers: Headers = ()) -> bool:
        """Store `entry` (for the request `headers` when it varies); False if it cannot be stored."""
        if vary == (b"*",) or len(entry.wire) > self.max_object_bytes:
            return False
        old = self._map.get(key)
        if vary and isinstance(old, _Variants) and old.fields == vary:
            group: _Variants | None = old
        else:
            if old is not None:
                self._forget(key, self._map.pop(key))
            group = None
        if not vary:
            charge = _entry_charge(key, entry)
            if charge > self.max_bytes:
                return False
            self._make_room(charge, keep=key)
            self._insert(key, entry, charge, old is not None)
            return True
        if group is None:
            group = _Variants(vary, GROUP_OVERHEAD + len(key))
            if group.charge > self.max_bytes:
                return False
            self._make_room(group.charge, keep=key)
            self._insert(key, group, group.charge, old is not None)
        secondary = vary_key(vary, headers)
        previous = group.entries.pop(secondary, None)
        if previous is not None:
            self._shrink(group, secondary, previous)
        elif len(group.entries) >= MAX_VARIANTS:
            oldest = next(iter(group.entries))
            self._shrink(group, oldest, group.entries.pop(oldest))
        charge = _variant_charge(secondary, entry)
        self._make_room(charge, keep=key)
        group.entries[secondary] = entry
        group.charge += charge
        group.ref = True
        self._bytes += charge
        self._count += 1
        return True

    def delete(self, key: bytes) -> int:
        """Drop everything stored under `key`; returns how many responses went."""
        item = self._map.pop(key, None)
        return 0 if item is None else self._forget(key, item)

    def invalidate(self, path: bytes, host: bytes | None = None) -> int:
        """Drop every response for `path` (any query unless `path` has one, any host unless given)."""
        with_query = b"?" in path
        return self._drop_where(lambda p: (p if with_query else p.partition(b"?")[0]) == path, host)

    def invalidate_prefix(self, prefix: bytes, host: bytes | None = None) -> int:
        """Drop every response whose path and query start with `prefix` ("/img/" for "/img/*")."""
        return self._drop_where(lambda p: p.startswith(prefix), host)

    def invalidate_paths(self, paths: Iterable[str], host: bytes | None = None) -> int:
        """Apply admin invalidation paths (`POST /invalidations`): "/exact" or "/prefix*"."""
        dropped = 0
        for text in paths:
            spec = InvalidationPath.parse(text)
            if spec.prefix:
                dropped += self.invalidate_prefix(spec.path, host)
            else:
                dropped += self.invalidate(spec.path, host)
        return dropped

    def _drop_where(self, match: _PathMatch, host: bytes | None) -> int:
        """Delete the keys whose path part satisfies `match`; a full scan, as admin calls are rare."""
        wanted_host = normalize_host(host) if host is not None else None
        doomed = []
        for key in self._map:
            key_host, path = split_key(key)
            if (wanted_host is None or key_host == wanted_host) and match(path):
                doomed.append(key)
        dropped = sum(self.delete(key) for key in doomed)
        if len(self._ring) > 2 * len(self._map) + 1024:
            self._compact()
        return dropped

    def _insert(self, key: bytes, item: CacheEntry | _Variants, charge: int, in_ring: bool) -> None:
        """Add a new item; a replaced key keeps its ring slot, so the ring holds each live key once."""
        self._map[key] = item
        self._bytes += charge
        self._count += 1 if isinstance(item, CacheEntry) else len(item.entries)
        if not in_ring:
            self._ring.append(key)
            if len(self._ring) > 2 * len(self._map) + 1024:
                self._compact()

    def _make_room(self, need: int, keep: bytes) -> None:
        """Evict until `need` more bytes fit; referenced entries get a second chance, `keep` is spared."""
        table, ring = self._map, self._ring
        # Two sweeps evict everything evictable; the bound only matters when `keep` alone is too big.
        steps = 3 * len(ring)
        while self._bytes + need > self.max_bytes and steps > 0 and ring:
            steps -= 1
            if self._hand >= len(ring):
                self._hand = 0
            key = ring[self._hand]
            self._hand += 1
            item = table.get(key)
            if item is None or key == keep:
                continue  # a deleted key's slot, cleared at the next compaction
            if item.ref:
                item.ref = False
                continue
            del table[key]
            self._forget(key, item)

    def _compact(self) -> None:
        """Drop ring slots of deleted keys, keeping the hand's order."""
        ring = self._ring[self._hand :] + self._ring[: self._hand]
        self._ring = [key for key in dict.fromkeys(ring) if key in self._map]
        self._hand = 0

    def _forget(self, key: bytes, item: CacheEntry | _Variants) -> int:
        """Un-charge an item already taken out of the table; returns its response count."""
        if isinstance(item, CacheEntry):
            self._bytes -= _entry_charge(key, item)
            self._count -= 1
            return 1
        self._bytes -= item.charge
        self._count -= len(item.entries)
        return len(item.entries)

    def _shrink(self, group: _Variants, secondary: bytes, entry: CacheEntry) -> None:
        """Un-charge a variant already taken out of its group."""
        charge = _variant_charge(secondary, entry)
        group.charge -= charge
        self._bytes -= charge
        self._count -= 1


def _wire_len(entry: CacheEntry) -> int:
    """Length of the wire bytes without the Age digits, which change as the entry ages."""
    wire = entry.wire
    return len(wire) - (wire.index(b"\r", entry.age_at) - entry.age_at)


def _entry_charge(key: bytes, entry: CacheEntry) -> int:
    """Bytes charged for a Vary-free entry."""
    return len(key) + _wire_len(entry) + ENTRY_OVERHEAD


def _variant_charge(secondary: bytes, entry: CacheEntry) -> int:
    """Bytes charged for one Vary variant."""
    return len(secondary) + _wire_len(entry) + VARIANT_OVERHEAD
