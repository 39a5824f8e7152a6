"""The edge's cache slow path as sans-IO decisions: route a lookup, fill from the origin, answer.

    lookup(request, stored, now, in_flight) → HIT | STALE_HIT | REVALIDATE | MISS | FOLLOW | PASS
                                               | GATEWAY_TIMEOUT
    FillMachine (one origin fetch for a key, run by the leader of a collapsed miss):

    state          event            → action                 next state
    new            start            → Fetch(conditional)     fetching
    fetching       head 304 (ours)  → Read304                reading-304
    fetching       head, storable   → ReadBody(limit)        reading-body
    fetching       head, not        → Finish(UNSTORED)       done
    reading-304    body_304_read    → Store (merged)         storing
                                    | Finish(ENTRY)          done   (merged, not storable)
                                    | Fetch(())              fetching (the 304 matched nothing)
    reading-body   body, complete   → Vet                    vetting
    reading-body   body, too big    → Finish(UNSTORED)       done
    vetting        vetted, refused  → Finish(BLOCKED)        done
    vetting        vetted, passed   → Store                  storing
    storing        put_done         → Finish(ENTRY)          done
    fetching, reading-*  failed     → Finish(FAILED)         done

    after_fill(outcome, leader, stored, request, now) → REFETCH | BLOCKED | STALE | ERROR | ENTRY
                                                         | UNSTORED

Every RFC 9111 decision is `originguard.cache`'s (`decide`, `can_store`, `merge_304`,
`make_entry`, `on_origin_error`); this module only orders them. `edge.miss` performs the
actions (the origin request, reads, the WAF's response rules, the store) and feeds back what
happened; `now` is always passed in. An event the state does not take raises `FillStateError`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final, TypeAlias

from originguard.cache import (
    CacheEntry,
    Lookup,
    LookupDecision,
    RequestFacts,
    ResponseFacts,
    StoreDecision,
    TtlBounds,
    can_store,
    decide,
    make_entry,
    merge_304,
    on_origin_error,
)
from originguard.cache.facts import Headers
from originguard.cache.policy import ORIGIN_ERROR_STATUSES
from originguard.edge.compression import CompressionPolicy, compress_response, vary_for_store, weak_etag

HIT_MARK: Final = b"X-Cache: Hit from originguard"

Conditional: TypeAlias = tuple[tuple[bytes, bytes], ...]


# -- the lookup ---------------------------------------------------------------------------------


class Step(enum.Enum):
    """What the slow path does with a cacheable request."""

    HIT = "hit"  # a stored copy answers (fresh, within max-stale, or a 304 to the viewer)
    STALE_HIT = "stale-hit"  # stale-while-revalidate: the stale copy answers; maybe refresh
    REVALIDATE = "revalidate"  # lead a refresh of the stale copy (conditional when it has validators)
    MISS = "miss"  # lead a fetch: nothing usable stored
    FOLLOW = "follow"  # a fetch for this key is in flight: wait for the leader's result
    PASS = "pass"  # fetch and do not store (request no-store)
    GATEWAY_TIMEOUT = "gateway-timeout"  # only-if-cached and nothing usable


@dataclass(frozen=True, slots=True)
class LookupStep:
    """A lookup's step, the cache decision behind it (its reason and RFC) and, for a stale hit,
    whether this request starts the one background refresh (RFC 5861 §3)."""

    step: Step
    decision: LookupDecision
    refresh: bool = False

    @property
    def conditional(self) -> Conditional:
        """The validators for the origin (If-None-Match / If-Modified-Since), if revalidating."""
        return self.decision.conditional


def lookup(request: RequestFacts, stored: CacheEntry | None, now: float, *, in_flight: bool) -> LookupStep:
    """Route a request the fast path could not answer; `in_flight` says a fetch for its key runs.

    A FOLLOW is the collapser's `leader=False`: nothing awaits between this call and the
    collapser's, so the fetch seen in flight here is the one the request joins."""
    decision = decide(request, stored, now)
    kind = decision.kind
    if kind is Lookup.HIT or kind is Lookup.NOT_MODIFIED:
        return LookupStep(Step.HIT, decision)
    if kind is Lookup.STALE_WHILE_REVALIDATE:
        return LookupStep(Step.STALE_HIT, decision, refresh=not in_flight)
    if kind is Lookup.PASS:
        return LookupStep(Step.PASS, decision)
    if kind is Lookup.GATEWAY_TIMEOUT:
        return LookupStep(Step.GATEWAY_TIMEOUT, decision)
    if in_flight:
        return LookupStep(Step.FOLLOW, decision)
    return LookupStep(Step.REVALIDATE if kind is Lookup.STALE_REVALIDATE else Step.MISS, decision)


# -- the fill -----------------------------------------------------------------------------------


class FillState(enum.Enum):
    NEW = "new"
    FETCHING = "fetching"  # the origin request is out; its response head is awaited
    READING_304 = "reading-304"  # our conditional got a 304: read it to its end, then merge
    READING_BODY = "reading-body"  # a storable response: its body, up to the object limit
    VETTING = "vetting"  # the WAF's response rules look at the complete body once
    STORING = "storing"  # the entry is handed to the store
    DONE = "done"


class Filled(enum.Enum):
    ENTRY = "entry"  # a complete entry to answer with (stored, or a 304 refresh)
    UNSTORED = "unstored"  # not stored: the leader answers with the origin's response itself
    BLOCKED = "blocked"  # the WAF's response rules refused it: not stored, not sent
    FAILED = "failed"  # no usable answer from the origin (connect, timeout, broken body)


@dataclass(frozen=True, slots=True)
class FillOutcome:
    """How a fill ended; `shared` means followers may answer with `entry` too (it was stored:
    a private answer to one viewer never reaches another)."""

    kind: Filled
    reason: str
    status: int = 0
    entry: CacheEntry | None = None
    shared: bool = False
    refreshed: bool = False


@dataclass(frozen=True, slots=True)
class Fetch:
    """Send the GET to the origin, with these conditional header fields."""

    conditional: Conditional


@dataclass(frozen=True, slots=True)
class Read304:
    """Read the 304 to its end (its connection goes back to the pool), then `body_304_read`."""


@dataclass(frozen=True, slots=True)
class ReadBody:
    """Read up to `limit` bytes of the body, then `body(data, complete)`."""

    limit: int


@dataclass(frozen=True, slots=True)
class Vet:
    """Run the WAF's response rules on the complete response, then `vetted(refused)`."""


@dataclass(frozen=True, slots=True)
class Store:
    """Put `entry` in the store under the request's key, then `put_done(ok)`."""

    entry: CacheEntry
    vary: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class Finish:
    outcome: FillOutcome


FillAction: TypeAlias = Fetch | Read304 | ReadBody | Vet | Store | Finish

_READ_304: Final = Read304()
_VET: Final = Vet()


class FillStateError(RuntimeError):
    """The driver sent an event the machine's state does not take: a bug in the driver, never a
    peer's doing (so not one of `errors.py`'s errors raised on purpose)."""


class FillMachine:
    """One origin fetch for a cache key, from the request to what to answer with (see the module
    docstring's table). `stored` and `conditional` are set when revalidating a stale copy."""

    __slots__ = (
        "_body",
        "_decision",
        "_facts",
        "_headers_304",
        "_refreshed",
        "_request_time",
        "_response_time",
        "_store_entry",
        "coding",
        "compression",
        "conditional",
        "hit_head",
        "max_object_bytes",
        "request",
        "state",
        "stored",
        "targeted",
        "ttl",
    )

    def __init__(
        self,
        request: RequestFacts,
        ttl: TtlBounds,
        *,
        stored: CacheEntry | None = None,
        conditional: Conditional = (),
        targeted: tuple[bytes, ...],
        hit_head: bytes,
        max_object_bytes: int,
        compression: CompressionPolicy | None = None,
        coding: bytes = b"",
    ) -> None:
        self.request = request
        # Under compression the copy is filled for one coding (`coding`, b"" for identity).
        self.compression = compression
        self.coding = coding
        self.ttl = ttl
        self.stored = stored
        self.conditional = conditional
        self.targeted = targeted
        self.hit_head = hit_head
        self.max_object_bytes = max_object_bytes
        self.state = FillState.NEW
        self._request_time = 0.0
        self._response_time = 0.0
        self._facts: ResponseFacts | None = None
        self._decision: StoreDecision | None = None
        self._headers_304: Headers = ()
        self._body = b""
        self._store_entry: CacheEntry | None = None
        self._refreshed = False

    def start(self, now: float) -> FillAction:
        """The fill begins at `now` (RFC 9111 §4.2.3's request_time)."""
        self._expect("start", FillState.NEW)
        return self._fetch(now)

    def head(self, status: int, headers: Headers, content_length: int | None, now: float) -> FillAction:
        """The origin's response head arrived at `now`; `headers` are what viewers would get
        (secret and hop-by-hop fields already removed), `content_length` the declared length."""
        self._expect("head", FillState.FETCHING)
        self._response_time = now
        if status == 304 and self.stored is not None and self.conditional:
            if self.coding and self.stored.header(b"content-encoding") is not None:
                # The 304 names the origin's bytes; the copy it freshens holds ours (RFC 9110 §8.8.1).
                headers = [(n, weak_etag(v) if n.lower() == b"etag" else v) for n, v in headers]
            self._headers_304 = headers
            self.state = FillState.READING_304
            return _READ_304
        facts = ResponseFacts.parse(status, headers, self.targeted)
        decision = can_store(self.request, facts, self.ttl, now)
        if not decision.store:
            return self._finish(Filled.UNSTORED, decision.reason, status)
        if content_length is not None and content_length > self.max_object_bytes:
            return self._finish(Filled.UNSTORED, "bigger than an object may be", status)
        self._facts = facts
        self._decision = decision
        self.state = FillState.READING_BODY
        return ReadBody(self.max_object_bytes)

    def body_304_read(self, now: float) -> FillAction:
        """The 304 was read to its end: merge it into the stored copy (RFC 9111 §4.3.4)."""
        self._expect("body_304_read", FillState.READING_304)
        stored = self.stored
        assert stored is not None
        merged = merge_304(
            stored,
            self.request,
            self._headers_304,
            request_time=self._request_time,
            response_time=self._response_time,
            ttl=self.ttl,
            targeted=self.targeted,
        )
        if merged.entry is None:
            # RFC 9111 §4.3.4: a 304 that describes nothing we hold cannot freshen it, and this
            # viewer asked for the content: fetch it whole.
            self.stored, self.conditional = None, ()
            return self._fetch(now)
        entry = with_hit_head(merged.entry, self.hit_head, self.request, self.ttl, self.targeted, now)
        self._refreshed = True
        if not merged.store:
            # Served to this request and its followers (it answers for what they asked about)
            # but not kept: RFC 9111 §3 forbids storing it now.
            return self._finish(Filled.ENTRY, merged.reason, entry.status, entry, shared=True)
        self._store_entry = entry
        self.state = FillState.STORING
        vary = ResponseFacts.parse(entry.status, entry.headers(), self.targeted).vary
        return Store(entry, vary_for_store(vary, self.compression is not None))

    def body(self, data: bytes, complete: bool) -> FillAction:
        """What was read of a storable body, and whether that was all of it."""
        self._expect("body", FillState.READING_BODY)
        facts = self._facts
        assert facts is not None
        if not complete:  # no Content-Length and bigger than an object may be: stream it through
            return self._finish(Filled.UNSTORED, "bigger than an object may be", facts.status)
        self._body = data
        self.state = FillState.VETTING
        return _VET

    def vetted(self, refused: bool) -> FillAction:
        """The WAF's response rules ran (CRS data leakage, web shells): a refused copy is never
        stored, and a stored one is served without inspecting it again."""
        self._expect("vetted", FillState.VETTING)
        facts = self._facts
        assert facts is not None
        if refused:
            return self._finish(Filled.BLOCKED, "refused by the WAF's response rules", facts.status)
        decision = self._decision
        assert decision is not None
        body = self._body
        compression = self.compression
        if compression is not None:
            # After the WAF read the origin's bytes: compressed once here, served ready on every hit.
            headers, body = compress_response(facts.status, facts.headers, body, self.coding, compression)
            facts = ResponseFacts.parse(facts.status, headers, self.targeted)
        entry = make_entry(
            facts,
            body,
            lifetime=decision.lifetime,
            no_stale=decision.no_stale,
            request_time=self._request_time,
            response_time=self._response_time,
            targeted=self.targeted,
            extra_head=self.hit_head,
        )
        self._store_entry = entry
        self.state = FillState.STORING
        return Store(entry, vary_for_store(facts.vary, compression is not None))

    def put_done(self, ok: bool) -> FillAction:
        """The store took the entry (`ok`) or refused it (over its budget)."""
        self._expect("put_done", FillState.STORING)
        entry = self._store_entry
        assert entry is not None
        if self._refreshed:
            return self._finish(Filled.ENTRY, "304 merged", entry.status, entry, shared=True)
        reason = "stored" if ok else "the store refused it"
        return self._finish(Filled.ENTRY, reason, entry.status, entry, shared=ok)

    def failed(self, reason: str) -> Finish:
        """The origin request or the read of its body failed: nothing to store."""
        self._expect("failed", FillState.FETCHING, FillState.READING_304, FillState.READING_BODY)
        return self._finish(Filled.FAILED, reason, 0)

    # -- helpers ---------------------------------------------------------------------------------

    def _fetch(self, now: float) -> Fetch:
        self._request_time = now
        self.state = FillState.FETCHING
        return Fetch(self.conditional)

    def _finish(
        self, kind: Filled, reason: str, status: int, entry: CacheEntry | None = None, *, shared: bool = False
    ) -> Finish:
        self.state = FillState.DONE
        return Finish(FillOutcome(kind, reason, status, entry, shared, self._refreshed))

    def _expect(self, event: str, *states: FillState) -> None:
        if self.state not in states:
            raise FillStateError(f"fill: no transition from {self.state.value!r} on {event!r}")


def with_hit_head(
    entry: CacheEntry,
    hit_head: bytes,
    request: RequestFacts,
    ttl: TtlBounds,
    targeted: tuple[bytes, ...],
    now: float,
) -> CacheEntry:
    """A 304-merged entry keeps our X-Cache/Via lines (merge_304 rebuilds the head without them)."""
    if HIT_MARK in entry.wire[: entry.head_len]:
        return entry
    facts = ResponseFacts.parse(
        entry.status, [(n, v) for n, v in entry.headers() if n.lower() not in _OWN], targeted
    )
    decision = can_store(request, facts, ttl, now)
    return make_entry(
        facts,
        entry.body,
        lifetime=decision.lifetime if decision.store else 0.0,
        no_stale=decision.no_stale if decision.store else True,
        request_time=now,
        response_time=now,
        targeted=targeted,
        extra_head=hit_head,
    )


_OWN: Final = frozenset({b"x-cache", b"via", b"x-edge-location", b"age", b"content-length"})


# -- the answer ---------------------------------------------------------------------------------


class Reply(enum.Enum):
    """How one viewer of a (collapsed) fill is answered."""

    REFETCH = "refetch"  # a follower whose leader's answer was not shareable: fetch for itself
    BLOCKED = "blocked"  # the WAF's block reply
    STALE = "stale"  # the stale copy (RFC 5861 §4: the origin failed)
    ERROR = "error"  # 502/504 for the origin's failure
    ENTRY = "entry"  # the filled entry (X-Cache: Miss, or RefreshHit after a 304)
    UNSTORED = "unstored"  # the origin's response as it came, not stored


def after_fill(
    outcome: FillOutcome, *, leader: bool, stored: CacheEntry | None, request: RequestFacts, now: float
) -> Reply:
    """Answer one viewer from its fill's outcome; `stored` is the copy its lookup found."""
    if not leader and not outcome.shared:
        return Reply.REFETCH  # not shareable (private, too big, failed): this viewer asks itself
    if outcome.kind is Filled.BLOCKED:
        return Reply.BLOCKED
    failed = outcome.kind is Filled.FAILED
    if failed or (stored is not None and outcome.status in ORIGIN_ERROR_STATUSES):
        if stored is not None and on_origin_error(stored, now, request).serve_stale:
            return Reply.STALE  # RFC 5861 §4: a stale copy beats an error page
        if failed:
            return Reply.ERROR
    if outcome.entry is not None and outcome.shared:
        return Reply.ENTRY
    return Reply.UNSTORED
