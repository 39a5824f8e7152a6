# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Cache behaviours by path (pure): ordered patterns, first match wins, then the default.

Patterns follow the CDN's rules: case-sensitive, `*` any run, `?` one character, a leading `/`
optional (`images/*` and `/images/*` are the same), matched against the path without the query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from originguard.cache.key import KeyPolicy
from originguard.config.edge import Behavior, DistributionConfig
from originguard.edge.compression import CompressionPolicy
from originguard.proxy.patterns import Matcher, compile_wildcard

ALLOWED_METHODS: Final = {
    "GET_HEAD": frozenset({b"GET", b"HEAD"}),
    "GET_HEAD_OPTIONS": frozenset({b"GET", b"HEAD", b"OPTIONS"}),
    "ALL": frozenset({b"GET", b"HEAD", b"OPTIONS", b"PUT", b"PATCH", b"POST", b"DELETE"}),
}


@dataclass(frozen=True, slots=True)
class CompiledBehavior:
    pattern: str
    config: Behavior
    matches: Matcher
    methods: frozenset[bytes]
    viewer_protocol_policy: str
    key_policy: KeyPolicy
    cacheable: bool
    compression: CompressionPolicy | None  # None: responses go out as the origin encoded them


def compile_behaviors(distribution: DistributionConfig) -> tuple[CompiledBehavior, ...]:
    """Ordered behaviours, the default last (its pattern `*` matches everything)."""
    compiled = []
    settings = distribution.compression
    compression = CompressionPolicy(
        tuple(coding.encode() for coding in settings.codings), settings.min_bytes, settings.max_bytes
    )
    for behavior in [*distribution.behaviors, distribution.default_behavior]:
        pattern = behavior.path if behavior.path.startswith(("/", "*")) else "/" + behavior.path
        compiled.append(
            CompiledBehavior(
                pattern=pattern,
                config=behavior,
                matches=compile_wildcard(pattern, case_sensitive=True),
                methods=ALLOWED_METHODS[behavior.allowed_methods],
                viewer_protocol_policy=behavior.viewer_protocol_policy or distribution.viewer_protocol_policy,
                key_policy=KeyPolicy.from_config(behavior.cache_key),
                cacheable=behavior.cache,
                compression=compression if behavior.compress and behavior.cache else None,
            )
        )
    return tuple(compiled)


def select_behavior(behaviors: tuple[CompiledBehavior, ...], path: bytes) -> CompiledBehavior:
    """The first behaviour whose pattern matches the path (the default always does)."""
    text = path.decode("latin-1")
    for behavior in behaviors[:-1]:
        if behavior.matches(text):
            return behavior
    return behaviors[-1]
