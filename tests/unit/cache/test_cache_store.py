"""The in-memory store: byte bound, CLOCK eviction, Vary variants, invalidation, the hit path."""

from __future__ import annotations

import pytest

from originguard.cache import KeyPolicy, MemoryStore, cache_key, vary_key
from originguard.cache.store import ENTRY_OVERHEAD, MAX_VARIANTS
from tests.unit.cache.cache_helpers import NOW, stored

FRESH = (b"Cache-Control", b"max-age=60")


def _key(path: bytes, host: bytes = b"www.example.test", query: bytes | None = None) -> bytes:
    return cache_key(host, path, query, (), KeyPolicy())


def test_fresh_wire_is_the_hit_path() -> None:
    store = MemoryStore(1 << 20, 1 << 16)
    entry = stored(FRESH)
    assert store.put(_key(b"/a"), entry)
    wire = store.fresh_wire(_key(b"/a"), NOW + 1)
    assert wire is not None and wire.startswith(b"HTTP/1.1 200 OK\r\nAge: 1\r\n")
    assert store.fresh_wire(_key(b"/a"), NOW + 1.5) is wire  # one bytes object per second
    assert store.fresh_wire(_key(b"/a"), NOW + 61) is None  # stale: slow path
    assert store.fresh_wire(_key(b"/b"), NOW) is None


def test_byte_limit_holds_and_recently_used_survive() -> None:
    entry_size = len(_key(b"/00")) + len(stored(FRESH, body=b"x" * 1000).wire) + ENTRY_OVERHEAD
    store = MemoryStore(10 * entry_size, 1 << 16)
    for i in range(10):
        store.put(_key(b"/%02d" % i), stored(FRESH, body=b"x" * 1000))
    assert len(store) == 10
    store.get(_key(b"/00"))  # recently used: gets a second chance
    for i in range(10, 15):
        store.put(_key(b"/%02d" % i), stored(FRESH, body=b"x" * 1000))
    assert store.size <= store.max_bytes
    assert store.get(_key(b"/00")) is not None
    assert store.get(_key(b"/01")) is None
    assert len(store) == 10


def test_objects_over_max_object_bytes_are_not_stored() -> None:
    store = MemoryStore(1 << 20, 100)
    assert not store.admits(101)
    assert not store.put(_key(b"/big"), stored(FRESH, body=b"x" * 200))
    assert len(store) == 0 and store.size == 0


def test_replacing_a_key_keeps_accounting_exact() -> None:
    store = MemoryStore(1 << 20, 1 << 16)
    store.put(_key(b"/a"), stored(FRESH, body=b"1" * 100))
    store.put(_key(b"/a"), stored(FRESH, body=b"2" * 10))
    only = MemoryStore(1 << 20, 1 << 16)
    only.put(_key(b"/a"), stored(FRESH, body=b"2" * 10))
    assert (len(store), store.size) == (1, only.size)
    store.get(_key(b"/a"))
    store.fresh_wire(_key(b"/a"), NOW + 12345)  # a longer Age must not change the charge
    assert store.delete(_key(b"/a")) == 1 and store.size == 0


VARY = (b"Cache-Control", b"max-age=60"), (b"Vary", b"Accept-Encoding")


def test_rfc9111_4_1_vary_keeps_one_variant_per_normalised_value() -> None:
    store = MemoryStore(1 << 20, 1 << 16)
    gzip, plain = stored(*VARY, body=b"gz"), stored(*VARY, body=b"id")
    store.put(_key(b"/v"), gzip, (b"accept-encoding",), [(b"Accept-Encoding", b"gzip,  br")])
    store.put(_key(b"/v"), plain, (b"accept-encoding",), [])
    assert store.get(_key(b"/v"), [(b"accept-encoding", b"gzip, br")]) is gzip  # whitespace normalised
    assert store.get(_key(b"/v"), [(b"Accept-Encoding", b"gzip")]) is None
    assert store.get(_key(b"/v"), []) is plain  # absent matches only absent
    assert store.get(_key(b"/v"), [(b"Accept-Encoding", b"")]) is None
    assert store.fresh_wire(_key(b"/v"), NOW) is None  # varying entries take the slow path
    assert len(store) == 2
    assert store.delete(_key(b"/v")) == 2 and store.size == 0


VARY_MATCHES = [
    # (selecting field, stored request value, presented value, same variant?, why) - RFC 9111 §4.1
    (b"accept-language", b"en, de", b"eN, De", True, "language ranges are case-insensitive"),
    (b"accept-language", b"en, de", b" en ,   de", True, "whitespace around list members"),
    (b"accept-language", b"en, de", b"de, en", False, "order kept: equal weights may prefer the first"),
    (b"accept-encoding", b"GZIP", b"gzip", True, "content-codings are case-insensitive"),
    (b"x-custom", b"ABC", b"abc", False, "an unknown field's case may matter"),
]


@pytest.mark.parametrize(
    ("field", "stored_value", "presented", "same", "why"), VARY_MATCHES, ids=[c[4] for c in VARY_MATCHES]
)
def test_rfc9111_4_1_selecting_fields_normalised_by_their_semantics(
    field: bytes, stored_value: bytes, presented: bytes, same: bool, why: str
) -> None:
    assert (
        vary_key((field,), [(field, stored_value)]) == vary_key((field,), [(field, presented)])
    ) is same, why


def test_rfc9111_4_1_vary_star_is_never_stored_and_variants_are_capped() -> None:
    store = MemoryStore(1 << 22, 1 << 16)
    assert not store.put(_key(b"/s"), stored(FRESH), (b"*",))
    for i in range(MAX_VARIANTS + 5):
        store.put(_key(b"/v"), stored(*VARY), (b"accept-encoding",), [(b"Accept-Encoding", b"e%d" % i)])
    assert len(store) == MAX_VARIANTS


def test_vary_change_replaces_the_variants() -> None:
    store = MemoryStore(1 << 20, 1 << 16)
    store.put(_key(b"/v"), stored(*VARY), (b"accept-encoding",), [(b"Accept-Encoding", b"gzip")])
    store.put(_key(b"/v"), stored(FRESH))
    assert len(store) == 1 and store.fresh_wire(_key(b"/v"), NOW) is not None


@pytest.mark.parametrize(
    ("paths", "left"),
    [
        (["/img/a.png"], {b"/img/b.png", b"/img/sub/c.png", b"/index.html"}),
        (["/img/*"], {b"/index.html"}),
        (["/img/sub*"], {b"/img/a.png", b"/img/b.png", b"/index.html"}),
        (["/*"], set()),
        (["/nothing"], {b"/img/a.png", b"/img/b.png", b"/img/sub/c.png", b"/index.html"}),
    ],
)
def test_admin_invalidation_exact_and_prefix(paths: list[str], left: set[bytes]) -> None:
    store = MemoryStore(1 << 22, 1 << 16)
    all_paths = [b"/img/a.png", b"/img/b.png", b"/img/sub/c.png", b"/index.html"]
    for path in all_paths:
        store.put(_key(path), stored(FRESH))
    store.put(_key(b"/img/a.png", query=b"v=2"), stored(FRESH))  # exact path drops its query variants too
    store.put(_key(b"/img/a.png", host=b"other.test"), stored(FRESH))
    store.invalidate_paths(paths)
    remaining = {p for p in all_paths if store.get(_key(p)) is not None}
    assert remaining == left
    assert len(store) == len(left) + (2 if b"/img/a.png" in left else 0)  # its query and host twins


def test_invalidation_limited_to_a_host() -> None:
    store = MemoryStore(1 << 20, 1 << 16)
    store.put(_key(b"/a"), stored(FRESH))
    store.put(_key(b"/a", host=b"other.test"), stored(FRESH))
    assert store.invalidate(b"/a", host=b"OTHER.test:443") == 1
    assert store.get(_key(b"/a")) is not None


def test_eviction_after_deletions_stays_correct() -> None:
    charge = len(_key(b"/00000")) + len(stored(FRESH, body=b"x" * 100).wire) + ENTRY_OVERHEAD
    store = MemoryStore(50 * charge, 1 << 16)
    for i in range(3000):
        store.put(_key(b"/%05d" % i), stored(FRESH, body=b"x" * 100))
        if i % 3 == 0:
            store.delete(_key(b"/%05d" % (i // 2)))
        assert store.size <= store.max_bytes
    assert 0 < len(store) <= 50
    assert sum(1 for i in range(3000) if store.get(_key(b"/%05d" % i)) is not None) == len(store)
