"""Config models of the DNS router (placeholder shape from DESIGN.md; the DNS issue fills it in)."""

from __future__ import annotations

from typing import Any

from originguard.config.values import HostPortField, Model


class DnsRecord(Model):
    name: str
    policy: str = "simple"
    health_check: dict[str, Any] | None = None
    targets: list[dict[str, Any]] = []


class DnsConfig(Model):
    listen: HostPortField
    zone: str
    records: list[DnsRecord] = []
