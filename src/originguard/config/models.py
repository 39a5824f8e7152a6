"""The one config object: every section of the YAML file, validated together."""

from __future__ import annotations

from pydantic import Field

from originguard.config.dns import DnsConfig, check_dns_references
from originguard.config.edge import DistributionConfig, EdgeNode
from originguard.config.gate import GateConfig
from originguard.config.urls import RedisUrl
from originguard.config.values import Model, SecretRef, SecretSource
from originguard.config.waf import WafConfig


class ClusterConfig(Model):
    """Shared state between processes and machines (see docs/operations.md)."""

    redis: RedisUrl | None = Field(
        default=None,
        description="Redis for WAF rate counters, invalidations, rotation phases and DNS figures; "
        "components fall back to local state while it is down",
    )


class Config(Model):
    """A whole originguard deployment; each component reads its own section."""

    secrets: dict[str, SecretSource] = Field(
        default={}, description="named secrets, referenced elsewhere as `{secret: NAME}`"
    )
    dns: DnsConfig | None = Field(default=None, description="the DNS router (`originguard dns`)")
    edges: list[EdgeNode] = Field(default=[], description="the CDN edge locations (`originguard edge`)")
    distribution: DistributionConfig | None = Field(
        default=None, description="what every edge serves: origins, behaviours, cache, WAF ACL"
    )
    waf: WafConfig | None = Field(default=None, description="web ACLs the distribution can name")
    gate: GateConfig | None = Field(default=None, description="the origin gate (`originguard gate`)")
    cluster: ClusterConfig | None = Field(default=None, description="shared state through Redis")


def cross_references(config: Config) -> list[tuple[str, str]]:
    """Problems between sections, as (key path, problem): names that refer to nothing."""
    problems: list[tuple[str, str]] = []
    for path, ref in iter_secret_refs(config):
        if ref.secret not in config.secrets:
            defined = sorted(config.secrets) or "none"
            problems.append(
                (path, f"secret {ref.secret!r} is not defined under secrets: (defined: {defined})")
            )
    if config.distribution is not None:
        origin_ids = sorted(o.id for o in config.distribution.origins)
        for gi, group in enumerate(config.distribution.origin_groups):
            for mi, member in enumerate(group.members):
                if member not in origin_ids:
                    problems.append(
                        (
                            f"distribution.origin_groups[{gi}].members[{mi}]",
                            f"origin {member!r} is not among origins {origin_ids}",
                        )
                    )
        origin_ids = sorted([*origin_ids, *(g.id for g in config.distribution.origin_groups)])
        behaviors = [("distribution.default_behavior", config.distribution.default_behavior)]
        behaviors += [
            (f"distribution.behaviors[{i}]", b) for i, b in enumerate(config.distribution.behaviors)
        ]
        for path, behavior in behaviors:
            if behavior.origin not in origin_ids:
                problems.append(
                    (f"{path}.origin", f"origin {behavior.origin!r} is not among origins {origin_ids}")
                )
    seen: set[str] = set()
    for index, edge in enumerate(config.edges):
        if edge.name in seen:
            problems.append((f"edges[{index}].name", f"edge name {edge.name!r} is used twice"))
        seen.add(edge.name)
    with_https = sorted(e.name for e in config.edges if e.https is not None)
    for index, edge in enumerate(config.edges):
        if edge.shield is not None and (edge.shield.edge == edge.name or edge.shield.edge not in with_https):
            others = [name for name in with_https if name != edge.name] or "none"
            problems.append(
                (
                    f"edges[{index}].shield.edge",
                    f"{edge.shield.edge!r} is not another edge with https: (edges with https: {others})",
                )
            )
    if config.dns is not None:
        problems += check_dns_references(config.dns, config.edges)
    return problems


def iter_secret_refs(config: Config) -> list[tuple[str, SecretRef]]:
    """Every `{secret: NAME}` in the config with its key path (used for validation and audits)."""
    found: list[tuple[str, SecretRef]] = []

    def walk(node: object, path: str) -> None:
        if isinstance(node, SecretRef):
            found.append((path, node))
        elif isinstance(node, Model):
            for key, value in node:
                walk(value, f"{path}.{key}" if path else key)
        elif isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}")
        elif isinstance(node, (list, tuple)):
            for index, value in enumerate(node):
                walk(value, f"{path}[{index}]")

    walk(config, "")
    return found
