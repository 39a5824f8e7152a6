"""Placeholder until the processor lands (same branch, next commit)."""

from __future__ import annotations

from originguard.waf.seclang.bodies import BodyLimits, BodyResult


def parse_multipart(content_type: bytes, body: bytes, limits: BodyLimits) -> BodyResult:
    """Not built yet."""
    raise NotImplementedError("multipart")
