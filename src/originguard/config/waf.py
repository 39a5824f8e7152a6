"""Config models of the WAF (placeholder shape from DESIGN.md; the WAF issue fills it in)."""

from __future__ import annotations

from typing import Any, Literal

from originguard.config.values import Model


class WafRule(Model):
    name: str
    priority: int
    action: Literal["allow", "block", "count"]
    statement: dict[str, Any]


class WebAclConfig(Model):
    default_action: Literal["allow", "block"] = "allow"
    rules: list[WafRule] = []


class WafConfig(Model):
    web_acls: dict[str, WebAclConfig] = {}
