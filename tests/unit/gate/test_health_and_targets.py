"""Target health state machine (every transition) and balancing, without sockets."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from originguard.config.gate import TargetGroup
from originguard.gate.health import TRANSITIONS, CheckResult, HealthState, TargetHealth, status_matches, step
from originguard.gate.targets import TargetGroupState


def test_transition_table_covers_every_state_and_result() -> None:
    assert set(TRANSITIONS) == set(itertools.product(HealthState, CheckResult))


@given(st.lists(st.sampled_from(list(CheckResult)), max_size=40), st.integers(1, 5), st.integers(1, 5))
def test_state_follows_consecutive_thresholds(
    results: list[CheckResult], healthy: int, unhealthy: int
) -> None:
    health = TargetHealth()
    for index, result in enumerate(results):
        health = step(health, result, healthy_threshold=healthy, unhealthy_threshold=unhealthy, reason="r")
        run = list(itertools.takewhile(lambda r, last=result: r is last, reversed(results[: index + 1])))
        if result is CheckResult.PASS and len(run) >= healthy:
            assert health.state is HealthState.HEALTHY
        if result is CheckResult.FAIL and len(run) >= unhealthy:
            assert health.state is HealthState.UNHEALTHY


def test_unknown_transition_raises() -> None:
    with pytest.raises(KeyError):
        step(TargetHealth(), "maybe", healthy_threshold=1, unhealthy_threshold=1, reason="")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("matcher", "status", "expected"),
    [
        ("200", 200, True),
        ("200", 204, False),
        ("200-399", 302, True),
        ("200,302", 302, True),
        ("200-299", 500, False),
    ],
)
def test_status_matchers(matcher: str, status: int, expected: bool) -> None:
    assert status_matches(matcher, status) is expected


def group(algorithm: str, count: int = 3) -> TargetGroupState:
    config = TargetGroup.model_validate(
        {"targets": [f"127.0.0.1:{9000 + i}" for i in range(count)], "algorithm": algorithm}
    )
    state = TargetGroupState("app", config)
    for target in state.targets:
        target.health = TargetHealth(HealthState.HEALTHY)
    return state


def test_round_robin_spreads_evenly_over_healthy_targets() -> None:
    state = group("round_robin")
    state.targets[1].health = TargetHealth(HealthState.UNHEALTHY)
    picks = Counter(state.pick().target.address.port for _ in range(100))
    assert set(picks) == {9000, 9002} and abs(picks[9000] - picks[9002]) <= 1


def test_least_outstanding_prefers_the_idlest_target() -> None:
    state = group("least_outstanding")
    state.targets[0].outstanding = 5
    state.targets[1].outstanding = 1
    state.targets[2].outstanding = 3
    assert state.pick().target.address.port == 9001


def test_all_unhealthy_fails_open_to_every_target() -> None:
    state = group("round_robin")
    for target in state.targets:
        target.health = TargetHealth(HealthState.UNHEALTHY)
    picks = {state.pick() for _ in range(6)}
    assert all(p.failed_open for p in picks)
    assert {p.target.address.port for p in picks} == {9000, 9001, 9002}


def test_a_target_that_refused_is_out_until_a_passing_check_or_its_timeout() -> None:
    state = group("round_robin")
    target = state.targets[0]
    token = target.mark_failed()
    assert not target.up and {state.pick().target for _ in range(10)} == set(state.targets[1:])
    target.health = TargetHealth(HealthState.HEALTHY, passes=0, fails=1)  # a failing check, below threshold
    assert not target.up
    target.health = TargetHealth(HealthState.HEALTHY, passes=1)  # a passing check brings it back
    assert target.up and not target.passively_down
    token = target.mark_failed()
    stale = token - 1
    target.recover(stale)
    assert not target.up, "an older failure's timer does not cut a newer timeout short"
    target.recover(token)
    assert target.up


def test_next_target_tries_each_target_once_healthy_ones_first() -> None:
    state = group("round_robin")
    state.targets[2].health = TargetHealth(HealthState.UNHEALTHY)
    first = state.targets[0]
    second = state.next_target([first])
    assert second is state.targets[1]
    assert state.next_target([first, second]) is state.targets[2], "then fail open to the unhealthy"
    assert state.next_target(list(state.targets)) is None
