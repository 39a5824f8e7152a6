"""Load the hand-written WAF corpus and run it through the OWASP CRS at paranoia level 1, blocking."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from originguard.config.waf import WebAclConfig
from originguard.waf import CompiledAcl, RateState, Verdict, WafRequest, compile_acl, evaluate

CORPUS = Path(__file__).resolve().parents[2] / "data" / "waf"
ATTACK_FILES = ("sqli.txt", "xss.txt", "traversal.txt", "cmdi.txt")


def lines(name: str) -> list[str]:
    """Non-comment, non-empty lines of a corpus file."""
    text = (CORPUS / name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def crs_acl() -> CompiledAcl:
    """An ACL that is just the bundled OWASP CRS at paranoia level 1, blocking (`originguard up`'s)."""
    statement = {"managed": {"name": "owasp-crs", "paranoia_level": 1}}
    config = WebAclConfig.model_validate(
        {"rules": [{"name": "owasp-crs", "priority": 0, "action": "block", "statement": statement}]}
    )
    return compile_acl(config)


def as_query(acl: CompiledAcl, value: str) -> Verdict:
    """Evaluate `value` sent as the query argument `q` of a browser-like GET."""
    headers = (("host", "shop.example"), ("user-agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0"))
    request = WafRequest("GET", "/search", "q=" + quote(value, safe=""), headers, "192.0.2.10")
    return evaluate(acl, request, 0.0, RateState())


def as_json(acl: CompiledAcl, body: str) -> Verdict:
    """Evaluate `body` POSTed as application/json."""
    data = body.encode()
    headers = (
        ("host", "api.example"),
        ("user-agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0"),
        ("content-type", "application/json"),
        ("content-length", str(len(data))),
    )
    request = WafRequest("POST", "/api/items", "", headers, "192.0.2.10", data)
    return evaluate(acl, request, 0.0, RateState())
