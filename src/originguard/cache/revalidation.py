"""Revalidating a stored response: the conditional request and the 304 merge (RFC 9111 §4.3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from originguard.cache.entry import CacheEntry, make_entry
from originguard.cache.facts import DEFAULT_TARGETED, Headers, RequestFacts, ResponseFacts, connection_fields
from originguard.cache.freshness import TtlBounds
from originguard.cache.policy import can_store

_NOT_UPDATED: Final = frozenset({b"content-length", b"content-encoding", b"content-range"})
"""RFC 9111 §3.2: a 304 never changes the fields the stored content depends on."""


@dataclass(frozen=True, slots=True)
class Revalidated:
    """Outcome of merging a 304: the refreshed entry to serve, and whether to store it back."""

    entry: CacheEntry | None
    store: bool
    reason: str
    rfc: str


def merge_304(
    stored: CacheEntry,
    request: RequestFacts,
    headers_304: Headers,
    *,
    request_time: float,
    response_time: float,
    ttl: TtlBounds,
    targeted: Sequence[bytes] = DEFAULT_TARGETED,
) -> Revalidated:
    """Refresh `stored` with a 304's header fields (RFC 9111 §3.2, §4.3.4) and recompute its freshness."""
    fresh = ResponseFacts.parse(304, headers_304, targeted)
    stored_fields = stored.headers()
    if not _same_representation(fresh, stored_fields):
        return Revalidated(None, False, "304 validator does not match the stored response", "9111 §4.3.4")
    skip = connection_fields(headers_304) | _NOT_UPDATED
    updates = [(n, v) for n, v in headers_304 if n.lower() not in skip]
    replaced = {n.lower() for n, _ in updates}
    merged = [(n, v) for n, v in stored_fields if n.lower() not in replaced]
    merged += updates
    if stored.edge_directives is not None and not replaced.intersection(targeted):
        merged.append(stored.edge_directives)  # our targeted field was never in the stored head
    facts = ResponseFacts.parse(stored.status, merged, targeted)
    decision = can_store(request, facts, ttl, response_time)
    entry = make_entry(
        facts,
        stored.body,
        lifetime=decision.lifetime if decision.store else 0.0,
        no_stale=decision.no_stale if decision.store else True,
        request_time=request_time,
        response_time=response_time,
        targeted=targeted,
    )
    return Revalidated(entry, decision.store, f"304 merged; {decision.reason}", "9111 §4.3.4")


def _same_representation(fresh: ResponseFacts, stored_fields: list[tuple[bytes, bytes]]) -> bool:
    """Does the 304 describe the stored response (RFC 9111 §4.3.4)."""
    stored_etag = next((v for n, v in stored_fields if n.lower() == b"etag"), None)
    if fresh.etag is not None:
        return fresh.etag == stored_etag
    stored_lm = next((v for n, v in stored_fields if n.lower() == b"last-modified"), None)
    if fresh.last_modified is not None and stored_lm is not None:
        return ResponseFacts.parse(200, [(b"last-modified", stored_lm)]).last_modified == fresh.last_modified
    # No validator in the 304: we asked about exactly this entry, so it answers for it. (Stricter
    # than nginx, looser than §4.3.4's third rule, which would refetch for origins that omit ETag.)
    return True
