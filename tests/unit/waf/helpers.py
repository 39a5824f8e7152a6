"""Small builders shared by the WAF tests."""

from __future__ import annotations

from typing import Any

from originguard.config.waf import WebAclConfig
from originguard.waf import CompiledAcl, GeoTable, RateState, Verdict, WafRequest, compile_acl, evaluate


def request(
    path: str = "/",
    query: str = "",
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
    *,
    method: str = "GET",
    ip: str = "192.0.2.1",
    body: bytes = b"",
    truncated: bool = False,
) -> WafRequest:
    """A WafRequest with friendly defaults."""
    items = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    return WafRequest(method, path, query, tuple((n.lower(), v) for n, v in items), ip, body, truncated)


def acl(*statements: dict[str, Any], default: str = "allow", **extra: Any) -> CompiledAcl:
    """An ACL blocking on each statement in turn (rules r0, r1, ...)."""
    rules = [
        {"name": f"r{i}", "priority": i, "action": "block", "statement": s} for i, s in enumerate(statements)
    ]
    return compile_acl(WebAclConfig.model_validate({"default_action": default, "rules": rules, **extra}))


def rules_acl(rules: list[dict[str, Any]], geo: GeoTable | None = None, **extra: Any) -> CompiledAcl:
    """An ACL from full rule mappings."""
    return compile_acl(WebAclConfig.model_validate({"rules": rules, **extra}), geo_table=geo)


def run(compiled: CompiledAcl, req: WafRequest, now: float = 0.0, rate: RateState | None = None) -> Verdict:
    """Evaluate with a fresh rate state unless one is given."""
    return evaluate(compiled, req, now, rate if rate is not None else RateState())


def blocks(statement: dict[str, Any], req: WafRequest) -> bool:
    """Whether a one-rule ACL with `statement` blocks `req`."""
    return run(acl(statement), req).blocked
