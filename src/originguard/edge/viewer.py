"""Viewer protocol policy (pure): allow, redirect to HTTPS (301), or refuse plain HTTP (403)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class ViewerDecision:
    kind: Literal["allow", "redirect", "forbidden"]
    location: bytes = b""
    reason: str = ""


def viewer_decision(
    policy: str, *, scheme: str, host: bytes, https_port: int | None, target: bytes
) -> ViewerDecision:
    """What the viewer protocol policy says about a request that arrived over `scheme`."""
    if scheme == "https" or policy == "allow-all":
        return ViewerDecision("allow")
    if policy == "https-only":
        return ViewerDecision("forbidden", reason="https-only: plain HTTP refused")
    if https_port is None:
        return ViewerDecision("forbidden", reason="redirect-to-https but the edge has no HTTPS listener")
    hostname = host.rsplit(b":", 1)[0] if host.count(b":") == 1 else host
    port = b"" if https_port == 443 else b":%d" % https_port
    return ViewerDecision(
        "redirect", location=b"https://" + hostname + port + target, reason="redirect-to-https"
    )
