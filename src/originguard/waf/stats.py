# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Observability primitives the edge exposes: per-rule counters, sampled requests, block log records.

Values of headers named secret by the caller (the origin-verify header, Authorization, Cookie, ...) are
never recorded: they are replaced by `***` wherever a header value would appear.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from originguard.waf.request import WafRequest
from originguard.waf.verdict import Action, Verdict

REDACTED: Final = "***"
DEFAULT_RULE: Final = "(default)"


@dataclass(slots=True)
class RuleCounters:
    """How often one rule ended evaluation with allow or block, or counted a request."""

    allowed: int = 0
    blocked: int = 0
    counted: int = 0


@dataclass
class WafStats:
    """Per-rule counters of one web ACL; the default action is counted under `(default)`."""

    rules: dict[str, RuleCounters] = field(default_factory=dict)

    def record(self, verdict: Verdict) -> None:
        """Add one verdict to the counters."""
        # Called by the edge on every request: a lookup and an increment when nothing was counted.
        if verdict.counted:
            for name in verdict.counted:
                self._counters(name).counted += 1
        try:
            counters = self.rules[verdict.rule or DEFAULT_RULE]
        except KeyError:
            counters = self._counters(verdict.rule or DEFAULT_RULE)
        if verdict.action is Action.BLOCK:
            counters.blocked += 1
        else:
            counters.allowed += 1

    def snapshot(self) -> dict[str, dict[str, int]]:
        """A plain copy for metrics export: {rule: {allowed, blocked, counted}}."""
        return {
            name: {"allowed": c.allowed, "blocked": c.blocked, "counted": c.counted}
            for name, c in self.rules.items()
        }

    def _counters(self, name: str) -> RuleCounters:
        found = self.rules.get(name)
        if found is None:
            found = self.rules[name] = RuleCounters()
        return found


class SampledRequests:
    """A bounded ring buffer of every `every`-th request with its verdict (deterministic, no RNG)."""

    def __init__(self, capacity: int = 100, *, every: int = 1, secret_headers: Iterable[str] = ()) -> None:
        self.every = max(1, every)
        self.secret_headers = frozenset(name.lower() for name in secret_headers)
        self._seen = 0
        self._items: deque[dict[str, Any]] = deque(maxlen=capacity)

    def offer(self, request: WafRequest, verdict: Verdict, now: float) -> bool:
        """Consider one request; return True when it was sampled."""
        self._seen += 1
        if (self._seen - 1) % self.every:
            return False
        record = block_log_record(request, verdict, now, self.secret_headers)
        record["headers"] = [
            [name, REDACTED if name in self.secret_headers else value[:256]]
            for name, value in request.headers
        ]
        self._items.append(record)
        return True

    def items(self) -> list[dict[str, Any]]:
        """The samples held, oldest first."""
        return list(self._items)


def block_log_record(
    request: WafRequest, verdict: Verdict, now: float, secret_headers: Iterable[str] = ()
) -> dict[str, Any]:
    """A JSON-ready record of a verdict: rule, labels, matched field and value (≤ 64 chars, redacted)."""
    secrets = frozenset(name.lower() for name in secret_headers)
    value = verdict.value
    if value is not None and _is_secret(verdict.field, request, secrets):
        value = REDACTED
    record: dict[str, Any] = {
        "time": now,
        "action": verdict.action.value,
        "rule": verdict.rule,
        "labels": list(verdict.labels),
        "counted": list(verdict.counted),
        "field": verdict.field,
        "value": value,
        "reason": verdict.reason,
        "client_ip": request.client_ip,
        "method": request.method,
        "path": request.path[:256],
    }
    if verdict.crs is not None:
        record["crs"] = crs_record(verdict.crs, request, secrets)
    return record


def crs_record(finding: Any, request: WafRequest, secrets: frozenset[str]) -> dict[str, Any]:
    """An OWASP CRS finding for a log: rule ids, variables, scores; matched data unless a secret's."""
    record: dict[str, Any] = finding.record()
    if "matched_data" in record and any(_is_secret(v, request, secrets) for v in finding.variables):
        record["matched_data"] = [REDACTED]
    return record


def _is_secret(field_name: str | None, request: WafRequest, secrets: frozenset[str]) -> bool:
    if not secrets or field_name is None:
        return False
    if field_name.startswith("header:"):
        return field_name[7:] in secrets
    if field_name.startswith("REQUEST_HEADERS"):  # a CRS variable: REQUEST_HEADERS:Name, or all
        name = field_name.partition(":")[2].lower()
        return name in secrets if name else any(n in secrets for n, _ in request.headers)
    if field_name.startswith("REQUEST_COOKIES"):
        return "cookie" in secrets
    if field_name.startswith("rate:"):
        return any(part in secrets for part in field_name[5:].split("+"))
    if field_name == "cookies":
        return "cookie" in secrets
    if field_name == "all_headers":
        # Not attributable to one header (should not happen: matches name the header): be safe.
        return any(name in secrets for name, _ in request.headers)
    return False
