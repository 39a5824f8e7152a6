# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""State of rate-based rules: request counts per (rule, key) over a sliding window.

The window is approximated with two fixed buckets: the estimate is `previous * (1 - elapsed/window) +
current`, the Cloudflare/nginx-style approximation that needs two integers per key instead of a
timestamp per request. The state lives outside the compiled ACL so that a config reload keeps counts
(keys name the rule, not its position), and `now` is always passed in.
"""

from __future__ import annotations

from typing import Final

from mypy_extensions import mypyc_attr

RateKey = tuple[str, tuple[str, ...]]  # (rule id, aggregation key values)
_DEFAULT_MAX_KEYS: Final = 200_000


@mypyc_attr(allow_interpreted_subclasses=True)  # cluster.rate.SharedRateState
class RateState:
    """Counters of every rate-based rule of one edge; bounded to `max_keys` live keys."""

    __slots__ = ("_buckets", "max_keys")

    def __init__(self, max_keys: int = _DEFAULT_MAX_KEYS) -> None:
        self.max_keys = max_keys
        # key -> [bucket start, count in current bucket, count in previous bucket]
        self._buckets: dict[RateKey, list[float]] = {}

    def __len__(self) -> int:
        return len(self._buckets)

    def hit(self, key: RateKey, window: float, now: float) -> float:
        """Count one request for `key` at `now`; return the estimated requests in the last `window`."""
        # Runs on every request the default ACL sees: the common case (a known key, same bucket) is a
        # dict lookup, an increment and, once a previous bucket exists, the weighting.
        bucket_start = now - now % window
        try:
            entry = self._buckets[key]
        except KeyError:
            return self._first(key, window, now, bucket_start)
        if entry[0] != bucket_start:
            # A new bucket: the current one becomes "previous" only if it is the bucket just before.
            entry[2] = entry[1] if bucket_start - entry[0] == window else 0.0
            entry[1] = 0.0
            entry[0] = bucket_start
        count = entry[1] = entry[1] + 1.0
        previous = entry[2]
        if not previous:
            return count
        return previous * (1.0 - (now - bucket_start) / window) + count

    def _first(self, key: RateKey, window: float, now: float, bucket_start: float) -> float:
        if len(self._buckets) >= self.max_keys:
            self._evict(window, now)
        self._buckets[key] = [bucket_start, 1.0, 0.0]
        return 1.0

    def estimate(self, key: RateKey, window: float, now: float) -> float:
        """The estimate for `key` without counting a request (for admin views and tests)."""
        entry = self._buckets.get(key)
        if entry is None:
            return 0.0
        bucket_start = now - (now % window)
        if entry[0] == bucket_start:
            current, previous = entry[1], entry[2]
        elif bucket_start - entry[0] == window:
            current, previous = 0.0, entry[1]
        else:
            return 0.0
        return previous * (1.0 - (now - bucket_start) / window) + current

    def _evict(self, window: float, now: float) -> None:
        # Drop keys idle for two windows first; if the table is still full (a flood of distinct keys),
        # drop the oldest tenth so memory stays bounded and the cost is amortised.
        horizon = now - 2 * window
        stale = [k for k, entry in self._buckets.items() if entry[0] < horizon]
        for key in stale:
            del self._buckets[key]
        if len(self._buckets) >= self.max_keys:
            for key in list(self._buckets)[: max(1, self.max_keys // 10)]:
                del self._buckets[key]
