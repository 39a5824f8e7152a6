"""Answer selection for every routing policy (sans-IO: health, figures and randomness are given)."""

from __future__ import annotations

import ipaddress
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from originguard.dns.records import Target
from originguard.dns.rtt import LatencyFigures, RttStore
from originguard.dns.select import ClientNetwork, LatencyEstimate, select
from tests.unit.dns.zones import FixedRandom, a_record, zone_from

ZONE = zone_from("""
dns:
  listen: 127.0.0.1:5353
  zone: cdn.example.test.
  latency:
    203.0.113.0/24: {ap-southeast-1: 12, eu-west-1: 190, us-east-1: 220}
    198.51.100.0/24: {ap-southeast-1: 170, eu-west-1: 9}
  records:
    - {name: plain, targets: [{address: 192.0.2.1}, {address: 192.0.2.2}]}
    - name: checked
      health_check: {interval: 1s}
      targets: [{edge: edge-sg, address: 192.0.2.11}, {edge: edge-eu, address: 192.0.2.12}]
    - name: weighted
      policy: weighted
      health_check: {}
      targets: [{edge: edge-sg, address: 192.0.2.11, weight: 3},
                {edge: edge-eu, address: 192.0.2.12, weight: 1},
                {edge: edge-us, address: 192.0.2.13, weight: 0}]
    - name: failover
      policy: failover
      health_check: {}
      targets: [{edge: edge-eu, address: 192.0.2.12, role: secondary},
                {edge: edge-sg, address: 192.0.2.11, role: primary}]
    - name: geo
      policy: geo
      health_check: {}
      targets: [{edge: edge-sg, address: 192.0.2.11},
                {edge: edge-eu, address: 192.0.2.12, countries: [DE, FR]},
                {edge: edge-us, address: 192.0.2.13, countries: ['*']}]
    - name: www
      policy: latency
      health_check: {}
      targets: [{edge: edge-sg, address: 192.0.2.11}, {edge: edge-eu, address: 192.0.2.12},
                {edge: edge-us, address: 192.0.2.13}]
""")

SG_CLIENT = ClientNetwork(ipaddress.ip_address("203.0.113.0"), 24, from_ecs=True)
EU_CLIENT = ClientNetwork(ipaddress.ip_address("198.51.100.7"), 32)
UNKNOWN_CLIENT = ClientNetwork(ipaddress.ip_address("192.0.2.200"), 32)
ALL_UP: dict[str, bool] = {}


class NoFigures:
    def estimate(self, client: ClientNetwork, target: Target) -> LatencyEstimate | None:
        return None


def figures(store: RttStore | None = None, now: float = 100.0) -> LatencyFigures:
    return LatencyFigures(ZONE.latency, store or RttStore(min_samples=3), now)


def keys(targets: tuple[Target, ...]) -> list[str]:
    return [t.key for t in targets]


def test_simple_answers_every_target_of_an_unchecked_record_even_when_marked_down() -> None:
    answer = select(a_record(ZONE, "plain"), EU_CLIENT, {"192.0.2.1": False}, NoFigures(), FixedRandom(0))
    assert keys(answer.targets) == ["192.0.2.1", "192.0.2.2"]
    assert answer.scope == 0 and not answer.fail_open


def test_simple_drops_an_unhealthy_target_of_a_checked_record() -> None:
    answer = select(a_record(ZONE, "checked"), EU_CLIENT, {"edge-sg": False}, NoFigures(), FixedRandom(0))
    assert keys(answer.targets) == ["edge-eu"]
    assert answer.reason == "simple: 1 healthy of 2"


def test_no_healthy_target_fails_open_with_every_target_and_says_so() -> None:
    health = {"edge-sg": False, "edge-eu": False}
    answer = select(a_record(ZONE, "checked"), EU_CLIENT, health, NoFigures(), FixedRandom(0))
    assert keys(answer.targets) == ["edge-sg", "edge-eu"]
    assert answer.fail_open and answer.reason.startswith("fail-open")


def test_weighted_picks_by_cumulative_weight() -> None:
    record = a_record(ZONE, "weighted")
    picks = [
        select(record, EU_CLIENT, ALL_UP, NoFigures(), FixedRandom(r)).targets[0].key
        for r in (0, 0.74, 0.75, 0.99)
    ]
    assert picks == ["edge-sg", "edge-sg", "edge-eu", "edge-eu"]


def test_weighted_never_answers_weight_zero_while_weighted_targets_are_healthy() -> None:
    record = a_record(ZONE, "weighted")
    seen = Counter(
        select(record, EU_CLIENT, ALL_UP, NoFigures(), FixedRandom(i / 100)).targets[0].key
        for i in range(100)
    )
    assert seen == {"edge-sg": 75, "edge-eu": 25}


def test_weighted_shares_equally_when_only_weight_zero_targets_are_healthy() -> None:
    record = a_record(ZONE, "weighted")
    health = {"edge-sg": False, "edge-eu": False}
    answer = select(record, EU_CLIENT, health, NoFigures(), FixedRandom(0.5))
    assert keys(answer.targets) == ["edge-us"] and not answer.fail_open


@given(
    st.floats(min_value=0, max_value=1, exclude_max=True),
    st.sets(st.sampled_from(["edge-sg", "edge-eu", "edge-us"])),
)
def test_weighted_always_answers_one_healthy_target(point: float, down: set[str]) -> None:
    health = {key: key not in down for key in ("edge-sg", "edge-eu", "edge-us")}
    answer = select(a_record(ZONE, "weighted"), EU_CLIENT, health, NoFigures(), lambda: point)
    assert len(answer.targets) == 1
    assert answer.fail_open == (len(down) == 3)
    assert answer.fail_open or answer.targets[0].key not in down


def test_failover_answers_the_primary_while_it_is_healthy() -> None:
    answer = select(a_record(ZONE, "failover"), EU_CLIENT, ALL_UP, NoFigures(), FixedRandom(0))
    assert keys(answer.targets) == ["edge-sg"]
    assert answer.reason == "failover: primary edge-sg healthy"


def test_failover_answers_the_secondary_when_the_primary_is_down() -> None:
    answer = select(a_record(ZONE, "failover"), EU_CLIENT, {"edge-sg": False}, NoFigures(), FixedRandom(0))
    assert keys(answer.targets) == ["edge-eu"]


def test_failover_with_both_down_fails_open_to_the_primary() -> None:
    health = {"edge-sg": False, "edge-eu": False}
    answer = select(a_record(ZONE, "failover"), EU_CLIENT, health, NoFigures(), FixedRandom(0))
    assert keys(answer.targets) == ["edge-sg"] and answer.fail_open


def test_failover_without_roles_makes_the_first_target_primary() -> None:
    zone = zone_from("""
dns:
  listen: 127.0.0.1:5353
  zone: cdn.example.test.
  records:
    - {name: f, policy: failover, targets: [{address: 192.0.2.1}, {address: 192.0.2.2}]}
""")
    answer = select(a_record(zone, "f"), EU_CLIENT, ALL_UP, NoFigures(), FixedRandom(0))
    assert keys(answer.targets) == ["192.0.2.1"]


def geo_client(country: str | None) -> ClientNetwork:
    return ClientNetwork(ipaddress.ip_address("192.0.2.9"), 32, country=country)


def test_geo_matches_listed_countries_then_the_edges_own_country() -> None:
    record = a_record(ZONE, "geo")
    assert keys(select(record, geo_client("FR"), ALL_UP, NoFigures(), FixedRandom(0)).targets) == ["edge-eu"]
    assert keys(select(record, geo_client("SG"), ALL_UP, NoFigures(), FixedRandom(0)).targets) == ["edge-sg"]


def test_geo_sends_unknown_and_unlisted_countries_to_the_default() -> None:
    record = a_record(ZONE, "geo")
    for country in (None, "BR"):
        answer = select(record, geo_client(country), ALL_UP, NoFigures(), FixedRandom(0))
        assert keys(answer.targets) == ["edge-us"]
        assert "default" in answer.reason and answer.scope == 24


def test_geo_skips_an_unhealthy_country_location_for_the_default() -> None:
    answer = select(a_record(ZONE, "geo"), geo_client("DE"), {"edge-eu": False}, NoFigures(), FixedRandom(0))
    assert keys(answer.targets) == ["edge-us"]


def test_latency_uses_the_table_for_the_clients_network() -> None:
    record = a_record(ZONE, "www")
    sg = select(record, SG_CLIENT, ALL_UP, figures(), FixedRandom(0))
    eu = select(record, EU_CLIENT, ALL_UP, figures(), FixedRandom(0))
    assert keys(sg.targets) == ["edge-sg"] and sg.reason == "latency: edge-sg 12ms table"
    assert keys(eu.targets) == ["edge-eu"] and eu.scope == 24


def test_latency_skips_the_nearest_edge_when_it_is_unhealthy() -> None:
    answer = select(a_record(ZONE, "www"), SG_CLIENT, {"edge-sg": False}, figures(), FixedRandom(0))
    assert keys(answer.targets) == ["edge-eu"]


def test_latency_prefers_measured_rtt_once_it_has_enough_samples() -> None:
    store = RttStore(min_samples=3)
    subnet = SG_CLIENT.subnet
    for rtt in (5.0, 6.0):
        store.add(subnet, "edge-us", rtt, now=99.0)
    record = a_record(ZONE, "www")
    assert keys(select(record, SG_CLIENT, ALL_UP, figures(store), FixedRandom(0)).targets) == ["edge-sg"]
    store.add(subnet, "edge-us", 7.0, now=99.5)
    answer = select(record, SG_CLIENT, ALL_UP, figures(store), FixedRandom(0))
    assert keys(answer.targets) == ["edge-us"]
    assert answer.reason == "latency: edge-us 6ms measured (3 samples)"


def test_latency_ignores_measurements_for_a_client_network_wider_than_a_slash_24() -> None:
    store = RttStore(min_samples=1)
    store.add(SG_CLIENT.subnet, "edge-us", 1.0, now=0.0)
    wide = ClientNetwork(ipaddress.ip_address("203.0.0.0"), 16, from_ecs=True)
    assert keys(select(a_record(ZONE, "www"), wide, ALL_UP, figures(store), FixedRandom(0)).targets) == [
        "edge-sg"
    ]


def test_latency_without_any_figure_answers_the_first_healthy_target() -> None:
    answer = select(a_record(ZONE, "www"), UNKNOWN_CLIENT, {"edge-sg": False}, figures(), FixedRandom(0))
    assert keys(answer.targets) == ["edge-eu"]
    assert answer.reason.startswith("latency: no figure for 192.0.2.200")
