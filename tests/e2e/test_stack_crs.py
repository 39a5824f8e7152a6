"""End to end: `originguard up`'s default web ACL runs the OWASP CRS at paranoia level 1 in block mode."""

from __future__ import annotations

import json
import ssl

import pytest

from tests.e2e.conftest import Stack
from tests.support import BROWSER, EDGE, request


def get(stack: Stack, target: str, extra: str = "") -> int:
    context = ssl.create_default_context(cafile=str(stack.state / "certs" / "ca.crt"))
    raw = f"GET {target} HTTP/1.1\r\n{BROWSER}{extra}\r\n".encode()
    return request(8443, raw, tls=context, server_name=EDGE).status


def test_a_browser_request_gets_200(stack: Stack) -> None:
    assert get(stack, "/hello?lang=en&page=2") == 200


@pytest.mark.parametrize(
    "target",
    [
        "/search?q=1%27%20OR%20%271%27%3D%271",  # SQL injection
        "/search?q=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E",  # cross-site scripting
        "/download?file=../../../../etc/passwd",  # path traversal
    ],
)
def test_sqli_xss_and_path_traversal_get_403(stack: Stack, target: str) -> None:
    assert get(stack, target) == 403


def test_check_reports_the_crs_group(stack: Stack) -> None:
    result = stack.originguard("check", "--json")
    findings = json.loads(result.stdout)
    text = json.dumps(findings)
    assert "owasp-crs" in text and "paranoia level 1" in text and "block" in text
