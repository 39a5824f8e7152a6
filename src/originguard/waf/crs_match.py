"""An `owasp-crs` rule of a web ACL: the CRS verdict of a request (or an origin response) as a `Match`.

The request the edge saw becomes the engine's `HttpRequest` byte for byte (method, target as sent,
protocol, headers in order and case, the inspected body prefix, the client address). In `block` mode
(`SecRuleEngine On`) the rule matches when CRS interrupts; in `count` mode (`DetectionOnly`) when it
would have: an anomaly score at its threshold, or a refusing rule such as REQBODY_ERROR's 200002.

Cache hits run the WAF too, and CRS costs far more than a hit. CRS 4's verdict is a function of
the request alone (its persistent collections and sampling are off unless a setup file turns them
on, which `crs_setup` detects), so identical requests share a verdict from a bounded memo keyed by a
BLAKE2b digest of every byte the rules can read; the oldest entry goes first when it is full.
"""

from __future__ import annotations

import hashlib
import struct
from typing import Any, Final, NamedTuple

from originguard.config.crs import CrsGroup
from originguard.waf.crs_load import LoadedCrs
from originguard.waf.crs_setup import BODY_ERROR_ID, Mode
from originguard.waf.request import Match, WafRequest
from originguard.waf.seclang import HttpRequest, HttpResponse
from originguard.waf.seclang import Verdict as CrsVerdict

MATCHED_DATA_LIMIT: Final = 64  # characters of matched data a block log shows (when switched on)
_REFUSING: Final = frozenset({BODY_ERROR_ID})  # rules that deny alone, not through the score


class CrsFinding(NamedTuple):
    """What CRS found: the rules that logged a match, where, the scores, the deciding rule."""

    phase: str  # "request" or "response"
    rule_ids: tuple[int, ...]
    variables: tuple[str, ...]
    inbound_score: int
    outbound_score: int
    deciding_rule: int | None
    matched_data: tuple[str, ...]  # empty unless log_matched_data (truncated)
    messages: tuple[str, ...]

    def record(self) -> dict[str, Any]:
        """JSON-ready, for block and count logs."""
        record: dict[str, Any] = {
            "phase": self.phase,
            "rules": list(self.rule_ids),
            "variables": list(self.variables),
            "inbound_score": self.inbound_score,
            "outbound_score": self.outbound_score,
            "deciding_rule": self.deciding_rule,
            "messages": list(self.messages),
        }
        if self.matched_data:
            record["matched_data"] = list(self.matched_data)
        return record


class CrsRule:
    """One compiled `owasp-crs` group: request and response checks, and the verdict memo."""

    def __init__(self, name: str, group: CrsGroup, mode: Mode, loaded: LoadedCrs, stateless: bool) -> None:
        self.name = name
        self.group = group
        self.mode = mode
        self.loaded = loaded
        self.ruleset = loaded.ruleset
        self.memo_size = group.verdict_memo if stateless else 0
        self.memo: dict[bytes, Match | None] = {}
        self.label_prefix = f"{group.name}:"

    def match_request(self, request: WafRequest, labels: set[str]) -> Match | None:
        """The CRS verdict of phases 1-2 as a Match (None: CRS let it through); labels get rule ids."""
        http = http_request(request)
        key = memo_key(http) if self.memo_size else b""
        if key:
            found = self.memo.get(key, _MISSING)
            if found is not _MISSING:
                return self._matched(found, request, labels)
        verdict: CrsVerdict = self.ruleset.evaluate_request(http)
        found = self._judge(verdict, "request")
        if key:
            if len(self.memo) >= self.memo_size:
                del self.memo[next(iter(self.memo))]  # oldest first (dicts keep insertion order)
            self.memo[key] = found
        return self._matched(found, request, labels)

    def match_response(self, request: WafRequest, response: HttpResponse) -> Match | None:
        """The CRS verdict of a whole transaction with `response` (phases 1-4): RESPONSE-95x rules."""
        limit = self.group.response_inspection.max_body
        if len(response.body) > limit:
            response = response._replace(body=response.body[:limit])
        tx = self.ruleset.transaction(http_request(request))
        # Phases in order; the request phases set what the response rules read (paranoia level, ...).
        if (
            tx.request_headers() is None
            and tx.request_body() is None
            and tx.response_headers(response) is None
        ):
            tx.response_body()
        found = self._judge(tx.verdict(), "response")
        if found is not None:
            request.crs_findings = [*(request.crs_findings or ()), (self.name, found.crs)]
        return found

    def _matched(self, found: Match | None, request: WafRequest, labels: set[str]) -> Match | None:
        if found is None:
            return None
        finding: CrsFinding = found.crs
        labels.update(f"{self.label_prefix}{rule_id}" for rule_id in finding.rule_ids)
        request.crs_findings = [*(request.crs_findings or ()), (self.name, finding)]
        return found

    def _judge(self, verdict: CrsVerdict, phase: str) -> Match | None:
        """A Match when CRS interrupted (block) or would have (count), else None."""
        logged = [rule for rule in verdict.matched if rule.logged]
        group = self.group
        if phase == "response":
            # The request phases ran again only to set what the response rules read: what they
            # found was judged when the request came (a count-mode attack is not counted twice).
            logged = [rule for rule in logged if rule.phase >= 3]
            hit = (
                verdict.interrupted
                if self.mode == "block"
                else bool(logged) and (verdict.outbound_score >= group.outbound_anomaly_threshold)
            )
        elif self.mode == "block":
            hit = verdict.interrupted
        else:
            hit = (
                verdict.interrupted
                or verdict.rule_id is not None
                or verdict.inbound_score >= group.anomaly_threshold
                or any(rule.rule_id in _REFUSING for rule in logged)
            )
        if not hit:
            return None
        # The attack rules first: the evaluation rules (949110, 980170...) only restate the score.
        shown = [rule for rule in logged if not _is_evaluation(rule.rule_id)] or logged
        data: tuple[str, ...] = ()
        if self.group.log_matched_data:
            data = tuple(
                rule.matched_data.decode("latin-1")[:MATCHED_DATA_LIMIT]
                for rule in shown
                if rule.matched_data
            )
        finding = CrsFinding(
            phase=phase,
            rule_ids=tuple(rule.rule_id for rule in logged),
            variables=tuple(dict.fromkeys(rule.variable for rule in shown if rule.variable)),
            inbound_score=verdict.inbound_score,
            outbound_score=verdict.outbound_score,
            deciding_rule=verdict.rule_id,
            matched_data=data,
            messages=tuple(dict.fromkeys(rule.msg for rule in shown if rule.msg))[:8],
        )
        first = shown[0] if shown else None
        field = first.variable if first is not None and first.variable else self.name
        value = data[0] if data else ""
        ids = ",".join(str(rule_id) for rule_id in finding.rule_ids) or str(verdict.rule_id)
        score = verdict.outbound_score if phase == "response" else verdict.inbound_score
        detail = f"owasp-crs {phase} rules {ids}, anomaly score {score}"
        return Match(field, value, detail, finding)


_MISSING: Final[Any] = object()
_EVALUATION: Final = range(949000, 949999), range(959000, 959999), range(980000, 980999)


def _is_evaluation(rule_id: int) -> bool:
    return any(rule_id in ids for ids in _EVALUATION)


def http_request(request: WafRequest) -> HttpRequest:
    """The engine's view of a request the edge received: every byte as sent."""
    return HttpRequest(
        method=request.method.encode("latin-1"),
        target=request.raw_target(),
        protocol=request.protocol or b"HTTP/1.1",
        headers=request.raw_headers(),
        body=request.body,
        client_ip=request.client_ip,
    )


def memo_key(request: HttpRequest) -> bytes:
    """A digest of everything a rule can read; the lengths go first, so no two requests share one."""
    parts = [request.method, request.target, request.protocol, request.client_ip.encode(), request.body]
    for name, value in request.headers:
        parts.append(name)
        parts.append(value)
    digest = hashlib.blake2b(struct.pack(f"<{len(parts)}I", *[len(part) for part in parts]), digest_size=16)
    digest.update(b"".join(parts))
    return digest.digest()
