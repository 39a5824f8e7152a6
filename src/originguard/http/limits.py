"""What viewers may send an HTTP server: sizes and timeouts, with their defaults.

The defaults live here, in the HTTP layer that enforces them, and the configuration
(`config.gate.HttpLimits`, used by the gate and the edge) takes its defaults from them: the HTTP
engine does not depend on either product's config.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class LimitsLike(Protocol):
    """The configured limits (`config.gate.HttpLimits`), as far as the server reads them."""

    @property
    def max_header_bytes(self) -> int: ...
    @property
    def max_header_count(self) -> int: ...
    @property
    def max_uri_bytes(self) -> int: ...
    @property
    def max_body_bytes(self) -> int: ...
    @property
    def header_timeout(self) -> float: ...
    @property
    def keepalive_timeout(self) -> float: ...
    @property
    def body_timeout(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Limits:
    max_header_bytes: int = 16 * 1024
    max_header_count: int = 100
    max_uri_bytes: int = 8 * 1024
    max_body_bytes: int = 10 * 1024 * 1024
    header_timeout: float = 10.0
    keepalive_timeout: float = 60.0
    body_timeout: float = 30.0

    @classmethod
    def from_config(cls, limits: LimitsLike) -> Limits:
        return cls(
            max_header_bytes=limits.max_header_bytes,
            max_header_count=limits.max_header_count,
            max_uri_bytes=limits.max_uri_bytes,
            max_body_bytes=limits.max_body_bytes,
            header_timeout=limits.header_timeout,
            keepalive_timeout=limits.keepalive_timeout,
            body_timeout=limits.body_timeout,
        )


DEFAULT_LIMITS = Limits()
