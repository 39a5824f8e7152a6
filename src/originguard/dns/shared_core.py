"""Merging several DNS routers' RTT figures and health reports (pure; `now` is wall-clock, given).

Storage: `og:rtt:{subnet}` is a hash whose fields are `{edge}@{router}` → `[count, ms, observed_at]`, and
`og:health:{edge}` a hash whose fields are routers → `{"healthy": bool, "observed_at": t}`. One field per
router (rather than one per edge) keeps routers from overwriting each other, so the merge sees every
view; it sorts its inputs, so any two routers holding the same reports give the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import orjson

RTT_PREFIX: Final = "og:rtt:"
HEALTH_PREFIX: Final = "og:health:"
RTT_INDEX: Final = "og:rtt:index"  # sorted set: subnet → last write time, so readers pull only changes


@dataclass(frozen=True, slots=True)
class RttFigure:
    """One router's figure for (subnet, edge): its sample count and its median in milliseconds."""

    router: str
    count: int
    ms: float
    observed_at: float


@dataclass(frozen=True, slots=True)
class HealthReport:
    """One router's latest health verdict on an edge."""

    router: str
    healthy: bool
    observed_at: float


def rtt_field(edge: str, router: str) -> str:
    """The hash field of `edge` as measured through `router`."""
    return f"{edge}@{router}"


def encode_rtt(count: int, ms: float, observed_at: float) -> bytes:
    """Compact JSON `[count, ms, observed_at]`."""
    return orjson.dumps([count, round(ms, 3), round(observed_at, 3)])


def decode_rtt(field: str, value: bytes | str) -> tuple[str, RttFigure] | None:
    """(edge, figure) from one hash field; None when malformed."""
    edge, at, router = field.rpartition("@")
    try:
        count, ms, observed_at = orjson.loads(value)
    except (orjson.JSONDecodeError, ValueError, TypeError):
        return None
    if not at or not edge or not isinstance(count, int) or count <= 0:
        return None
    if not isinstance(ms, int | float) or not isinstance(observed_at, int | float):
        return None
    return edge, RttFigure(router, count, float(ms), float(observed_at))


def merge_rtt(
    figures: Iterable[RttFigure], now: float, max_age: float, min_samples: int
) -> tuple[float, int] | None:
    """(ms, samples) over fresh figures, weighted by sample count; None below `min_samples` in total."""
    fresh = sorted(
        (f for f in figures if now - f.observed_at <= max_age),
        key=lambda f: (f.router, f.count, f.ms, f.observed_at),
    )
    total = sum(f.count for f in fresh)
    if total < min_samples or total == 0:
        return None
    return sum(f.ms * f.count for f in fresh) / total, total


def encode_health(healthy: bool, observed_at: float) -> bytes:
    """Compact JSON `{"healthy": ..., "observed_at": ...}`."""
    return orjson.dumps({"healthy": healthy, "observed_at": round(observed_at, 3)})


def decode_health(router: str, value: bytes | str) -> HealthReport | None:
    """A report from one hash field; None when malformed."""
    try:
        data = orjson.loads(value)
        healthy, observed_at = data["healthy"], data["observed_at"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    if not isinstance(healthy, bool) or not isinstance(observed_at, int | float):
        return None
    return HealthReport(router, healthy, float(observed_at))


def merge_health(reports: Iterable[HealthReport], now: float, max_age: float) -> bool | None:
    """Serving when at least half of the fresh reports say healthy; None when none is fresh.

    A tie serves, as the `initial` health state does: one router cut off from an edge must not take it
    out of every router's answers, while a majority that sees it down does.
    """
    fresh = [r for r in reports if now - r.observed_at <= max_age]
    if not fresh:
        return None
    return 2 * sum(r.healthy for r in fresh) >= len(fresh)
