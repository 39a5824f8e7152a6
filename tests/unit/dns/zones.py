"""Helpers for DNS unit tests: compile a zone from YAML text, fixed health and randomness."""

from __future__ import annotations

from pathlib import Path

from originguard.config import load_config_text
from originguard.dns.records import AddressRecord, Zone, compile_zone

EDGES_YAML = """
edges:
  - {name: edge-sg, region: ap-southeast-1, https: 127.0.0.1:8443, country: SG}
  - {name: edge-eu, region: eu-west-1, https: 127.0.0.1:8444, country: DE}
  - {name: edge-us, region: us-east-1, https: 127.0.0.1:8445}
"""


def zone_from(dns_yaml: str, edges_yaml: str = EDGES_YAML) -> Zone:
    """Validate and compile a `dns:` section (YAML text) with the three test edges."""
    loaded = load_config_text(edges_yaml + dns_yaml, "<test>", Path("."), load_secrets=False)
    assert loaded.config.dns is not None
    return compile_zone(loaded.config.dns, loaded.config.edges, "<test>")


def a_record(zone: Zone, label: str) -> AddressRecord:
    """The compiled A record of `label` in `zone`."""
    for node in zone.nodes.values():
        if node.label == label and node.a is not None:
            return node.a
    raise KeyError(label)


class FixedRandom:
    """A `rand()` returning the given values in turn."""

    def __init__(self, *values: float) -> None:
        self.values = list(values)
        self.index = 0

    def __call__(self) -> float:
        value = self.values[self.index % len(self.values)]
        self.index += 1
        return value
