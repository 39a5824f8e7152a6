"""Request collapsing: one origin fetch per key while it is in flight."""

from __future__ import annotations

import asyncio

import pytest

from originguard.cache import InFlight
from originguard.cache.collapse import Collapser


def test_inflight_first_caller_leads_the_rest_wait() -> None:
    table: InFlight[str] = InFlight()
    assert table.join(b"k", "viewer-1")
    assert not table.join(b"k", "viewer-2")
    assert not table.join(b"k", "viewer-3")
    assert table.join(b"other", "viewer-4")
    assert table.finish(b"k") == ["viewer-2", "viewer-3"]
    assert b"k" not in table and len(table) == 1
    assert table.join(b"k", "viewer-5")  # a new miss after finishing leads again


def test_collapser_makes_one_fetch_for_concurrent_misses() -> None:
    calls = 0

    async def fetch() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return "response"

    async def main() -> list[tuple[str, bool]]:
        collapser: Collapser[str] = Collapser()
        results = await asyncio.gather(*(collapser.run(b"k", fetch) for _ in range(5)))
        assert len(collapser) == 0
        return list(results)

    results = asyncio.run(main())
    assert calls == 1
    assert [leader for _, leader in results].count(True) == 1
    assert {value for value, _ in results} == {"response"}


def test_collapser_shares_failures_and_survives_a_cancelled_leader() -> None:
    async def failing() -> str:
        await asyncio.sleep(0.01)
        raise ValueError("origin down")

    async def slow() -> str:
        await asyncio.sleep(0.02)
        return "late"

    async def main() -> None:
        collapser: Collapser[str] = Collapser()
        results = await asyncio.gather(
            *(collapser.run(b"k", failing) for _ in range(3)), return_exceptions=True
        )
        assert all(isinstance(r, ValueError) for r in results)
        leader = asyncio.ensure_future(collapser.run(b"s", slow))
        await asyncio.sleep(0)
        follower = asyncio.ensure_future(collapser.run(b"s", slow))
        await asyncio.sleep(0)
        leader.cancel()  # the viewer that led hung up; the fetch goes on for the others
        assert await follower == ("late", False)
        with pytest.raises(asyncio.CancelledError):
            await leader

    asyncio.run(main())
