"""Zero-downtime rotation of the secret origin header, as a table-driven state machine (pure).

    steady(old) ──start──▶ accepting-both ──gates-ready──▶ edges-switched ──drained──▶ steady(new)

Each state fixes the secret file's lines (first = sent by edges, all = accepted by gates) and
which components must reload before the next event is allowed. Accepting before sending, and
refusing only after every edge sends the new value, is what keeps every request admitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Final, Literal

Component = Literal["gate", "edge"]


class RotationState(Enum):
    STEADY_OLD = "steady-old"
    ACCEPTING_BOTH = "accepting-both"
    EDGES_SWITCHED = "edges-switched"
    STEADY_NEW = "steady-new"


class RotationEvent(Enum):
    START = "start"
    GATES_READY = "gates-ready"
    DRAINED = "drained"


TRANSITIONS: Final[dict[tuple[RotationState, RotationEvent], RotationState]] = {
    (RotationState.STEADY_OLD, RotationEvent.START): RotationState.ACCEPTING_BOTH,
    (RotationState.ACCEPTING_BOTH, RotationEvent.GATES_READY): RotationState.EDGES_SWITCHED,
    (RotationState.EDGES_SWITCHED, RotationEvent.DRAINED): RotationState.STEADY_NEW,
}


@dataclass(frozen=True, slots=True)
class Phase:
    """What the secret file holds in a state, who reloads, and what proves the state took hold."""

    state: RotationState
    lines: tuple[str, ...]
    reload: tuple[Component, ...]
    proof: Literal["gate-admits-new", "drain", "gate-refuses-old", "none"]


def phase(state: RotationState, old: str, new: str) -> Phase:
    """The file contents and duties of one state."""
    if state is RotationState.STEADY_OLD:
        return Phase(state, (old,), (), "none")
    if state is RotationState.ACCEPTING_BOTH:
        return Phase(state, (old, new), ("gate",), "gate-admits-new")
    if state is RotationState.EDGES_SWITCHED:
        return Phase(state, (new, old), ("edge",), "drain")
    return Phase(state, (new,), ("gate", "edge"), "gate-refuses-old")


def advance(state: RotationState, event: RotationEvent) -> RotationState:
    """The next state; an event that does not apply to the state raises KeyError."""
    return TRANSITIONS[(state, event)]


def plan(old: str, new: str) -> list[Phase]:
    """Every phase after the steady start, in order."""
    phases = []
    state = RotationState.STEADY_OLD
    for event in (RotationEvent.START, RotationEvent.GATES_READY, RotationEvent.DRAINED):
        state = advance(state, event)
        phases.append(phase(state, old, new))
    return phases
