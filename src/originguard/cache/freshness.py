"""Freshness lifetime bounded by a behaviour's TTLs, and age (RFC 9111 §4.2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Protocol

from originguard.cache.facts import ResponseFacts

HEURISTIC_STATUSES: Final = frozenset({200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501})
"""RFC 9110 §15.1: statuses whose responses may get heuristic freshness (RFC 9111 §4.2.2)."""

ERROR_STATUSES: Final = frozenset({404, 405, 410, 414, 501})
"""Heuristically cacheable errors: they get `error_ttl`, as CloudFront's error caching minimum TTL."""

LAST_MODIFIED_FRACTION: Final = 0.1
"""RFC 9111 §4.2.2 suggests 10% of the time since Last-Modified."""


class TtlLike(Protocol):
    """Anything with the min/default/max seconds of a behaviour's `ttl` (config.edge.Ttl)."""

    @property
    def min(self) -> int: ...
    @property
    def default(self) -> int: ...
    @property
    def max(self) -> int: ...


@dataclass(frozen=True, slots=True)
class TtlBounds:
    """A behaviour's TTLs: `default` when the origin says nothing, explicit lifetimes in [min, max]."""

    min: int = 0
    default: int = 86400
    max: int = 31536000
    error_ttl: int = 10
    last_modified_heuristic: bool = False

    @classmethod
    def from_config(cls, ttl: TtlLike) -> TtlBounds:
        """Bounds from a behaviour's `ttl` block."""
        return cls(min=ttl.min, default=ttl.default, max=ttl.max)

    def clamp(self, seconds: float) -> float:
        """`seconds` forced into [min, max] (a max below min wins, as a hard ceiling)."""
        return min(max(seconds, self.min), self.max)


@dataclass(frozen=True, slots=True)
class Lifetime:
    """A freshness lifetime in seconds and where it came from."""

    seconds: float
    source: str
    rfc: str


def freshness_lifetime(response: ResponseFacts, bounds: TtlBounds, response_time: float) -> Lifetime | None:
    """The bounded lifetime of `response`; None when the RFC gives it none (not storable as fresh)."""
    cc = response.cache_control
    # RFC 9111 §4.2.1: a shared cache prefers s-maxage, then max-age, then Expires - Date.
    if cc.s_maxage is not None:
        return Lifetime(bounds.clamp(cc.s_maxage), "s-maxage", "9111 §5.2.2.10")
    if cc.max_age is not None:
        return Lifetime(bounds.clamp(cc.max_age), "max-age", "9111 §5.2.2.1")
    if response.expires is not None:
        date = response.date if response.date is not None else response_time
        return Lifetime(bounds.clamp(max(0.0, response.expires - date)), "expires", "9111 §5.3")
    # Only heuristics are left: allowed for these statuses or when the origin said public (§4.2.2).
    if response.status not in HEURISTIC_STATUSES and not cc.public:
        return None
    if response.status in ERROR_STATUSES:
        return Lifetime(bounds.clamp(min(bounds.error_ttl, bounds.default)), "error-ttl", "9111 §4.2.2")
    if bounds.last_modified_heuristic and response.last_modified is not None:
        date = response.date if response.date is not None else response_time
        guess = min(max(0.0, date - response.last_modified) * LAST_MODIFIED_FRACTION, bounds.default)
        return Lifetime(bounds.clamp(guess), "last-modified", "9111 §4.2.2")
    # CloudFront semantics: with no directive the behaviour's default TTL is the heuristic.
    return Lifetime(bounds.clamp(bounds.default), "default-ttl", "9111 §4.2.2")


def corrected_initial_age(
    date: float | None, age_value: int | None, request_time: float, response_time: float
) -> float:
    """RFC 9111 §4.2.3 corrected_initial_age = max(apparent_age, corrected_age_value)."""
    apparent_age = max(0.0, response_time - date) if date is not None else 0.0
    response_delay = max(0.0, response_time - request_time)
    corrected_age_value = (age_value or 0) + response_delay
    return max(apparent_age, corrected_age_value)


def current_age_at(initial_age: float, response_time: float, now: float) -> float:
    """RFC 9111 §4.2.3 current_age = corrected_initial_age + resident_time, never shrinking."""
    # A clock stepping back would make resident_time negative; counting it as 0 keeps age monotonic.
    return initial_age + max(0.0, now - response_time)


class _Aged(Protocol):
    @property
    def age_base(self) -> float: ...


def current_age(stored: _Aged, now: float) -> float:
    """Current age of a stored entry; `age_base` is response_time - corrected_initial_age."""
    return max(0.0, now - stored.age_base)
