"""`stop_task` ends a task even when a library swallowed the first cancellation (redis-py#2551)."""

from __future__ import annotations

import asyncio

from originguard.runtime import stop_task


def test_stop_task_ends_a_loop_that_swallowed_its_first_cancel() -> None:
    swallowed = 0

    async def poll_like_a_timed_read() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                swallowed += 1  # what a read under asyncio.timeout does when both fire at once
                if swallowed > 1:
                    raise

    async def scenario() -> None:
        task = asyncio.get_running_loop().create_task(poll_like_a_timed_read())
        await asyncio.sleep(0)
        await asyncio.wait_for(stop_task(task), 2.0)
        assert task.cancelled()

    asyncio.run(scenario())
    assert swallowed == 2
