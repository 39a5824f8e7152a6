"""What a supervised child is (pure): the stack plans them, the supervisor runs them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ChildSpec:
    """One supervised process: its name and argv after `originguard` (it reports its own readiness)."""

    name: str
    args: tuple[str, ...]
