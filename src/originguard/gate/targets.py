# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Target groups at run time (pure): health per target, balancing, outstanding requests.

When no target is healthy the group fails open to all targets, as cloud balancers do: a broken
health check must not take the whole site down by itself.

A target that refused a connection is taken out at once (passively, as nginx's `max_fails=1`),
until a passing health check or PASSIVE_FAIL_TIMEOUT brings it back: the active check may be
seconds away, and every request in between would otherwise meet the same refusal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from originguard.config.gate import TargetGroup
from originguard.config.values import HostPort
from originguard.gate.health import HealthState, TargetHealth

if TYPE_CHECKING:  # an annotation only: this module stays sans-IO (the client is asyncio)
    from originguard.http.client import UpstreamConnection

_HEALTHY: Final = HealthState.HEALTHY  # a C static when compiled, not an enum lookup per target
PASSIVE_FAIL_TIMEOUT: Final = 10.0  # seconds out after a refused connect (nginx's fail_timeout)


class Pick:
    """The target for one request, and whether it was chosen among unhealthy ones (fail-open)."""

    __slots__ = ("failed_open", "target")

    def __init__(self, target: Target, failed_open: bool) -> None:
        self.target = target
        self.failed_open = failed_open


class Target:
    """One target of a group: its health, load and what the relay path reuses per request."""

    def __init__(self, address: HostPort) -> None:
        self.address = address
        self._health = TargetHealth()
        # `health.state is HEALTHY`, kept by the setter: read per request, and TargetHealth is not
        # compiled (an attribute read through its dict).
        self.up = False
        self.outstanding = 0
        self.label = str(address)  # `host:port`, for logs (made once, not per request)
        self.pool_key = (address.host, address.port, False, None)  # its plain-HTTP upstream pool
        # Its two possible picks, made once: a pick is read and dropped within one request.
        self.picked = Pick(self, False)
        self.picked_failing_open = Pick(self, True)
        # Its idle list in the gate's upstream pool, once asked for (UpstreamPool.idle_list).
        self.idle: list[UpstreamConnection] | None = None
        # Out after a failed connect until a passing check or `recover(failures)` (a timer).
        self.passively_down = False
        self.failures = 0

    @property
    def health(self) -> TargetHealth:
        return self._health

    @health.setter
    def health(self, health: TargetHealth) -> None:
        self._health = health
        if self.passively_down and health.passes == 0:
            return  # a failing (or no) check does not bring back a target that refused us
        self.passively_down = False
        self.up = health.state is _HEALTHY

    def mark_failed(self) -> int:
        """A connect to it failed: no new requests for now. Returns the token `recover` takes."""
        self.failures += 1
        self.passively_down = True
        self.up = False
        return self.failures

    def recover(self, token: int) -> None:
        """The passive timeout of the failure `token` passed: back to what its health says
        (a later failure restarted the timeout: a stale token does nothing)."""
        if self.passively_down and token == self.failures:
            self.passively_down = False
            self.up = self._health.state is _HEALTHY

    @property
    def healthy(self) -> bool:
        return self.up

    def __repr__(self) -> str:
        return f"Target({self.label}, {self._health.state.value})"


class TargetGroupState:
    """Targets of one group and the position of its round robin."""

    def __init__(self, name: str, config: TargetGroup) -> None:
        self.name = name
        self.config = config
        self.targets = [Target(address) for address in config.targets]
        if config.health_check is None:
            # Without checks every target counts as healthy (there is nothing to say otherwise).
            for target in self.targets:
                target.health = TargetHealth(HealthState.HEALTHY, reason="health checks disabled")
        # Read per request: plain attributes, not the pydantic model's.
        self.least_outstanding = config.algorithm == "least_outstanding"
        self.read_timeout = config.read_timeout
        self.websocket_idle_timeout = config.websocket_idle_timeout
        self._next = 0

    def pick(self) -> Pick:
        """The target for the next request by the group's algorithm."""
        targets = self.targets
        candidates = targets
        for target in targets:
            if not target.up:  # no list per request while all are healthy
                candidates = [t for t in targets if t.up]
                break
        failed_open = not candidates
        if failed_open:
            candidates = targets
        if self.least_outstanding:
            fewest = min(t.outstanding for t in candidates)
            candidates = [t for t in candidates if t.outstanding == fewest]
        self._next = (self._next + 1) % (len(candidates) * len(targets) or 1)
        chosen = candidates[self._next % len(candidates)]
        return chosen.picked_failing_open if failed_open else chosen.picked

    def next_target(self, tried: list[Target]) -> Target | None:
        """Where a request goes after its connects to `tried` failed: a healthy target not
        tried yet, else any not tried (fail-open), else None (each target once, as nginx's
        `proxy_next_upstream_tries 0`)."""
        untried = [t for t in self.targets if t not in tried]
        healthy = [t for t in untried if t.up]
        candidates = healthy or untried
        if not candidates:
            return None
        self._next += 1
        return candidates[self._next % len(candidates)]
