"""A SecLang engine for the OWASP Core Rule Set, with ModSecurity v3 semantics.

    ruleset = load_ruleset(paths, before=setup_text, data_dirs=(rules_dir,))
    verdict = ruleset.evaluate_request(request)          # phases 1 + 2 (+ 5)

or phase by phase, like a ModSecurity transaction:

    tx = ruleset.transaction(request)
    tx.request_headers(); tx.request_body(); tx.response_headers(response); tx.response_body()
    tx.logging(); tx.verdict()

Sans-IO: no sockets, no clock reads, no logging.
"""

from __future__ import annotations

from originguard.waf.seclang.engine import RuleSet, Transaction, load_ruleset
from originguard.waf.seclang.transaction import HttpRequest, HttpResponse, MatchedRule, Verdict

__all__ = ["HttpRequest", "HttpResponse", "MatchedRule", "RuleSet", "Transaction", "Verdict", "load_ruleset"]
