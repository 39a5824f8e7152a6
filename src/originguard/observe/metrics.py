# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Metrics kept as plain dict counters on the hot path and exposed through prometheus-client.

A labelled prometheus-client Counter costs about a microsecond per increment; a dict increment
costs tens of nanoseconds. The collector turns the dicts into metric families only on scrape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

# Not Final: mypyc cannot use a Final tuple as a default argument ("final name was not set").
LATENCY_BUCKETS: tuple[float, ...] = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)


class CounterCell:
    """One labelled counter; hot paths keep a reference and add to it (no key hashing)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0


class Counters:
    """A counter family: label values tuple → count."""

    def __init__(self, name: str, documentation: str, labels: tuple[str, ...]) -> None:
        self.name = name
        self.documentation = documentation
        self.labels = labels
        self.cells: dict[tuple[str, ...], CounterCell] = {}

    def cell(self, key: tuple[str, ...]) -> CounterCell:
        """The counter for these label values, created at zero on first use."""
        found = self.cells.get(key)
        if found is None:
            found = self.cells[key] = CounterCell()
        return found

    def inc(self, key: tuple[str, ...], amount: float = 1.0) -> None:
        self.cell(key).value += amount

    def value(self, key: tuple[str, ...]) -> float:
        found = self.cells.get(key)
        return 0.0 if found is None else found.value

    def family(self) -> Metric:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labels)
        for key, cell in self.cells.items():
            family.add_metric(list(key), cell.value)
        return family


class Histogram:
    """A latency histogram with fixed buckets (seconds)."""

    def __init__(self, name: str, documentation: str, buckets: tuple[float, ...] = LATENCY_BUCKETS) -> None:
        self.name = name
        self.documentation = documentation
        self.buckets = buckets
        self._bounds = list(buckets)
        self.counts = [0] * (len(buckets) + 1)
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        # A compiled scan from the smallest bucket: latencies land in the first few, and it costs
        # a tenth of a call to bisect (which boxes the float and goes through the module).
        bounds = self._bounds
        index = 0
        while index < len(bounds) and bounds[index] < seconds:
            index += 1
        self.counts[index] += 1
        self.total += seconds

    def observe_instant(self) -> None:
        """A request answered within one loop callback: the first bucket, 0 s (uvloop's clock
        has millisecond resolution, so measuring it would read 0 anyway)."""
        self.counts[0] += 1

    def family(self) -> Metric:
        cumulative, running = [], 0
        for bound, count in zip((*self.buckets, float("inf")), self.counts, strict=True):
            running += count
            cumulative.append((str(bound) if bound != float("inf") else "+Inf", running))
        family = HistogramMetricFamily(self.name, self.documentation)
        family.add_metric([], cumulative, sum_value=self.total)
        return family


class Gauges:
    """Gauges computed on scrape from a callback (cache size, target health...)."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labels: tuple[str, ...],
        read: Callable[[], dict[tuple[str, ...], float]],
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.labels = labels
        self.read = read

    def family(self) -> Metric:
        family = GaugeMetricFamily(self.name, self.documentation, labels=self.labels)
        for key, value in self.read().items():
            family.add_metric(list(key), value)
        return family


class MetricSet(Collector):
    """All metrics of one component, in a private registry."""

    def __init__(self) -> None:
        self.members: list[Counters | Histogram | Gauges] = []
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    def counters(self, name: str, documentation: str, labels: tuple[str, ...]) -> Counters:
        member = Counters(name, documentation, labels)
        self.members.append(member)
        return member

    def histogram(self, name: str, documentation: str) -> Histogram:
        member = Histogram(name, documentation)
        self.members.append(member)
        return member

    def gauges(
        self,
        name: str,
        documentation: str,
        labels: tuple[str, ...],
        read: Callable[[], dict[tuple[str, ...], float]],
    ) -> Gauges:
        member = Gauges(name, documentation, labels, read)
        self.members.append(member)
        return member

    def collect(self) -> Iterator[Metric]:
        for member in self.members:
            yield member.family()

    def render(self) -> bytes:
        """The Prometheus text exposition format."""
        return generate_latest(self.registry)
