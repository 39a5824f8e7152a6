"""Measured RTTs per client subnet and edge, and the latency view that prefers them (pure; `now` given).

Edges report the TCP round-trip times they see (TCP_INFO) per client /24 (IPv4) or /48 (IPv6). A
figure counts once it has `min_samples` samples younger than `max_age`; it is their median, which a
few retransmission-inflated samples do not move.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from originguard.dns.cidr import CidrMap
from originguard.dns.records import Target
from originguard.dns.select import ClientNetwork, LatencyEstimate
from originguard.latency.subnets import SubnetKey

__all__ = ["LatencyFigures", "RttStore"]


class _Window:
    __slots__ = ("median", "samples")

    def __init__(self, size: int) -> None:
        self.samples: deque[tuple[float, float]] = deque(maxlen=size)
        self.median: float | None = None


class RttStore:
    """A bounded window of RTT samples per (subnet, edge); the oldest subnet is forgotten first."""

    def __init__(self, *, min_samples: int = 10, max_age: float = 600.0, window: int = 64,
                 max_keys: int = 100_000) -> None:  # fmt: skip
        self.min_samples = min_samples
        self.max_age = max_age
        self._window = window
        self._max_keys = max_keys
        self._windows: dict[tuple[SubnetKey, str], _Window] = {}

    def add(self, subnet: SubnetKey, edge: str, rtt_ms: float, now: float) -> None:
        """Record one sample seen by `edge` for a client in `subnet` at time `now`."""
        key = (subnet, edge)
        window = self._windows.pop(key, None)  # re-insert: dict order is then least recently fed first
        if window is None:
            window = _Window(self._window)
            while len(self._windows) >= self._max_keys:
                del self._windows[next(iter(self._windows))]
        window.samples.append((now, rtt_ms))
        window.median = None
        self._windows[key] = window

    def estimate(self, subnet: SubnetKey, edge: str, now: float) -> tuple[float, int] | None:
        """(median ms, sample count) when enough fresh samples exist, else None."""
        window = self._windows.get((subnet, edge))
        if window is None:
            return None
        samples = window.samples
        horizon = now - self.max_age
        while samples and samples[0][0] < horizon:
            samples.popleft()
            window.median = None
        if len(samples) < self.min_samples:
            return None
        if window.median is None:
            ordered = sorted(rtt for _, rtt in samples)
            middle = len(ordered) // 2
            window.median = (
                ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
            )
        return window.median, len(samples)

    def __len__(self) -> int:
        return len(self._windows)


class LatencyFigures:
    """The `LatencyView` of the router at time `now`: measured RTT with enough samples, else the table."""

    __slots__ = ("_row", "_row_of", "now", "store", "table")

    def __init__(self, table: CidrMap[Mapping[str, float]], store: RttStore, now: float) -> None:
        self.table = table
        self.store = store
        self.now = now
        self._row_of: ClientNetwork | None = None
        self._row: Mapping[str, float] | None = None

    def estimate(self, client: ClientNetwork, target: Target) -> LatencyEstimate | None:
        """The figure for this client network and target, measured first."""
        if target.edge is not None and client.prefix >= client.subnet_prefix:
            measured = self.store.estimate(client.subnet, target.edge, self.now)
            if measured is not None:
                return LatencyEstimate(measured[0], "measured", measured[1])
        if target.region is None:
            return None
        if self._row_of is not client:  # one table lookup per client, not per target
            found = self.table.lookup(client.address)
            self._row, self._row_of = (found[0] if found else None), client
        ms = self._row.get(target.region) if self._row is not None else None
        return None if ms is None else LatencyEstimate(ms, "table")
