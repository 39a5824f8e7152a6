"""Compile a rate_based statement: count requests per aggregation key, match while over the limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from originguard.config.waf import HeaderField, RateBased, RateKey
from originguard.waf.fields import RequestView
from originguard.waf.request import Match

if TYPE_CHECKING:
    from originguard.waf.statements import Matcher, StatementCompiler

KeyPart = Callable[[RequestView], str | None]


def compile_rate_based(spec: RateBased, rule_id: str, compiler: StatementCompiler) -> Matcher:
    """A matcher that counts every request in scope and matches while its key is over `spec.limit`."""
    scope = compiler.compile(spec.scope_down, rule_id) if spec.scope_down is not None else None
    parts = tuple(_key_part(key, spec, compiler) for key in spec.keys)
    limit, window = float(spec.limit), spec.window
    label = "rate:" + "+".join(k.header if isinstance(k, HeaderField) else k for k in spec.keys)
    if scope is None and spec.keys == ["ip"]:
        # The common rule, on every request: one counter per client address (2 µs -> 0.7 µs measured).
        def match_ip(view: RequestView) -> Match | None:
            address = view.request.client_ip
            estimate = view.rate.hit((rule_id, (address,)), window, view.now)
            if estimate > limit:
                return Match(label, address, f"rate {estimate:.0f}>{spec.limit}/{window:g}s")
            return None

        return match_ip

    def match(view: RequestView) -> Match | None:
        if scope is not None and scope(view) is None:
            return None
        values: list[str] = []
        for part in parts:
            value = part(view)
            if value is None:
                return None  # a request without the key (no such header) is not counted, as in the cloud WAF
            values.append(value)
        key = tuple(values)
        estimate = view.rate.hit((rule_id, key), window, view.now)
        if estimate > limit:
            return Match(label, " ".join(key), f"rate {estimate:.0f}>{spec.limit}/{window:g}s")
        return None

    return match


def _key_part(key: RateKey, spec: RateBased, compiler: StatementCompiler) -> KeyPart:
    if isinstance(key, HeaderField):
        name = key.header
        return lambda view: next(iter(view.request.header_values(name)), None)
    if key == "ip":
        return lambda view: view.request.client_ip
    if key == "forwarded_ip":
        from originguard.config.waf import ForwardedIp

        slot = compiler.client_slot(spec.forwarded_ip or ForwardedIp())

        def forwarded(view: RequestView) -> str | None:
            found = view.get(slot)
            return f"{found[0][0]}:{found[0][1]}" if found else None

        return forwarded
    if key == "path":
        return lambda view: view.request.path
    if key == "method":
        return lambda view: view.request.method
    return lambda view: ""  # constant: one counter for every request in scope
