"""Client side of `POST /invalidations` (used by `originguard invalidate`)."""

from __future__ import annotations

import asyncio
import json

from originguard.config.values import parse_host_port
from originguard.errors import UpstreamError
from originguard.http import oneshot


def send_invalidation(address: str, token: str, paths: list[str], timeout: float = 10.0) -> str:
    """Ask one edge's admin API to drop `paths`; returns its answer as one line."""
    target = parse_host_port(address)
    headers = [(b"Authorization", b"Bearer " + token.encode()), (b"Content-Type", b"application/json")]
    try:
        answer = asyncio.run(
            oneshot.request(
                target.host,
                target.port,
                b"POST",
                b"/invalidations",
                headers=headers,
                body=json.dumps({"paths": paths}).encode(),
                timeout=timeout,
            )
        )
    except UpstreamError as exc:
        raise UpstreamError(exc.kind, f"cannot reach the admin API: {exc.detail}") from None
    body = answer.body.decode("utf-8", "replace")
    if answer.status != 201:
        raise UpstreamError("protocol", f"admin API answered {answer.status}: {body.strip()[:200]}")
    return " ".join(body.split())
