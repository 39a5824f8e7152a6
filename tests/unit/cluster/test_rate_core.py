"""Pure shared-rate logic: bucket keys, absorbing flush totals, merging local and remote estimates."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import originguard
from originguard.cluster.rate_core import (
    RemoteCount,
    absorb,
    bucket_index,
    bucket_key,
    build_commands,
    expiry,
    merged_estimate,
    remote_estimate,
)
from originguard.devtools.layers import build_graph, runtime_imports
from originguard.waf.rate import RateKey, RateState

KEY: RateKey = ("per-ip-limit", ("203.0.113.7",))


def test_bucket_key_names_rule_key_and_bucket() -> None:
    assert bucket_key(KEY, 42) == "og:rate:per-ip-limit:203.0.113.7:42"


def test_bucket_key_encodes_colons_so_ipv6_keys_cannot_collide() -> None:
    a = bucket_key(("r", ("2001:db8::1",)), 1)
    b = bucket_key(("r:2001", ("db8::1",)), 1)
    assert a != b and a.count(":") == b.count(":") == 4


def test_bucket_key_separates_multi_value_keys_unambiguously() -> None:
    assert bucket_key(("r", ("a", "b")), 1) == "og:rate:r:a,b:1"
    assert bucket_key(("r", ("a,b",)), 1) == "og:rate:r:a%2Cb:1"
    assert bucket_key(("r", ("a", "bc")), 1) != bucket_key(("r", ("ab", "c")), 1)


def test_long_values_are_hashed_to_bounded_keys() -> None:
    key = bucket_key(("r", ("x" * 5000,)), 1)
    assert len(key) < 80 and bucket_key(("r", ("x" * 4999,)), 1) != key


@given(st.floats(0, 2e9), st.sampled_from([1.0, 10.0, 60.0, 300.0]))
def test_bucket_index_agrees_with_rate_state_bucket_start(now: float, window: float) -> None:
    assert bucket_index(now, window) * window == pytest.approx(now - now % window)


def test_expiry_keeps_previous_bucket_through_the_current_one() -> None:
    assert expiry(60.0) == 120 and expiry(0.2) == 1


def test_batch_builds_one_command_per_key_oldest_bucket_first() -> None:
    commands = build_commands({(KEY, 60.0, 11): 2, (KEY, 60.0, 10): 5})
    assert [(c.bucket, c.increment) for c in commands] == [(10, 5), (11, 2)]
    assert commands[1].previous == commands[0].key and commands[0].ttl == 120


def test_absorb_subtracts_own_sends_so_nothing_is_counted_twice() -> None:
    remote: dict[RateKey, RemoteCount] = {}
    absorb(remote, build_commands({(KEY, 60.0, 10): 3}), [(10, 4)])  # 7 others now, 4 before
    entry = remote[KEY]
    assert (entry.own_cur, entry.others_cur, entry.others_prev) == (3, 7, 4)
    absorb(remote, build_commands({(KEY, 60.0, 10): 2}), [(20, 4)])
    assert (entry.own_cur, entry.others_cur) == (5, 15)


def test_absorb_shifts_current_to_previous_on_the_next_bucket() -> None:
    remote: dict[RateKey, RemoteCount] = {}
    absorb(remote, build_commands({(KEY, 60.0, 10): 3}), [(10, 0)])
    absorb(remote, build_commands({(KEY, 60.0, 11): 1}), [(2, 12)])  # others sent 2 more to bucket 10
    entry = remote[KEY]
    assert (entry.index, entry.own_prev, entry.others_prev, entry.own_cur, entry.others_cur) == (
        11,
        3,
        9,
        1,
        1,
    )


def test_absorb_ignores_a_late_answer_about_an_older_bucket() -> None:
    remote: dict[RateKey, RemoteCount] = {KEY: RemoteCount(12, 1, 5, 0, 0)}
    absorb(remote, build_commands({(KEY, 60.0, 10): 1}), [(100, 0)])
    assert remote[KEY].others_cur == 5


def test_absorb_clamps_when_redis_lost_counts() -> None:
    remote: dict[RateKey, RemoteCount] = {KEY: RemoteCount(10, 50, 0, 0, 0)}
    absorb(remote, build_commands({(KEY, 60.0, 10): 1}), [(1, 0)])
    assert remote[KEY].others_cur == 0


def test_remote_estimate_weighs_previous_bucket_like_rate_state() -> None:
    entry = RemoteCount(10, 0, 6, 0, 20)
    assert remote_estimate(entry, 60.0, 10 * 60.0 + 15.0) == pytest.approx(20 * 0.75 + 6)
    assert remote_estimate(entry, 60.0, 11 * 60.0 + 30.0) == pytest.approx(6 * 0.5)  # rolled over
    assert remote_estimate(entry, 60.0, 13 * 60.0) == 0.0  # too old to count


def test_merge_adds_remote_to_local_and_is_local_without_remote() -> None:
    assert merged_estimate(7.0, None, 60.0, 600.0) == 7.0
    assert merged_estimate(7.0, RemoteCount(10, 0, 3, 0, 0), 60.0, 600.0) == 10.0


@given(st.lists(st.tuples(st.booleans(), st.floats(0, 5)), min_size=1, max_size=60))
def test_two_edges_in_full_sync_estimate_what_one_edge_would(hits: list[tuple[bool, float]]) -> None:
    # Each edge flushes after every hit and the "Redis" totals are the sums both sent: the merged
    # estimate of the edge that got the last request equals a single RateState fed every request.
    window, start = 60.0, 6000.0
    local = {True: RateState(), False: RateState()}
    remote: dict[bool, dict[RateKey, RemoteCount]] = {True: {}, False: {}}
    totals: dict[int, int] = {}
    single = RateState()
    now = start
    for on_a, step in sorted(hits, key=lambda h: h[1]):
        now = start + step * 20
        index = bucket_index(now, window)
        expected = single.hit(KEY, window, now)
        estimate = local[on_a].hit(KEY, window, now)
        totals[index] = totals.get(index, 0) + 1
        absorb(
            remote[on_a],
            build_commands({(KEY, window, index): 1}),
            [(totals[index], totals.get(index - 1, 0))],
        )
        merged = merged_estimate(estimate, remote[on_a].get(KEY), window, now)
        assert merged == pytest.approx(expected)


CORE_FORBIDDEN = {"asyncio", "socket", "ssl", "time", "logging", "redis", "selectors"}
# Loaded anyway, through a package __init__ rather than the core's own imports: importing
# cluster.rate_core runs cluster/__init__, which re-exports the asyncio shells (RedisLink, ...).
# Left: dropping those re-exports changes every `from originguard.cluster import ...`.
CORE_KNOWN_EXCEPTIONS = {"cluster/rate_core.py": {"asyncio", "logging", "redis", "time"}}


@pytest.mark.parametrize("module", ["cluster/rate_core.py", "dns/shared_core.py"])
def test_cluster_cores_import_no_io(module: str) -> None:
    tree = ast.parse((Path(originguard.__file__).parent / module).read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not imported & CORE_FORBIDDEN


@pytest.mark.parametrize("module", ["cluster/rate_core.py", "dns/shared_core.py"])
def test_cluster_cores_load_no_io_through_their_imports(module: str) -> None:
    root = Path(originguard.__file__).parent
    name = "originguard." + module.removesuffix(".py").replace("/", ".")
    loaded = {target.split(".")[0] for target in runtime_imports(build_graph(root), name)}
    assert loaded & CORE_FORBIDDEN == CORE_KNOWN_EXCEPTIONS.get(module, set())


@given(st.floats(0, 4), st.integers(0, 50), st.integers(0, 50), st.sampled_from([0, 1, 2]))
def test_shared_hit_adds_exactly_the_remote_estimate(offset: float, cur: int, prev: int, age: int) -> None:
    from originguard.cluster.rate import SharedRateState

    window, now = 60.0, 6000.0 + offset * 15
    entry = RemoteCount(bucket_index(now, window) - age, 0, cur, 0, prev)
    shared, plain = SharedRateState(), RateState()
    shared.sharing = True
    shared.absorb([], [])
    shared._remote[KEY] = entry
    got = shared.hit(KEY, window, now) - plain.hit(KEY, window, now)
    assert got == pytest.approx(remote_estimate(entry, window, now))


def test_batch_keeps_counts_of_both_buckets_when_a_boundary_falls_inside() -> None:
    from originguard.cluster.rate import SharedRateState

    state = SharedRateState()
    state.sharing = True
    for now in (119.0, 119.5, 120.5):
        state.hit(KEY, 60.0, now)
    assert state.take_batch() == {(KEY, 60.0, 1): 2, (KEY, 60.0, 2): 1}
    assert state.take_batch() == {}
