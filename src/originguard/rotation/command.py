"""`originguard secret rotate`: drive the rotation plan against a running stack (the I/O shell)."""

from __future__ import annotations

import asyncio
import os
import signal
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from originguard.config import LoadedConfig
from originguard.config.values import SecretRef
from originguard.errors import OriginguardError, SecretError, UpstreamError
from originguard.http import oneshot
from originguard.rotation.plan import Phase, plan
from originguard.secrets import generate_secret_value, write_secret_file
from originguard.supervision.supervisor import read_pids


class RotationError(OriginguardError):
    """A rotation phase did not take hold; the file is left in a state that admits both values."""


@dataclass(frozen=True)
class RotationTarget:
    secret_name: str
    secret_file: Path
    header: str
    gate_port: int
    gate_host: str
    server_name: str
    ca_bundle: Path | None


def find_target(loaded: LoadedConfig) -> RotationTarget:
    """The origin secret, its file and header, and the origin address (the gate) that checks it."""
    config = loaded.config
    if config.distribution is None:
        raise SecretError("rotation needs a config with a distribution: section")
    origin = config.distribution.origins[0]
    refs = [(h, v) for h, v in origin.custom_headers.items() if isinstance(v, SecretRef)]
    if not refs:
        raise SecretError("the first origin sends no {secret: NAME} custom header to rotate")
    header, ref = refs[0]
    source = config.secrets[ref.secret]
    if source.file is None:
        raise SecretError(f"secret {ref.secret!r} comes from the environment; rotate it where it is set")
    return RotationTarget(
        ref.secret,
        loaded.resolve_path(source.file),
        header,
        origin.address.port,
        origin.address.host,
        origin.server_name or origin.address.host,
        loaded.resolve_path(origin.ca_bundle) if origin.ca_bundle else None,
    )


def rotate(
    loaded: LoadedConfig, run_dir: Path, *, drain: float, timeout: float, say: Callable[[str], None]
) -> None:
    """Run every phase: write the file, reload who must, wait for the proof."""
    target = find_target(loaded)
    old = loaded.secrets[target.secret_name].current.reveal().decode()
    new = generate_secret_value()
    pids = read_pids(run_dir)
    redis = loaded.config.cluster.redis if loaded.config.cluster is not None else None
    if not pids and redis is None:
        raise RotationError(
            f"no running components found under {run_dir} (start the stack with originguard up)"
        )
    for version, step in enumerate(plan(old, new), start=int(time.time() * 1000)):
        write_secret_file(target.secret_file, list(step.lines))
        for name, pid in pids.items():
            role = "gate" if name == "gate" else "edge" if name not in ("dns", "demo-app") else None
            if role in step.reload:
                os.kill(pid, signal.SIGHUP)
        if redis is not None:
            # Every edge and gate watching the cluster re-reads its file, wherever it runs.
            _publish_phase(redis, step.state.value, version)
        _prove(step, target, old, new, drain, timeout)
        say(f"{step.state.value}: file holds {len(step.lines)} value(s); {', '.join(step.reload)} reloaded")


def _publish_phase(url: str, state: str, version: int) -> None:
    import asyncio

    from originguard.cluster import RedisLink
    from originguard.rotation.channel import RotationChannel

    async def publish() -> bool:
        link = RedisLink(url)
        await link.start()
        try:
            return await RotationChannel(link).publish(state, version)
        finally:
            await link.aclose()

    if not asyncio.run(publish()):
        raise RotationError(f"could not publish rotation phase {state} to Redis")


def _prove(step: Phase, target: RotationTarget, old: str, new: str, drain: float, timeout: float) -> None:
    if step.proof == "drain":
        time.sleep(drain)  # in-flight requests signed with the old value finish meanwhile
        return
    if step.proof == "none":
        return
    value, want_admitted = (new, True) if step.proof == "gate-admits-new" else (old, False)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (_gate_status(target, value) != 403) == want_admitted:
            return
        time.sleep(0.1)
    raise RotationError(f"phase {step.state.value} did not take hold within {timeout:g}s")


def _gate_status(target: RotationTarget, value: str) -> int:
    """The gate's status for a request carrying `value` as the origin header (0: no answer)."""
    context = ssl.create_default_context(cafile=str(target.ca_bundle) if target.ca_bundle else None)
    try:
        answer = asyncio.run(
            oneshot.request(
                target.gate_host,
                target.gate_port,
                b"GET",
                b"/healthz",
                headers=[(target.header.encode(), value.encode())],
                tls=context,
                server_name=target.server_name,
                host_header=target.server_name.encode(),
                timeout=5.0,
                read_body=False,
            )
        )
    except UpstreamError:
        return 0
    return answer.status
