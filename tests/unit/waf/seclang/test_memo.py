"""The shared memos stay within their byte budget and drop their oldest entries first."""

from __future__ import annotations

from originguard.waf.seclang.memo import Memo, shared_keys


def test_the_oldest_entries_go_once_the_budget_is_spent() -> None:
    memo: Memo[bytes, int] = Memo(budget=1000)
    for i in range(100):
        memo.put(b"%03d" % i, i, 40)  # 200 bytes each with the entry's own 160
    assert memo.size <= 1000
    assert len(memo) == 5
    assert memo.get(b"099") == 99 and memo.get(b"095") == 95
    assert memo.get(b"094") is None and memo.get(b"000") is None


def test_a_key_put_again_is_counted_once() -> None:
    memo: Memo[str, int] = Memo(budget=600)
    memo.put("a", 1, 40)  # 200 bytes each with the entry's own 160
    memo.put("b", 2, 40)
    memo.put("a", 1, 40)
    memo.put("c", 3, 40)
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == (1, 2, 3)
    memo.put("d", 4, 40)  # over budget: "a", the oldest, goes
    assert memo.get("a") is None and memo.size == 600


def test_an_entry_larger_than_the_budget_is_not_kept() -> None:
    memo: Memo[str, int] = Memo(budget=100)
    memo.put("big", 1, 500)
    assert memo.get("big") is None and memo.size == 0


def test_equal_key_sets_share_one_object() -> None:
    first = shared_keys(frozenset({1, 2}))
    assert shared_keys(frozenset({2, 1})) is first
