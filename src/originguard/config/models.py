"""The one config object: every section of the YAML file, validated together."""

from __future__ import annotations

from pydantic import model_validator

from originguard.config.dns import DnsConfig
from originguard.config.edge import DistributionConfig, EdgeNode
from originguard.config.gate import GateConfig
from originguard.config.values import Model, SecretRef, SecretSource
from originguard.config.waf import WafConfig


class ClusterConfig(Model):
    redis: str | None = None


class Config(Model):
    """A whole originguard deployment; each component reads its own section."""

    secrets: dict[str, SecretSource] = {}
    dns: DnsConfig | None = None
    edges: list[EdgeNode] = []
    distribution: DistributionConfig | None = None
    waf: WafConfig | None = None
    gate: GateConfig | None = None
    cluster: ClusterConfig | None = None

    @model_validator(mode="after")
    def _references_resolve(self) -> Config:
        for path, ref in iter_secret_refs(self):
            if ref.secret not in self.secrets:
                raise ValueError(
                    f"{path}: secret {ref.secret!r} is not defined under secrets: "
                    f"(defined: {sorted(self.secrets) or 'none'})"
                )
        if self.distribution is not None:
            origin_ids = {o.id for o in self.distribution.origins}
            behaviors = [self.distribution.default_behavior, *self.distribution.behaviors]
            for behavior in behaviors:
                if behavior.origin not in origin_ids:
                    raise ValueError(
                        f"distribution: behavior for {behavior.path!r} names origin {behavior.origin!r}, "
                        f"which is not among origins {sorted(origin_ids)}"
                    )
        names = [e.name for e in self.edges]
        if len(names) != len(set(names)):
            raise ValueError(f"edges: names must be unique (got {names})")
        return self


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
