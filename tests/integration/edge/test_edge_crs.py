"""A real edge on 127.0.0.1 over TLS running the OWASP CRS: attacks refused, browsers served, leaks held."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from originguard.certs import CertFiles
from tests.integration.edge.conftest import Chain, build_chain, stop_chain
from tests.origin_app import Script
from tests.support import BROWSER, EDGE, LoopThread, Response, request


def crs_waf(action: str) -> str:
    return f"""waf:
  web_acls:
    main:
      default_action: allow
      rules:
        - {{name: owasp-crs, priority: 5, action: {action},
           statement: {{managed: {{name: owasp-crs, paranoia_level: 1}}}}}}
"""


@pytest.fixture(scope="module")
def crs_chain(
    tmp_path_factory: pytest.TempPathFactory, pki: dict[str, CertFiles], loop_thread: LoopThread
) -> Iterator[Chain]:
    built = build_chain(tmp_path_factory.mktemp("crs"), pki, loop_thread, waf_yaml=crs_waf("block"))
    yield built
    stop_chain(built, loop_thread)


def send(chain: Chain, method: str, target: str, headers: str = "", body: bytes = b"") -> Response:
    length = f"Content-Length: {len(body)}\r\n" if body or method == "POST" else ""
    raw = f"{method} {target} HTTP/1.1\r\n{BROWSER}{headers}{length}\r\n".encode() + body
    return request(chain.https, raw, tls=chain.viewer_tls, server_name=EDGE)


def log_records(chain: Chain, kind: str) -> list[dict[str, Any]]:
    chain.edge.runtime.access_log.flush()
    lines = chain.edge_log.read_text().splitlines() if chain.edge_log.exists() else []
    return [json.loads(line)[kind] for line in lines if f'"{kind}"' in line]


def test_a_normal_browser_request_is_served(crs_chain: Chain) -> None:
    answer = send(crs_chain, "GET", "/products?id=42&sort=price&page=2")
    assert answer.status == 200 and answer.body == b"hello from the origin\n"


@pytest.mark.parametrize(
    ("target", "headers"),
    [
        ("/search?q=1%27%20OR%20%271%27%3D%271", ""),
        ("/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", ""),
        ("/download?file=../../../../etc/passwd", ""),
        ("/", "Cookie: session=1' UNION SELECT password FROM users--\r\n"),
        ("/", "Referer: javascript:alert(1)//<svg/onload=alert(1)>\r\n"),
    ],
)
def test_attacks_in_query_cookie_and_header_get_403_and_never_reach_the_origin(
    crs_chain: Chain, target: str, headers: str
) -> None:
    before = sum(crs_chain.origin.hits.values())
    answer = send(crs_chain, "GET", target, headers)
    assert answer.status == 403
    assert sum(crs_chain.origin.hits.values()) == before


def test_attacks_in_json_and_multipart_bodies_get_403(crs_chain: Chain) -> None:
    json_body = b'{"user": {"name": "x\' OR 1=1 --", "bio": "<script>alert(1)</script>"}}'
    answer = send(crs_chain, "POST", "/api/users", "Content-Type: application/json\r\n", json_body)
    assert answer.status == 403
    multipart = (
        b'--b0undary\r\nContent-Disposition: form-data; name="comment"\r\n\r\n'
        b"<script>alert(document.domain)</script>\r\n--b0undary--\r\n"
    )
    headers = "Content-Type: multipart/form-data; boundary=b0undary\r\n"
    assert send(crs_chain, "POST", "/api/upload", headers, multipart).status == 403


def test_the_block_log_names_rule_ids_variables_and_score(crs_chain: Chain) -> None:
    send(crs_chain, "GET", "/search?q=1%27%20OR%20%271%27%3D%271")
    record = log_records(crs_chain, "waf_block")[-1]
    assert record["rule"] == "owasp-crs"
    assert record["crs"]["rules"] and record["crs"]["inbound_score"] >= 5
    assert record["crs"]["variables"] and "matched_data" not in record["crs"]
    assert crs_chain.secret not in json.dumps(record)


def test_a_leaking_response_is_blocked_at_fill_and_never_cached(crs_chain: Chain) -> None:
    crs_chain.origin.scripts[b"/report"] = Script(
        headers=[(b"Cache-Control", b"max-age=600"), (b"Content-Type", b"text/html")],
        body=b"<html>Warning: mysql_fetch_array() expects parameter 1 to be resource, boolean given in "
        b"/var/www/html/index.php on line 12</html>",
    )
    for round_trip in (1, 2):
        answer = send(crs_chain, "GET", "/report")
        assert answer.status == 403 and b"mysql_fetch_array" not in answer.raw
        assert crs_chain.origin.hits[b"/report"] == round_trip, "nothing was stored: each viewer refetches"
    record = log_records(crs_chain, "waf_block")[-1]
    assert record["crs"]["phase"] == "response" and record["crs"]["outbound_score"] >= 4


def test_a_clean_response_is_vetted_once_then_served_from_cache(crs_chain: Chain) -> None:
    crs_chain.origin.scripts[b"/page"] = Script(
        headers=[(b"Cache-Control", b"max-age=600"), (b"Content-Type", b"text/html")],
        body=b"<html><body>A page</body></html>",
    )
    assert send(crs_chain, "GET", "/page").status == 200
    hit = send(crs_chain, "GET", "/page")
    assert hit.status == 200 and hit.header("x-cache") == "Hit from originguard"
    assert crs_chain.origin.hits[b"/page"] == 1


def test_count_mode_passes_the_attack_and_logs_it(
    tmp_path: Path, pki: dict[str, CertFiles], loop_thread: LoopThread
) -> None:
    chain = build_chain(tmp_path, pki, loop_thread, waf_yaml=crs_waf("count"))
    try:
        answer = send(chain, "GET", "/search?q=1%27%20OR%20%271%27%3D%271")
        assert answer.status == 200 and chain.origin.hits[b"/search"] == 1
        (record,) = log_records(chain, "waf_count")
        assert record["counted"] == ["owasp-crs"]
        assert record["crs"]["owasp-crs"]["inbound_score"] >= 5
    finally:
        stop_chain(chain, loop_thread)
