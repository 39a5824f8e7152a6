"""Answer selection for one record under its routing policy (sans-IO: randomness and figures injected).

`select(record, client, health, latency, rand) -> Answer`; the answer says why it was chosen.
Health: a record without a health check treats every target as healthy; when no target is healthy
the router fails open (decides as if all were healthy) and says so, as Route 53 does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol, assert_never

from originguard.dns.records import AddressRecord, Target
from originguard.latency.subnets import V4_SUBNET, V6_SUBNET, IpAddress, SubnetKey, subnet_key


@dataclass(frozen=True, slots=True)
class ClientNetwork:
    """Who asks: the ECS subnet (RFC 7871) when present, else the resolver's address."""

    address: IpAddress
    prefix: int
    from_ecs: bool = False
    country: str | None = None
    # Derived once per client (the engine caches clients): the answer granularity and its key.
    subnet_prefix: int = field(init=False)
    subnet: SubnetKey = field(init=False)
    text: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "subnet_prefix", V4_SUBNET if self.address.version == 4 else V6_SUBNET)
        object.__setattr__(self, "subnet", subnet_key(self.address))
        object.__setattr__(self, "text", f"{self.address}/{self.prefix}")


@dataclass(frozen=True, slots=True)
class LatencyEstimate:
    """A latency figure for one (client network, edge) and where it came from."""

    ms: float
    source: Literal["measured", "table"]
    samples: int = 0


class LatencyView(Protocol):
    """Latency figures for a client network: measured RTTs, else the configured table."""

    def estimate(self, client: ClientNetwork, target: Target) -> LatencyEstimate | None: ...


@dataclass(frozen=True, slots=True)
class Answer:
    """The chosen targets, the ECS scope they hold for, and the reason."""

    targets: tuple[Target, ...]
    reason: str
    scope: int = 0
    fail_open: bool = False

    @property
    def decision(self) -> str:
        """A short label of the choice (for metrics): the target keys."""
        return ",".join(t.key for t in self.targets)


Random = Callable[[], float]


def select(
    record: AddressRecord,
    client: ClientNetwork,
    health: Mapping[str, bool],
    latency: LatencyView,
    rand: Random,
) -> Answer:
    """Choose the targets to answer for `record` for this client, given health and latency."""
    targets = record.targets
    candidates = tuple(t for t in targets if health.get(t.key, True)) if record.checked else targets
    if candidates:
        return _by_policy(record, candidates, client, latency, rand)
    answer = _by_policy(record, targets, client, latency, rand)
    reason = f"fail-open: no healthy target, answering as if all were healthy; {answer.reason}"
    return Answer(answer.targets, reason, answer.scope, fail_open=True)


def _by_policy(
    record: AddressRecord, candidates: tuple[Target, ...], client: ClientNetwork, latency: LatencyView,
    rand: Random,
) -> Answer:  # fmt: skip
    policy = record.policy
    if policy == "simple":
        return Answer(candidates, f"simple: {len(candidates)} healthy of {len(record.targets)}")
    if policy == "weighted":
        return _weighted(candidates, rand)
    if policy == "failover":
        return _failover(candidates)
    if policy == "geo":
        return _geo(candidates, client)
    if policy == "latency":
        return _latency(candidates, client, latency)
    assert_never(policy)


def _weighted(candidates: tuple[Target, ...], rand: Random) -> Answer:
    weighted = [t for t in candidates if t.weight > 0]
    # Route 53: when every healthy target has weight 0, they share the traffic equally.
    pool = weighted or list(candidates)
    weights = [t.weight for t in pool] if weighted else [1] * len(pool)
    total = sum(weights)
    point = rand() * total
    for target, weight in zip(pool, weights, strict=True):
        point -= weight
        if point < 0:
            return Answer((target,), f"weighted: {target.key} (weight {weight} of {total})")
    return Answer((pool[-1],), f"weighted: {pool[-1].key} (weight {weights[-1]} of {total})")


def _failover(candidates: tuple[Target, ...]) -> Answer:
    for target in candidates:
        if target.role == "primary":
            return Answer((target,), f"failover: primary {target.key} healthy")
    first = candidates[0]
    return Answer((first,), f"failover: primary unhealthy, secondary {first.key}")


def _geo(candidates: tuple[Target, ...], client: ClientNetwork) -> Answer:
    scope = client.subnet_prefix
    if client.country is not None:
        for target in candidates:
            if client.country in target.countries:
                return Answer((target,), f"geo: {client.country} -> {target.key}", scope)
    for target in candidates:
        if "*" in target.countries:
            return Answer(
                (target,), f"geo: {client.country or 'unknown country'} -> default {target.key}", scope
            )
    # The default location is unhealthy: any healthy location beats no answer.
    return Answer((candidates[0],), f"geo: default unhealthy, nearest listed {candidates[0].key}", scope)


def _latency(candidates: tuple[Target, ...], client: ClientNetwork, latency: LatencyView) -> Answer:
    best: tuple[Target, LatencyEstimate] | None = None
    for target in candidates:
        estimate = latency.estimate(client, target)
        if estimate is not None and (best is None or estimate.ms < best[1].ms):
            best = (target, estimate)
    scope = client.subnet_prefix
    if best is None:
        first = candidates[0]
        return Answer((first,), f"latency: no figure for {client.address}, first healthy {first.key}", scope)
    target, estimate = best
    how = f"measured ({estimate.samples} samples)" if estimate.source == "measured" else "table"
    return Answer((target,), f"latency: {target.key} {estimate.ms:g}ms {how}", scope)
