"""Target health as a table-driven state machine (pure), like a cloud balancer's target states.

A target starts `initial` (no traffic unless no target is healthy), turns `healthy` after
`healthy` consecutive passing checks and `unhealthy` after `unhealthy` consecutive failures.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from typing import Final


class HealthState(Enum):
    INITIAL = "initial"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"


class CheckResult(Enum):
    PASS = "pass"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class TargetHealth:
    state: HealthState = HealthState.INITIAL
    passes: int = 0
    fails: int = 0
    reason: str = "no check has run yet"


# (state, result) -> (state once the threshold is reached, state before it)
TRANSITIONS: Final[dict[tuple[HealthState, CheckResult], tuple[HealthState, HealthState]]] = {
    (HealthState.INITIAL, CheckResult.PASS): (HealthState.HEALTHY, HealthState.INITIAL),
    (HealthState.INITIAL, CheckResult.FAIL): (HealthState.UNHEALTHY, HealthState.INITIAL),
    (HealthState.HEALTHY, CheckResult.PASS): (HealthState.HEALTHY, HealthState.HEALTHY),
    (HealthState.HEALTHY, CheckResult.FAIL): (HealthState.UNHEALTHY, HealthState.HEALTHY),
    (HealthState.UNHEALTHY, CheckResult.PASS): (HealthState.HEALTHY, HealthState.UNHEALTHY),
    (HealthState.UNHEALTHY, CheckResult.FAIL): (HealthState.UNHEALTHY, HealthState.UNHEALTHY),
}


def step(
    health: TargetHealth,
    result: CheckResult,
    *,
    healthy_threshold: int,
    unhealthy_threshold: int,
    reason: str,
) -> TargetHealth:
    """The next health after one check; an unknown (state, result) pair raises KeyError."""
    reached, before = TRANSITIONS[(health.state, result)]
    if result is CheckResult.PASS:
        passes, fails = health.passes + 1, 0
        state = reached if passes >= healthy_threshold else before
    else:
        passes, fails = 0, health.fails + 1
        state = reached if fails >= unhealthy_threshold else before
    return replace(health, state=state, passes=passes, fails=fails, reason=reason)


def status_matches(matcher: str, status: int) -> bool:
    """`200`, `200-399` or `200,302` style matchers (the balancer's success codes)."""
    for part in matcher.replace(" ", "").split(","):
        low, _, high = part.partition("-")
        if int(low) <= status <= int(high or low):
            return True
    return False
