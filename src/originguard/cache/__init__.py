"""The edge's HTTP cache: sans-IO RFC 9111 policy (with RFC 5861 and RFC 9213) and an in-memory store.

Pure modules (no asyncio, socket, ssl, time or logging): directives, facts, freshness, entry,
policy, revalidation, viewer, key, invalidation, inflight, store, httpdate. `collapse` is the
asyncio shell for request collapsing and is not imported here.
"""

from originguard.cache.directives import CacheControl, parse_cache_control, parse_targeted
from originguard.cache.entry import CacheEntry, make_entry
from originguard.cache.facts import DEFAULT_TARGETED, Headers, RequestFacts, ResponseFacts, strip_for_viewer
from originguard.cache.freshness import Lifetime, TtlBounds, current_age, freshness_lifetime
from originguard.cache.inflight import InFlight
from originguard.cache.invalidation import InvalidationPath, invalidation_keys, invalidations_for
from originguard.cache.key import KeyPolicy, cache_key, vary_key
from originguard.cache.policy import (
    Lookup,
    LookupDecision,
    StaleDecision,
    StoreDecision,
    can_store,
    conditional_headers,
    decide,
    on_origin_error,
)
from originguard.cache.revalidation import Revalidated, merge_304
from originguard.cache.store import MemoryStore
from originguard.cache.viewer import respond

__all__ = [
    "DEFAULT_TARGETED",
    "CacheControl",
    "CacheEntry",
    "Headers",
    "InFlight",
    "InvalidationPath",
    "KeyPolicy",
    "Lifetime",
    "Lookup",
    "LookupDecision",
    "MemoryStore",
    "RequestFacts",
    "ResponseFacts",
    "Revalidated",
    "StaleDecision",
    "StoreDecision",
    "TtlBounds",
    "cache_key",
    "can_store",
    "conditional_headers",
    "current_age",
    "decide",
    "freshness_lifetime",
    "invalidation_keys",
    "invalidations_for",
    "make_entry",
    "merge_304",
    "on_origin_error",
    "parse_cache_control",
    "parse_targeted",
    "respond",
    "strip_for_viewer",
    "vary_key",
]
