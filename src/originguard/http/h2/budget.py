# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""A token bucket per connection for what a client may do often but not endlessly (pure).

Rapid reset (CVE-2023-44487): a client opens a stream and resets it at once, again and again;
each stream costs us a request's work and never counts against SETTINGS_MAX_CONCURRENT_STREAMS.
A bucket that refills at a steady rate lets a browser cancel what it no longer needs (a burst of
`capacity`) and stops a flood after it: the connection ends with GOAWAY ENHANCE_YOUR_CALM. The same
shape bounds PING and SETTINGS floods, whose answers we must queue.
"""

from __future__ import annotations


class Budget:
    """`capacity` spends at once, refilled at `per_second`; `now` comes from the caller."""

    __slots__ = ("capacity", "last", "per_second", "tokens")

    def __init__(self, capacity: float, per_second: float, now: float = 0.0) -> None:
        self.capacity = capacity
        self.per_second = per_second
        self.tokens = capacity
        self.last = now

    def spend(self, now: float) -> bool:
        """Take one token: False when the budget is spent (the caller refuses the abuse)."""
        if now > self.last:
            self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.per_second)
            self.last = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True
