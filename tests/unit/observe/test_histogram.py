"""The latency histogram puts each observation in the bucket Prometheus expects (le = upper bound)."""

from __future__ import annotations

import bisect

from hypothesis import given
from hypothesis import strategies as st

from originguard.observe.metrics import LATENCY_BUCKETS, Histogram


@given(st.lists(st.floats(min_value=0.0, max_value=100.0), max_size=50))
def test_each_observation_counts_in_the_first_bucket_whose_bound_it_does_not_exceed(
    values: list[float],
) -> None:
    histogram = Histogram("latency", "test")
    for value in [*values, *LATENCY_BUCKETS]:  # the bounds themselves belong to their own bucket
        histogram.observe(value)
    expected = [0] * (len(LATENCY_BUCKETS) + 1)
    for value in [*values, *LATENCY_BUCKETS]:
        expected[bisect.bisect_left(LATENCY_BUCKETS, value)] += 1
    assert histogram.counts == expected
    assert histogram.total == sum([*values, *LATENCY_BUCKETS])
