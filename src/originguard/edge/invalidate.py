"""Client side of `POST /invalidations` (used by `originguard invalidate`)."""

from __future__ import annotations

import http.client
import json

from originguard.config.values import parse_host_port
from originguard.errors import UpstreamError


def send_invalidation(address: str, token: str, paths: list[str], timeout: float = 10.0) -> str:
    """Ask one edge's admin API to drop `paths`; returns its answer as one line."""
    target = parse_host_port(address)
    connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    try:
        connection.request(
            "POST",
            "/invalidations",
            body=json.dumps({"paths": paths}),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        body = response.read().decode("utf-8", "replace")
    except OSError as exc:
        raise UpstreamError("connect", f"cannot reach the admin API: {exc}") from None
    finally:
        connection.close()
    if response.status != 201:
        raise UpstreamError("protocol", f"admin API answered {response.status}: {body.strip()[:200]}")
    return " ".join(body.split())
