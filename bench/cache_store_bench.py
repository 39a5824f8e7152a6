"""Memory and speed of the edge's in-memory cache store.

Prints: per-entry overhead (bytes beyond key + wire bytes, by tracemalloc), memory held by a full
store against its byte limit, and ns per hit lookup. Runs in well under 30 s:

    .venv/bin/python bench/cache_store_bench.py
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable

from originguard.cache import (
    CacheEntry,
    KeyPolicy,
    MemoryStore,
    RequestFacts,
    ResponseFacts,
    TtlBounds,
    cache_key,
    can_store,
    decide,
    make_entry,
    respond,
)
from originguard.cache.httpdate import format_http_date

NOW = 1_700_000_000.0
POLICY = KeyPolicy()
TTL = TtlBounds()


def _template(body_size: int) -> CacheEntry:
    """A stored entry shaped like a typical static-file response, built the way the edge builds it."""
    headers = [
        (b"Date", format_http_date(NOW)),
        (b"Content-Type", b"text/html; charset=utf-8"),
        (b"Cache-Control", b"public, max-age=3600"),
        (b"ETag", b'"00000000-%04x"' % body_size),
        (b"Last-Modified", format_http_date(NOW - 86400)),
    ]
    response = ResponseFacts.parse(200, headers)
    decision = can_store(RequestFacts(b"GET"), response, TTL, NOW)
    return make_entry(
        response,
        bytes(body_size),
        lifetime=decision.lifetime,
        no_stale=decision.no_stale,
        request_time=NOW,
        response_time=NOW,
    )


_TEMPLATES: dict[int, CacheEntry] = {}


def _entry(i: int, body_size: int) -> tuple[bytes, CacheEntry]:
    """Key and entry number `i`: the template with its own ETag, wire bytes and float objects."""
    template = _TEMPLATES.get(body_size) or _TEMPLATES.setdefault(body_size, _template(body_size))
    # Fresh objects per entry, as in real use (sharing bytes or floats would under-count memory).
    wire = template.wire.replace(b'"00000000-', b'"%08x-' % i, 1)
    entry = CacheEntry(
        wire=wire,
        age_at=template.age_at,
        fresh_until=template.fresh_until + i * 1e-6,
        memo_until=template.memo_until + i * 1e-6,
    )
    key = cache_key(b"www.example.test", b"/assets/file-%d.html" % i, None, (), POLICY)
    return key, entry


def _ns_per_op(run: Callable[[], int]) -> float:
    """Best of five runs of `run`, which returns how many operations it did."""
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter_ns()
        ops = run()
        best = min(best, (time.perf_counter_ns() - t0) / ops)
    return best


def overhead(n: int, body_size: int) -> float:
    """Measured bytes per entry beyond its key and wire bytes."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    store = MemoryStore(1 << 40, 1 << 30)
    payload = 0
    for i in range(n):
        key, entry = _entry(i, body_size)
        payload += len(key) + len(entry.wire)
        store.put(key, entry)
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return (used - payload) / n


def bounded(limit: int, body_size: int) -> tuple[int, int, int]:
    """Traced memory of a store filled to twice its limit: (traced bytes, charged bytes, entries)."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    store = MemoryStore(limit, 1 << 20)
    i = 0
    while i < 2 * limit // (body_size + 300):
        key, entry = _entry(i, body_size)
        store.put(key, entry)
        i += 1
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return used, store.size, len(store)


def hits(n_keys: int, rounds: int) -> dict[str, float]:
    """ns per lookup: the fresh_wire fast path, and get + decide + respond."""
    store = MemoryStore(1 << 30, 1 << 20)
    keys = []
    for i in range(n_keys):
        key, entry = _entry(i, 1024)
        store.put(key, entry)
        keys.append(key)
    now = NOW + 10.5
    order = keys * (rounds // n_keys)
    fresh_wire = store.fresh_wire

    def empty_loop() -> int:
        for _key in order:
            pass
        return len(order)

    def fast() -> int:
        for key in order:
            fresh_wire(key, now)
        return len(order)

    request = RequestFacts.parse(b"GET", [(b"Host", b"www.example.test"), (b"Accept", b"*/*")])

    def full() -> int:
        for key in order:
            entry = store.get(key)
            decide(request, entry, now)
            respond(entry, request, now)  # type: ignore[arg-type]
        return len(order)

    clock = [NOW + 20.0]

    def splice() -> int:
        at = clock[0]
        for key in order:
            at += 1e-4  # each key comes back 1 s later (10k keys): every hit splices a new Age
            fresh_wire(key, at)
        clock[0] = at
        return len(order)

    headers = [(b"Host", b"www.example.test"), (b"Accept", b"*/*"), (b"User-Agent", b"bench")]
    paths = [b"/assets/file-%d.html" % i for i in range(n_keys)]

    def keys_only() -> int:
        for path in paths:
            cache_key(b"www.example.test", path, None, headers, POLICY)
        return len(paths)

    base = _ns_per_op(empty_loop)
    figures = {
        "fresh_wire (hit fast path)": _ns_per_op(fast) - base,
        "get + decide + respond (general hit path)": _ns_per_op(full) - base,
        "fresh_wire, new Age on every hit": _ns_per_op(splice) - base,
        "cache_key (no header/cookie policy)": _ns_per_op(keys_only) - base,
    }
    t0 = time.perf_counter_ns()
    dropped = store.invalidate_prefix(b"/assets/file-1")
    prefix_ms = (time.perf_counter_ns() - t0) / 1e6
    figures[f"invalidate_prefix over {n_keys} keys, {dropped} dropped (ms)"] = prefix_ms
    return figures


def main() -> None:
    """Run every measurement and print one line per figure."""
    for body in (1024, 100):
        print(f"overhead per entry, {body} B body: {overhead(50_000, body):.0f} B beyond key + wire bytes")
    for limit in (16 << 20, 64 << 20):
        used, charged, count = bounded(limit, 1024)
        print(
            f"store limit {limit >> 20} MiB, filled 2x with 1 KiB bodies: {count} entries, "
            f"traced {used / limit:.3f} x limit, charged {charged / limit:.3f} x limit"
        )
    for name, value in hits(10_000, 200_000).items():
        print(f"{name}: {value:.0f} ns/op" if "ms" not in name else f"{name}: {value:.1f}")


if __name__ == "__main__":
    main()
