"""Pure merge of several routers' RTT figures and health reports: any order, same answer."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from originguard.cluster.link import WarningThrottle, next_delay, redacted
from originguard.dns.shared_core import (
    HealthReport,
    RttFigure,
    decode_health,
    decode_rtt,
    encode_health,
    encode_rtt,
    merge_health,
    merge_rtt,
    rtt_field,
)

figures = st.lists(
    st.builds(
        RttFigure,
        st.sampled_from(["dns-1", "dns-2", "dns-3"]),
        st.integers(1, 64),
        st.floats(0.1, 500),
        st.floats(900, 1000),
    ),
    max_size=6,
)
reports = st.lists(
    st.builds(
        HealthReport, st.sampled_from(["dns-1", "dns-2", "dns-3"]), st.booleans(), st.floats(900, 1000)
    ),
    max_size=6,
)


@given(figures, st.randoms())
def test_rtt_merge_is_the_same_for_any_order(views: list[RttFigure], rand: object) -> None:
    shuffled = list(views)
    rand.shuffle(shuffled)  # type: ignore[attr-defined]
    assert merge_rtt(views, 1000.0, 60.0, 10) == merge_rtt(shuffled, 1000.0, 60.0, 10)


def test_rtt_merge_weighs_by_samples_and_needs_min_samples_in_total() -> None:
    views = [RttFigure("dns-1", 6, 10.0, 1000.0), RttFigure("dns-2", 2, 30.0, 1000.0)]
    assert merge_rtt(views, 1000.0, 60.0, 10) is None
    assert merge_rtt(views, 1000.0, 60.0, 8) == (pytest.approx(15.0), 8)


def test_rtt_merge_drops_stale_figures() -> None:
    views = [RttFigure("dns-1", 10, 10.0, 1000.0), RttFigure("dns-2", 10, 90.0, 800.0)]
    assert merge_rtt(views, 1000.0, 60.0, 10) == (10.0, 10)


def test_rtt_field_round_trips_edge_and_router() -> None:
    decoded = decode_rtt(rtt_field("edge@odd", "dns-1"), encode_rtt(12, 3.14159, 1000.5))
    assert decoded == ("edge@odd", RttFigure("dns-1", 12, 3.142, 1000.5))


@pytest.mark.parametrize("value", [b"", b"[1,2]", b'{"a":1}', b"[0,1.0,2.0]", b'["x",1,2]'])
def test_malformed_rtt_values_are_ignored(value: bytes) -> None:
    assert decode_rtt("edge-sg@dns-1", value) is None


@given(reports, st.randoms())
def test_health_merge_is_the_same_for_any_order(views: list[HealthReport], rand: object) -> None:
    shuffled = list(views)
    rand.shuffle(shuffled)  # type: ignore[attr-defined]
    assert merge_health(views, 1000.0, 50.0) == merge_health(shuffled, 1000.0, 50.0)


def test_health_tie_serves_and_majority_decides() -> None:
    up, down = HealthReport("dns-1", True, 1000.0), HealthReport("dns-2", False, 1000.0)
    assert merge_health([up, down], 1000.0, 10.0) is True
    assert merge_health([up, down, HealthReport("dns-3", False, 1000.0)], 1000.0, 10.0) is False
    assert merge_health([HealthReport("dns-1", False, 900.0)], 1000.0, 10.0) is None  # stale only


def test_health_report_round_trips_and_rejects_malformed() -> None:
    assert decode_health("dns-1", encode_health(True, 12.5)) == HealthReport("dns-1", True, 12.5)
    assert decode_health("dns-1", b'{"healthy":1,"observed_at":2}') is None
    assert decode_health("dns-1", b"nope") is None


def test_reconnect_backoff_doubles_from_a_tenth_to_five_seconds() -> None:
    delays = [0.1]
    for _ in range(8):
        delays.append(next_delay(delays[-1]))
    assert delays[:4] == [0.1, 0.2, 0.4, 0.8] and delays[-1] == 5.0


def test_unreachable_warning_is_let_through_once_a_minute() -> None:
    throttle = WarningThrottle()
    assert [throttle.due(t) for t in (0.0, 1.0, 59.9, 60.0, 61.0)] == [True, False, False, True, False]


def test_logged_url_carries_no_password() -> None:
    assert redacted("redis://user:hunter2@10.0.0.5:6380/0") == "redis://10.0.0.5:6380/0"
