"""RTT aggregation per subnet and the health state machine table (sans-IO)."""

from __future__ import annotations

import ipaddress
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from originguard.dns import health
from originguard.dns.cidr import CidrMap
from originguard.dns.rtt import RttStore
from originguard.errors import DnsError
from originguard.latency.subnets import parse_subnet, subnet_key, subnet_text
from originguard.latency.tcp_info import parse_tcp_info

SUBNET = parse_subnet("203.0.113.0/24")


def test_a_figure_needs_min_samples_and_is_their_median() -> None:
    store = RttStore(min_samples=3)
    store.add(SUBNET, "edge-sg", 10.0, now=0.0)
    store.add(SUBNET, "edge-sg", 500.0, now=0.0)  # one retransmission-inflated sample
    assert store.estimate(SUBNET, "edge-sg", now=1.0) is None
    store.add(SUBNET, "edge-sg", 12.0, now=0.5)
    assert store.estimate(SUBNET, "edge-sg", now=1.0) == (12.0, 3)


def test_samples_older_than_max_age_stop_counting() -> None:
    store = RttStore(min_samples=2, max_age=60.0)
    store.add(SUBNET, "edge-sg", 10.0, now=0.0)
    store.add(SUBNET, "edge-sg", 20.0, now=30.0)
    assert store.estimate(SUBNET, "edge-sg", now=59.0) == (15.0, 2)
    assert store.estimate(SUBNET, "edge-sg", now=61.0) is None


def test_the_window_keeps_the_newest_samples() -> None:
    store = RttStore(min_samples=1, window=2)
    for rtt in (100.0, 1.0, 3.0):
        store.add(SUBNET, "edge-sg", rtt, now=0.0)
    assert store.estimate(SUBNET, "edge-sg", now=0.0) == (2.0, 2)


def test_the_store_forgets_the_least_recently_fed_subnet_first() -> None:
    store = RttStore(min_samples=1, max_keys=2)
    a, b, c = (parse_subnet(f"10.0.{i}.0/24") for i in range(3))
    store.add(a, "e", 1.0, 0.0)
    store.add(b, "e", 1.0, 0.0)
    store.add(a, "e", 1.0, 0.0)
    store.add(c, "e", 1.0, 0.0)
    assert len(store) == 2
    assert store.estimate(b, "e", 0.0) is None and store.estimate(a, "e", 0.0) is not None


def test_subnets_are_slash_24_and_slash_48() -> None:
    assert subnet_text(parse_subnet("203.0.113.77")) == "203.0.113.0/24"
    assert subnet_text(parse_subnet("2001:db8:1:2::5/64")) == "2001:db8:1::/48"
    with pytest.raises(ValueError, match="wider than /24"):
        parse_subnet("203.0.0.0/16")


@given(st.ip_addresses())
def test_subnet_key_round_trips_through_text(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    key = subnet_key(address)
    assert parse_subnet(subnet_text(key)) == key
    assert address in ipaddress.ip_network(subnet_text(key))


def test_cidr_map_answers_the_longest_prefix() -> None:
    table = CidrMap(
        [(ipaddress.ip_network("10.0.0.0/8"), "wide"), (ipaddress.ip_network("10.1.0.0/16"), "narrow")]
    )
    assert table.lookup(ipaddress.ip_address("10.1.2.3")) == ("narrow", 16)
    assert table.lookup(ipaddress.ip_address("10.2.2.3")) == ("wide", 8)
    assert table.lookup(ipaddress.ip_address("11.0.0.1")) is None
    assert table.lookup(ipaddress.ip_address("::1")) is None


def test_tcp_info_rtt_is_read_at_its_linux_offset() -> None:
    raw = struct.pack("=8B17I", *([0] * 8), *([0] * 15), 12_500, 3_000) + bytes(104 - 76)
    assert parse_tcp_info(raw) == (12.5, 3.0)
    assert parse_tcp_info(raw[:40]) is None
    assert parse_tcp_info(bytes(104)) is None  # rtt 0: not measured yet


THRESHOLDS = health.Thresholds(healthy=2, unhealthy=3)


def run(events: list[health.Event], start: health.HealthState | None = None) -> health.HealthState:
    state = start or health.HealthState()
    for event in events:
        state = health.step(state, event, THRESHOLDS).state
    return state


def test_the_first_result_decides_the_initial_state() -> None:
    assert run(["pass"]).status == "healthy"
    assert run(["fail"]).status == "unhealthy"
    assert health.HealthState().serving


def test_a_healthy_target_goes_down_only_after_unhealthy_consecutive_failures() -> None:
    assert run(["pass", "fail", "fail"]).status == "healthy"
    assert run(["pass", "fail", "fail", "pass", "fail", "fail"]).status == "healthy"
    assert run(["pass", "fail", "fail", "fail"]).status == "unhealthy"


def test_an_unhealthy_target_comes_back_after_healthy_consecutive_passes() -> None:
    assert run(["fail", "pass"]).status == "unhealthy"
    transition = health.step(run(["fail", "pass"]), "pass", THRESHOLDS, "HTTP 200")
    assert transition.changed and transition.state.status == "healthy"
    assert transition.reason == "healthy: 2 consecutive (HTTP 200)"


def test_an_unknown_transition_raises() -> None:
    with pytest.raises(DnsError, match="no transition"):
        health.step(health.HealthState(), "maybe", THRESHOLDS)  # type: ignore[arg-type]


STATUSES: list[health.Status] = ["initial", "healthy", "unhealthy"]
EVENTS: list[health.Event] = ["pass", "fail"]


@given(st.sampled_from(STATUSES), st.integers(0, 5), st.sampled_from(EVENTS))
def test_every_state_and_event_pair_has_a_transition(
    status: health.Status, streak: int, event: health.Event
) -> None:
    before = health.HealthState(status, streak)
    transition = health.step(before, event, THRESHOLDS)
    assert transition.changed == (transition.state.status != before.status)
    assert transition.state.status != "initial"
    assert (status, event) in health.TRANSITIONS


@given(st.lists(st.sampled_from(EVENTS), max_size=30))
def test_status_follows_the_thresholds(events: list[health.Event]) -> None:
    state = run(events)
    if len(events) >= 3 and events[-3:] == ["fail"] * 3:
        assert state.status == "unhealthy"
    if len(events) >= 2 and events[-2:] == ["pass"] * 2:
        assert state.status == "healthy"
