"""Health of one check target as a state machine table (pure): thresholds of consecutive results.

    state      event  → next state
    initial    pass   → healthy                      first result decides: answer traffic at once
    initial    fail   → unhealthy                    ... or stop answering a target that is down
    healthy    pass   → healthy    (streak reset)
    healthy    fail   → healthy    (streak + 1) | unhealthy when streak reaches `unhealthy`
    unhealthy  fail   → unhealthy  (streak reset)
    unhealthy  pass   → unhealthy  (streak + 1) | healthy when streak reaches `healthy`

`initial` counts as healthy for answers: before the first probe returns, answering is better than not.
An unknown (state, event) pair raises `DnsError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from originguard.errors import DnsError

Status = Literal["initial", "healthy", "unhealthy"]
Event = Literal["pass", "fail"]


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Consecutive results needed to change state (as in cloud load balancer target groups)."""

    healthy: int = 2
    unhealthy: int = 2


@dataclass(frozen=True, slots=True)
class HealthState:
    """Current status and how many consecutive results disagree with it."""

    status: Status = "initial"
    streak: int = 0

    @property
    def serving(self) -> bool:
        """Whether the target is answered."""
        return self.status != "unhealthy"


@dataclass(frozen=True, slots=True)
class Transition:
    """The next state and why (`changed` when the serving status flips)."""

    state: HealthState
    changed: bool
    reason: str


_Rule = Callable[[HealthState, Thresholds, str], Transition]


def _become(status: Status) -> _Rule:
    def rule(state: HealthState, thresholds: Thresholds, detail: str) -> Transition:
        return Transition(HealthState(status), state.status != status, f"{status}: first check {detail}")

    return rule


def _confirm(state: HealthState, thresholds: Thresholds, detail: str) -> Transition:
    return Transition(HealthState(state.status), False, f"{state.status}: {detail}")


def _count_toward(status: Status) -> _Rule:
    def rule(state: HealthState, thresholds: Thresholds, detail: str) -> Transition:
        needed = thresholds.healthy if status == "healthy" else thresholds.unhealthy
        streak = state.streak + 1
        if streak >= needed:
            return Transition(HealthState(status), True, f"{status}: {streak} consecutive ({detail})")
        progress = f"{state.status}: {streak}/{needed} toward {status} ({detail})"
        return Transition(HealthState(state.status, streak), False, progress)

    return rule


TRANSITIONS: dict[tuple[Status, Event], _Rule] = {
    ("initial", "pass"): _become("healthy"),
    ("initial", "fail"): _become("unhealthy"),
    ("healthy", "pass"): _confirm,
    ("healthy", "fail"): _count_toward("unhealthy"),
    ("unhealthy", "fail"): _confirm,
    ("unhealthy", "pass"): _count_toward("healthy"),
}


def step(state: HealthState, event: Event, thresholds: Thresholds, detail: str = "") -> Transition:
    """Apply one check result; raise DnsError on a pair the table does not know."""
    rule = TRANSITIONS.get((state.status, event))
    if rule is None:
        raise DnsError(f"health: no transition from {state.status!r} on {event!r}")
    return rule(state, thresholds, detail or event)
