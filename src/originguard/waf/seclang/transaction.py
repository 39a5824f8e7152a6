"""The plain data the SecLang engine takes and gives: a request, a response, a verdict.

Everything is bytes, as ModSecurity works on bytes: headers keep their original case, order and
duplicates, and the request-target is exactly as sent.
"""

from __future__ import annotations

from typing import NamedTuple


class HttpRequest(NamedTuple):
    """One HTTP request as received, undecoded."""

    method: bytes  # b"GET"
    target: bytes  # request-target exactly as sent (path[?query]), undecoded
    protocol: bytes  # b"HTTP/1.1"
    headers: tuple[tuple[bytes, bytes], ...]  # as received: original case, order, duplicates kept
    body: bytes = b""
    client_ip: str = "127.0.0.1"
    client_port: int = 0
    server_ip: str = "127.0.0.1"
    server_port: int = 80


class HttpResponse(NamedTuple):
    """One origin response, as the rules of phases 3 and 4 see it."""

    status: int
    protocol: bytes
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes = b""


class MatchedRule(NamedTuple):
    """A rule that matched, as ModSecurity's error log would name it."""

    rule_id: int
    phase: int
    msg: str  # expanded
    logdata: str  # expanded, truncated
    variable: str  # e.g. "ARGS:id"
    matched_data: bytes  # truncated
    severity: str | None
    tags: tuple[str, ...]
    logged: bool  # False for nolog rules (the regression verdict reads logged ids)


class Verdict(NamedTuple):
    """What a transaction decided so far, with the rules that say why."""

    interrupted: bool  # a disruptive action fired with SecRuleEngine On
    status: int | None  # e.g. 403
    rule_id: int | None  # the rule that interrupted
    matched: tuple[MatchedRule, ...]
    inbound_score: int  # tx.blocking_inbound_anomaly_score (or inbound_anomaly_score), 0 if absent
    outbound_score: int
