"""The WAF: web ACL rules compiled once into matchers and evaluated per request, sans-IO.

    acl = compile_acl(config.waf.web_acls["main"])
    verdict = evaluate(acl, WafRequest(...), now, rate_state)
    if verdict.blocked: answer verdict.response

Nothing here reads a clock, a socket or a logger; the edge passes `now` and keeps the `RateState`,
`WafStats` and `SampledRequests` objects and exports them.
"""

from __future__ import annotations

from originguard.waf.acl import CompiledAcl, CompiledRule
from originguard.waf.aws_import import import_web_acl
from originguard.waf.compile import compile_acl
from originguard.waf.crs_load import CrsLoadError
from originguard.waf.evaluate import evaluate, evaluate_response
from originguard.waf.geo import GeoTable, load_geo_table
from originguard.waf.rate import RateState
from originguard.waf.request import Match, WafRequest
from originguard.waf.sqli import detect_sqli
from originguard.waf.stats import SampledRequests, WafStats, block_log_record
from originguard.waf.verdict import Action, BlockReply, Verdict
from originguard.waf.xss import detect_xss

__all__ = [
    "Action",
    "BlockReply",
    "CompiledAcl",
    "CompiledRule",
    "CrsLoadError",
    "GeoTable",
    "Match",
    "RateState",
    "SampledRequests",
    "Verdict",
    "WafRequest",
    "WafStats",
    "block_log_record",
    "compile_acl",
    "detect_sqli",
    "detect_xss",
    "evaluate",
    "evaluate_response",
    "import_web_acl",
    "load_geo_table",
]
