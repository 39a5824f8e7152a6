"""The `dns:` config section: the documented shape loads; mistakes name their key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from originguard.config import load_config_text
from originguard.config.default import DEFAULT_CONFIG_YAML
from originguard.dns.records import compile_zone
from originguard.errors import ConfigError, ConfigErrors
from tests.unit.dns.zones import EDGES_YAML, zone_from


def load(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        loaded = load_config_text(EDGES_YAML + text, "dns.yaml", Path("."), load_secrets=False)
        assert loaded.config.dns is not None
        compile_zone(loaded.config.dns, loaded.config.edges, "dns.yaml")
    error = caught.value
    return error.errors[0] if isinstance(error, ConfigErrors) else error


def test_the_embedded_default_compiles_with_a_latency_record_and_health_checks() -> None:
    loaded = load_config_text(DEFAULT_CONFIG_YAML, "<default>", Path("."), load_secrets=False)
    assert loaded.config.dns is not None
    zone = compile_zone(loaded.config.dns, loaded.config.edges)
    node = next(iter(zone.nodes.values()))
    assert node.a is not None and node.a.policy == "latency" and node.a.ttl == 20
    assert [(c.key, c.port, c.check.protocol) for c in zone.checks] == [
        ("edge-sg", 8443, "https"),
        ("edge-eu", 8444, "https"),
    ]


def test_a_target_naming_an_unknown_edge_names_the_key_path_and_the_edge() -> None:
    error = load("""
dns:
  listen: 127.0.0.1:5353
  zone: cdn.example.test.
  records: [{name: www, targets: [{edge: edge-sg}, {edge: edge-mars}]}]
""")
    assert error.key_path == "dns.records[0].targets[1]"
    assert "'edge-mars' is not defined under edges" in error.problem


def test_loader_reports_every_dns_reference_problem_with_its_key_path() -> None:
    with pytest.raises(ConfigErrors) as caught:
        load_config_text(
            EDGES_YAML
            + """
dns:
  listen: 127.0.0.1:5353
  zone: cdn.example.test.
  records:
    - {name: a, targets: [{edge: nope}]}
    - {name: b, policy: latency, targets: [{address: 192.0.2.1}]}
""",
            "x",
            Path("."),
            load_secrets=False,
        )
    paths = [error.key_path for error in caught.value.errors]
    assert paths == ["dns.records[0].targets[0]", "dns.records[1].targets[0]"]


@pytest.mark.parametrize(
    ("record", "key_path", "words"),
    [
        ("{name: www, policy: nearest, targets: [{address: 192.0.2.1}]}", "dns.records[0].policy", "latency"),
        ("{name: www, targets: [{address: 192.0.2.300}]}",
         "dns.records[0].targets[0].address", "not an IPv4"),
        ("{name: www, targets: [{weight: 2}]}", "dns.records[0].targets[0]", "edge: NAME or address"),
        ("{name: www, policy: geo, targets: [{address: 192.0.2.1, countries: [DE]}]}",
         "dns.records[0]", "'*'"),
        ("{name: www, targets: [{address: 192.0.2.1}], txt: [x]}", "dns.records[0]", "exactly one of"),
        ("{name: www, health_check: {interval: soon}, targets: [{address: 192.0.2.1}]}",
         "dns.records[0].health_check.interval", "not a duration"),
        ("{name: www, targets: [{address: 192.0.2.1, countries: [Germany]}]}",
         "dns.records[0].targets[0].countries", "two-letter"),
    ],
)  # fmt: skip
def test_record_mistakes_name_their_key_path(record: str, key_path: str, words: str) -> None:
    error = load(f"dns: {{listen: 127.0.0.1:5353, zone: cdn.example.test., records: [{record}]}}")
    assert error.key_path == key_path
    assert words in error.problem


def test_a_cname_cannot_share_its_name_with_other_data() -> None:
    error = load("""
dns:
  listen: 127.0.0.1:5353
  zone: cdn.example.test.
  records: [{name: www, targets: [{address: 192.0.2.1}]}, {name: www, cname: other}]
""")
    assert error.key_path == "dns.records[1]" and "CNAME must stand alone" in error.problem


def test_bad_latency_and_country_tables_are_rejected() -> None:
    error = load("dns: {listen: 127.0.0.1:5353, zone: cdn.example.test., latency: {10.0.0.1/8: {eu: 3}}}")
    assert error.key_path == "dns.latency" and "not a valid CIDR" in error.problem
    error = load(
        "dns: {listen: 127.0.0.1:5353, zone: cdn.example.test., countries: {10.0.0.0/8: Deutschland}}"
    )
    assert error.key_path == "dns.countries" and "two-letter" in error.problem


def test_ttls_default_to_60_and_20_for_latency_and_can_be_set_per_record() -> None:
    zone = zone_from("""
dns:
  listen: 127.0.0.1:5353
  zone: CDN.Example.Test
  records:
    - {name: a, targets: [{address: 192.0.2.1}]}
    - {name: b, policy: latency, targets: [{edge: edge-sg}]}
    - {name: c, targets: [{address: 192.0.2.1}], ttl: 5}
    - {name: '@', targets: [{address: 192.0.2.1}]}
""")
    assert zone.origin.to_text() == "cdn.example.test."
    assert {node.label: node.ttl for node in zone.nodes.values()} == {"a": 60, "b": 20, "c": 5, "@": 60}
