"""The rotation phase reaches every watcher, survives outages, and no secret value ever enters Redis."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from originguard.cluster import InvalidationBus, RateSync, RedisLink, SharedRateState
from originguard.dns.shared import SharedHealth
from originguard.rotation import RotationState
from originguard.rotation.channel import RotationChannel
from tests.integration.cluster.conftest import eventually, run
from tests.redis_server import RedisServer


class Watcher:
    """A component that re-reads its secret file when told (here: records what it was told)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []

    async def on_change(self, state: str, version: int) -> None:
        self.seen.append((state, version))


async def watching(url: str) -> tuple[RedisLink, Watcher, asyncio.Task[None]]:
    link = RedisLink(url)
    await link.start()
    watcher = Watcher()
    task = asyncio.create_task(RotationChannel(link).watch(watcher.on_change))
    return link, watcher, task


async def stop(link: RedisLink, task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await link.aclose()


def test_rotation_phase_reaches_two_watchers(redis_server: RedisServer) -> None:
    async def scenario() -> None:
        publisher = RedisLink(redis_server.url)
        await publisher.start()
        channel = RotationChannel(publisher)
        assert await channel.publish(RotationState.STEADY_OLD.value, 1)
        (link_a, a, task_a), (link_b, b, task_b) = [await watching(redis_server.url) for _ in range(2)]
        # A watcher started after the publish still converges: it reads the key when it starts.
        await eventually(lambda: a.seen == b.seen == [("steady-old", 1)], what="both read the key")
        assert await channel.publish(RotationState.ACCEPTING_BOTH.value, 2)
        want = [("steady-old", 1), ("accepting-both", 2)]
        await eventually(lambda: a.seen == b.seen == want, what="both get the message")
        await stop(link_a, task_a)
        await stop(link_b, task_b)
        await publisher.aclose()

    run(scenario())


def test_watcher_that_missed_the_message_converges_after_reconnect(redis_server: RedisServer) -> None:
    async def scenario() -> None:
        link_a, a, task_a = await watching(redis_server.url)
        publisher = RedisLink(redis_server.url)
        await publisher.start()
        channel = RotationChannel(publisher)
        assert await channel.publish("steady-old", 1)
        await eventually(lambda: a.seen == [("steady-old", 1)], what="first phase")

        redis_server.stop()
        await eventually(lambda: not link_a.available, what="watcher notices the outage")
        redis_server.start()
        # Publish the moment the publisher is back, likely before the watcher has resubscribed:
        # the PUBLISH is lost for it, the key is not.
        await publisher.wait_available()
        assert await channel.publish("accepting-both", 2)
        await eventually(lambda: a.seen[-1:] == [("accepting-both", 2)], timeout=8, what="convergence")
        await stop(link_a, task_a)
        await publisher.aclose()

    run(scenario())


def test_no_secret_value_is_ever_written_to_redis(
    redis_server: RedisServer, secret_file: tuple[Path, str]
) -> None:
    _, secret = secret_file

    async def scenario() -> list[bytes]:
        link = RedisLink(redis_server.url)
        await link.start()
        pubsub = link.client.pubsub()
        await pubsub.subscribe("og:rotation")
        # Every cluster feature writes once, as a rotating edge would.
        assert await RotationChannel(link).publish("accepting-both", 7)
        bus = InvalidationBus(link, "edge-sg", lambda paths: len(paths))
        await bus.publish(["/*"])
        state = SharedRateState()
        sync = RateSync(link, state)
        state.sharing = True
        state.hit(("per-ip-limit", ("203.0.113.7",)), 60.0, time.time())
        assert await sync.flush()
        health = SharedHealth(link, "dns-1")
        health.observe("edge-sg", True)
        assert await health.sync_once()

        seen: list[bytes] = []
        message = None
        for _ in range(3):  # the first read returns None for the subscribe confirmation
            message = message or await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
        assert message is not None
        seen.append(message["data"])
        async for key in link.client.scan_iter():
            seen.append(key)
            kind = (await link.client.type(key)).decode()
            if kind == "string":
                seen.append(await link.client.get(key))
            elif kind == "hash":
                seen.extend(b"%s=%s" % kv for kv in (await link.client.hgetall(key)).items())
            elif kind == "stream":
                for _, fields in await link.client.xrange(key):
                    seen.extend(b"%s=%s" % kv for kv in fields.items())
            elif kind == "zset":
                seen.extend(await link.client.zrange(key, 0, -1))
            else:
                raise AssertionError(f"unexpected key type {kind} at {key!r}")
        await pubsub.aclose()
        await link.aclose()
        return seen

    seen = run(scenario())
    assert any(item == b"og:rotation" for item in seen)  # the scan did cover the rotation key
    assert b'{"state":"accepting-both","version":7}' in seen
    for item in seen:
        assert secret.encode() not in item
