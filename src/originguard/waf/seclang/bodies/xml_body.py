"""Placeholder until the processor lands (same branch, next commit)."""

from __future__ import annotations

from originguard.waf.seclang.bodies import BodyLimits, BodyResult  # noqa: F401


def parse_xml(body: bytes) -> BodyResult:
    """Not built yet."""
    raise NotImplementedError("xml_body")
