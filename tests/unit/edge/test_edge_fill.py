"""The edge's cache slow path without sockets: the lookup route, the fill machine, the answer."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from originguard.cache import CacheEntry, TtlBounds
from originguard.edge.fill import (
    HIT_MARK,
    Fetch,
    FillAction,
    Filled,
    FillMachine,
    FillOutcome,
    FillState,
    FillStateError,
    Finish,
    Read304,
    ReadBody,
    Reply,
    Step,
    Store,
    Vet,
    after_fill,
    lookup,
)
from tests.unit.cache.cache_helpers import GET, NOW, date, request, stored

HIT_HEAD = HIT_MARK + b"\r\nVia: 1.1 edge (originguard)\r\n"
TARGETED = (b"originguard-cache-control", b"cdn-cache-control")
TTL = TtlBounds(min=0, default=60, max=86400)
LIMIT = 1000
BODY = b"hello from the origin\n"


def machine(
    entry: CacheEntry | None = None, conditional: tuple[tuple[bytes, bytes], ...] = ()
) -> FillMachine:
    return FillMachine(
        GET,
        TTL,
        stored=entry,
        conditional=conditional,
        targeted=TARGETED,
        hit_head=HIT_HEAD,
        max_object_bytes=LIMIT,
    )


def headers(*extra: tuple[bytes, bytes], at: float = NOW) -> list[tuple[bytes, bytes]]:
    return [(b"Date", date(at - NOW)), *extra]


def finish(action: FillAction) -> FillOutcome:
    assert isinstance(action, Finish), action
    return action.outcome


# -- lookup ---------------------------------------------------------------------------------------


def test_fresh_copy_is_a_hit_and_a_missing_one_a_miss() -> None:
    entry = stored((b"Cache-Control", b"max-age=60"))
    assert lookup(GET, entry, NOW + 10, in_flight=False).step is Step.HIT
    assert lookup(GET, None, NOW, in_flight=False).step is Step.MISS


def test_stale_copy_with_a_validator_is_revalidated_conditionally() -> None:
    entry = stored((b"Cache-Control", b"max-age=60"), (b"ETag", b'"v1"'))
    routed = lookup(GET, entry, NOW + 61, in_flight=False)
    assert routed.step is Step.REVALIDATE
    assert routed.conditional == ((b"If-None-Match", b'"v1"'),)
    assert "revalidate" in routed.decision.reason and routed.decision.rfc == "9111 §4.2"


def test_a_miss_or_revalidation_while_a_fetch_runs_follows_it() -> None:
    entry = stored((b"Cache-Control", b"max-age=60"), (b"ETag", b'"v1"'))
    assert lookup(GET, None, NOW, in_flight=True).step is Step.FOLLOW
    assert lookup(GET, entry, NOW + 61, in_flight=True).step is Step.FOLLOW
    assert lookup(GET, entry, NOW + 10, in_flight=True).step is Step.HIT, "a hit never waits"


def test_stale_while_revalidate_starts_one_refresh_only() -> None:
    entry = stored((b"Cache-Control", b"max-age=60, stale-while-revalidate=600"))
    first = lookup(GET, entry, NOW + 61, in_flight=False)
    later = lookup(GET, entry, NOW + 61, in_flight=True)
    assert (first.step, first.refresh) == (Step.STALE_HIT, True)
    assert (later.step, later.refresh) == (Step.STALE_HIT, False)


def test_no_store_request_passes_and_only_if_cached_without_a_copy_times_out() -> None:
    assert (
        lookup(request(b"GET", (b"Cache-Control", b"no-store")), None, NOW, in_flight=False).step is Step.PASS
    )
    only = request(b"GET", (b"Cache-Control", b"only-if-cached"))
    assert lookup(only, None, NOW, in_flight=False).step is Step.GATEWAY_TIMEOUT


# -- the fill machine -----------------------------------------------------------------------------


def test_miss_fetches_reads_vets_and_stores_with_the_hit_head() -> None:
    fill = machine()
    assert fill.start(NOW) == Fetch(())
    action = fill.head(200, headers((b"Cache-Control", b"max-age=60")), len(BODY), NOW)
    assert action == ReadBody(LIMIT)
    assert isinstance(fill.body(BODY, True), Vet)
    action = fill.vetted(False)
    assert isinstance(action, Store) and action.vary == ()
    assert action.entry.body == BODY and HIT_MARK in action.entry.wire
    assert action.entry.fresh_until == NOW + 60
    outcome = finish(fill.put_done(True))
    assert (outcome.kind, outcome.shared, outcome.refreshed, outcome.status) == (
        Filled.ENTRY,
        True,
        False,
        200,
    )
    assert outcome.entry is action.entry and fill.state is FillState.DONE


def test_an_entry_the_store_refuses_is_served_to_the_leader_only() -> None:
    fill = machine()
    fill.start(NOW)
    fill.head(200, headers(), None, NOW)
    fill.body(BODY, True)
    fill.vetted(False)
    outcome = finish(fill.put_done(False))
    assert outcome.kind is Filled.ENTRY and not outcome.shared


@pytest.mark.parametrize(
    ("extra", "reason"),
    [((b"Cache-Control", b"no-store"), "no-store"), ((b"Cache-Control", b"private"), "private")],
)
def test_unstorable_response_is_streamed_unstored_without_reading_it(
    extra: tuple[bytes, bytes], reason: str
) -> None:
    fill = machine()
    fill.start(NOW)
    outcome = finish(fill.head(200, headers(extra), 10, NOW))
    assert (outcome.kind, outcome.reason, outcome.shared) == (Filled.UNSTORED, reason, False)


def test_a_body_bigger_than_an_object_may_be_is_not_stored() -> None:
    declared = machine()
    declared.start(NOW)
    assert finish(declared.head(200, headers(), LIMIT + 1, NOW)).kind is Filled.UNSTORED
    undeclared = machine()
    undeclared.start(NOW)
    assert undeclared.head(200, headers(), None, NOW) == ReadBody(LIMIT)
    assert finish(undeclared.body(b"x" * (LIMIT + 1), False)).kind is Filled.UNSTORED


def test_a_response_the_waf_refuses_is_never_stored() -> None:
    fill = machine()
    fill.start(NOW)
    fill.head(200, headers(), len(BODY), NOW)
    fill.body(BODY, True)
    outcome = finish(fill.vetted(True))
    assert (outcome.kind, outcome.entry, outcome.shared) == (Filled.BLOCKED, None, False)


def test_revalidation_304_is_merged_and_stored_as_a_refresh() -> None:
    entry = stored((b"Cache-Control", b"max-age=60"), (b"ETag", b'"v1"'), body=BODY)
    fill = machine(entry, ((b"If-None-Match", b'"v1"'),))
    assert fill.start(NOW + 100) == Fetch(((b"If-None-Match", b'"v1"'),))
    refreshed = headers((b"ETag", b'"v1"'), (b"Cache-Control", b"max-age=600"), at=NOW + 100)
    assert isinstance(fill.head(304, refreshed, 0, NOW + 100), Read304)
    action = fill.body_304_read(NOW + 100)
    assert isinstance(action, Store)
    assert action.entry.body == BODY and HIT_MARK in action.entry.wire
    assert action.entry.fresh_until == NOW + 700
    outcome = finish(fill.put_done(True))
    assert (outcome.kind, outcome.refreshed, outcome.shared) == (Filled.ENTRY, True, True)


def test_a_304_that_matches_nothing_stored_refetches_unconditionally() -> None:
    entry = stored((b"Cache-Control", b"max-age=60"), (b"ETag", b'"v1"'))
    fill = machine(entry, ((b"If-None-Match", b'"v1"'),))
    fill.start(NOW + 100)
    fill.head(304, headers((b"ETag", b'"v2"'), at=NOW + 100), 0, NOW + 100)
    assert fill.body_304_read(NOW + 101) == Fetch(())
    assert fill.state is FillState.FETCHING and fill.stored is None
    assert fill.head(200, headers(at=NOW + 101), len(BODY), NOW + 101) == ReadBody(LIMIT)


def test_a_304_to_an_unconditional_fetch_is_not_merged() -> None:
    fill = machine()
    fill.start(NOW)
    assert finish(fill.head(304, headers(), 0, NOW)).kind is Filled.UNSTORED


@pytest.mark.parametrize("at", ["fetching", "reading-304", "reading-body"])
def test_origin_failure_at_any_read_finishes_the_fill_failed(at: str) -> None:
    entry = stored((b"Cache-Control", b"max-age=60"), (b"ETag", b'"v1"'))
    fill = machine(entry, ((b"If-None-Match", b'"v1"'),))
    fill.start(NOW + 100)
    if at == "reading-304":
        fill.head(304, headers((b"ETag", b'"v1"'), at=NOW + 100), 0, NOW + 100)
    elif at == "reading-body":
        fill.head(200, headers(at=NOW + 100), None, NOW + 100)
    assert fill.state.value == at
    outcome = finish(fill.failed("origin timeout error"))
    assert (outcome.kind, outcome.status, outcome.shared) == (Filled.FAILED, 0, False)


EVENTS = ["start", "head", "head304", "body_304_read", "body", "vetted", "put_done", "failed"]


def _send(fill: FillMachine, event: str) -> FillAction:
    if event == "start":
        return fill.start(NOW)
    if event == "head":
        return fill.head(200, headers(), None, NOW)
    if event == "head304":
        return fill.head(304, headers((b"ETag", b'"v1"')), 0, NOW)
    if event == "body_304_read":
        return fill.body_304_read(NOW)
    if event == "body":
        return fill.body(BODY, True)
    if event == "vetted":
        return fill.vetted(False)
    if event == "put_done":
        return fill.put_done(True)
    return fill.failed("origin connect error")


@given(st.lists(st.sampled_from(EVENTS), max_size=12))
def test_any_event_walk_either_steps_or_raises_fill_state_error(events: list[str]) -> None:
    entry = stored((b"Cache-Control", b"max-age=60"), (b"ETag", b'"v1"'))
    fill = machine(entry, ((b"If-None-Match", b'"v1"'),))
    for event in events:
        before = fill.state
        try:
            action = _send(fill, event)
        except FillStateError as exc:
            assert before.value in str(exc) and fill.state is before  # a refused event changes nothing
            continue
        assert (fill.state is FillState.DONE) == isinstance(action, Finish)
        assert isinstance(action, Fetch | Read304 | ReadBody | Vet | Store | Finish)
    assert fill.state is not FillState.DONE or all(_refused(fill, e) for e in EVENTS)


def _refused(fill: FillMachine, event: str) -> bool:
    try:
        _send(fill, event)
    except FillStateError:
        return True
    return False


# -- the answer -----------------------------------------------------------------------------------

STALE_SIE = stored((b"Cache-Control", b"max-age=60, stale-if-error=300"))
STALE_STRICT = stored((b"Cache-Control", b"max-age=60, must-revalidate"))
FAILED = FillOutcome(Filled.FAILED, "origin connect error")


def test_a_follower_refetches_when_the_leaders_answer_was_not_stored() -> None:
    private = FillOutcome(Filled.UNSTORED, "private", 200)
    assert after_fill(private, leader=False, stored=None, request=GET, now=NOW) is Reply.REFETCH
    assert after_fill(private, leader=True, stored=None, request=GET, now=NOW) is Reply.UNSTORED


def test_origin_failure_serves_the_stale_copy_within_stale_if_error() -> None:
    assert after_fill(FAILED, leader=True, stored=STALE_SIE, request=GET, now=NOW + 100) is Reply.STALE
    assert after_fill(FAILED, leader=True, stored=STALE_SIE, request=GET, now=NOW + 400) is Reply.ERROR
    assert after_fill(FAILED, leader=True, stored=STALE_STRICT, request=GET, now=NOW + 100) is Reply.ERROR
    assert after_fill(FAILED, leader=True, stored=None, request=GET, now=NOW) is Reply.ERROR


def test_a_viewers_own_stale_if_error_lets_a_stale_copy_answer() -> None:
    plain = stored((b"Cache-Control", b"max-age=60"))
    asking = request(b"GET", (b"Cache-Control", b"stale-if-error=600"))
    assert after_fill(FAILED, leader=True, stored=plain, request=GET, now=NOW + 100) is Reply.ERROR
    assert after_fill(FAILED, leader=True, stored=plain, request=asking, now=NOW + 100) is Reply.STALE


def test_origin_5xx_on_revalidation_serves_stale_else_the_5xx() -> None:
    unavailable = FillOutcome(Filled.UNSTORED, "no-store", 503)
    assert after_fill(unavailable, leader=True, stored=STALE_SIE, request=GET, now=NOW + 100) is Reply.STALE
    assert (
        after_fill(unavailable, leader=True, stored=STALE_STRICT, request=GET, now=NOW + 100)
        is Reply.UNSTORED
    )
    assert after_fill(unavailable, leader=True, stored=None, request=GET, now=NOW) is Reply.UNSTORED


def test_a_stored_fill_answers_every_viewer_and_a_block_is_a_block() -> None:
    entry = stored((b"Cache-Control", b"max-age=60"))
    done = FillOutcome(Filled.ENTRY, "stored", 200, entry, shared=True)
    assert after_fill(done, leader=False, stored=None, request=GET, now=NOW) is Reply.ENTRY
    blocked = FillOutcome(Filled.BLOCKED, "refused by the WAF's response rules", 200)
    assert after_fill(blocked, leader=True, stored=STALE_SIE, request=GET, now=NOW + 100) is Reply.BLOCKED
