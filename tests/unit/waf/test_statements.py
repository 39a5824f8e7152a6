"""Each statement kind and each field to match, one behaviour per test."""

from __future__ import annotations

import json

import pytest

from originguard.waf import GeoTable, RateState
from originguard.waf.geo import load_geo_table, parse_geo_csv

from .helpers import acl, blocks, request, rules_acl, run


@pytest.mark.parametrize(
    ("position", "value", "hit"),
    [
        ("exactly", "/admin", True),
        ("exactly", "/admin/", False),
        ("starts_with", "/admin/users", True),
        ("starts_with", "/x/admin", False),
        ("ends_with", "/x/admin", True),
        ("contains", "/x/admin/y", True),
        ("contains_word", "/x/admin/y", True),
        ("contains_word", "/x/administrator", False),
        ("contains_word", "/x/my_admin", False),
    ],
)
def test_byte_match_positional_constraints(position: str, value: str, hit: bool) -> None:
    statement = {"byte_match": {"field": "path", "search": "admin", "position": position}}
    if position in ("exactly", "starts_with"):
        statement["byte_match"]["search"] = "/admin"
    assert blocks(statement, request(value)) is hit


def test_byte_match_is_case_sensitive_unless_lowercased() -> None:
    plain = {"byte_match": {"field": "path", "search": "admin"}}
    lowered = {"byte_match": {"field": "path", "search": "admin", "transforms": ["lowercase"]}}
    assert not blocks(plain, request("/ADMIN"))
    assert blocks(lowered, request("/ADMIN"))


def test_transforms_run_before_matching() -> None:
    statement = {"byte_match": {"field": "path", "search": "/etc/passwd", "transforms": ["url_decode"]}}
    assert blocks(statement, request("/%65tc/passwd"))


def test_regex_match_uses_re2_and_rejects_bad_patterns() -> None:
    assert blocks({"regex_match": {"field": "query", "pattern": r"id=\d{5,}"}}, request(query="id=123456"))
    with pytest.raises(ValueError, match="RE2"):
        acl({"regex_match": {"field": "query", "pattern": "(a"}})
    with pytest.raises(ValueError, match="RE2"):
        acl({"regex_match": {"field": "query", "pattern": r"(a)\1"}})  # backreferences are not linear


@pytest.mark.parametrize(
    ("op", "size", "hit"), [("gt", 3, True), ("gt", 4, False), ("le", 4, True), ("eq", 4, True)]
)
def test_size_constraint_counts_bytes(op: str, size: int, hit: bool) -> None:
    assert (
        blocks({"size_constraint": {"field": "query", "op": op, "size": size}}, request(query="abcd")) is hit
    )
    # é is two bytes in UTF-8, as the cloud WAF counts
    assert blocks({"size_constraint": {"field": "path", "op": "eq", "size": 3}}, request("/é"))


def test_fields_single_and_all_query_arguments() -> None:
    req = request(query="a=1&ID=x%27&b=2")
    assert blocks(
        {"byte_match": {"field": {"query_arg": "id"}, "search": "x%27", "position": "exactly"}}, req
    )
    assert blocks({"byte_match": {"field": "all_query_args", "search": "2", "position": "exactly"}}, req)
    assert not blocks({"byte_match": {"field": "all_query_args", "search": "ID"}}, req)  # names excluded


def test_fields_headers_single_all_values_and_names() -> None:
    req = request(headers={"User-Agent": "curl/8", "X-Thing": "evil"})
    assert blocks({"byte_match": {"field": {"header": "User-Agent"}, "search": "curl"}}, req)
    assert blocks({"byte_match": {"field": "all_headers", "search": "evil"}}, req)
    assert blocks({"byte_match": {"field": "header_names", "search": "x-thing", "position": "exactly"}}, req)
    verdict = run(acl({"byte_match": {"field": "all_headers", "search": "evil"}}), req)
    assert verdict.field == "header:x-thing"


def test_fields_method_and_cookies() -> None:
    assert blocks(
        {"byte_match": {"field": "method", "search": "DELETE", "position": "exactly"}},
        request(method="DELETE"),
    )
    req = request(headers={"cookie": "session=abc; theme=<script>"})
    assert blocks({"byte_match": {"field": "cookies", "search": "<script>", "position": "exactly"}}, req)


def test_fields_body_and_json_keys_values() -> None:
    body = json.dumps({"user": {"name": "bob", "role": "admin"}, "tags": ["x", 5]}).encode()
    req = request(method="POST", body=body, headers={"content-type": "application/json"})
    exact = {"position": "exactly"}
    assert blocks({"byte_match": {"field": "body", "search": '"admin"'}}, req)
    assert blocks({"byte_match": {"field": "json_values", "search": "admin", **exact}}, req)
    assert not blocks({"byte_match": {"field": "json_values", "search": "role", **exact}}, req)
    assert blocks({"byte_match": {"field": "json_keys", "search": "role", **exact}}, req)
    assert blocks({"byte_match": {"field": "json_body", "search": "5", **exact}}, req)
    # Not JSON: inspected as a string
    assert blocks({"byte_match": {"field": "json_body", "search": "admin"}}, request(body=b"{admin"))


@pytest.mark.parametrize(("oversize", "hit"), [("continue", False), ("match", True), ("no_match", False)])
def test_body_oversize_handling(oversize: str, hit: bool) -> None:
    statement = {"byte_match": {"field": "body", "search": "evil", "oversize": oversize}}
    assert blocks(statement, request(body=b"harmless start", truncated=True)) is hit
    if oversize == "no_match":
        assert not blocks(statement, request(body=b"evil", truncated=True))
    assert blocks(statement, request(body=b"evil", truncated=False))


def test_sqli_and_xss_statements_on_query_decode_by_default() -> None:
    assert blocks({"sqli": {"field": "query"}}, request(query="id=1%27%20or%20%271%27%3D%271"))
    assert blocks({"xss": {"field": "query"}}, request(query="q=%3Cscript%3Ealert(1)%3C/script%3E"))
    assert not blocks({"sqli": {"field": "query"}}, request(query="q=O%27Reilly&page=2"))
    verdict = run(acl({"sqli": {"field": "query"}}), request(query="q=1+union+select+1"))
    assert verdict.field == "query" and "sqli" in verdict.reason and verdict.value == "1 union select 1"


def test_sqli_sensitivity_high_catches_more() -> None:
    value = "q=sleep(5)"
    assert not blocks({"sqli": {"field": "query", "sensitivity": "low"}}, request(query=value))
    assert blocks({"sqli": {"field": "query", "sensitivity": "high"}}, request(query=value))


def test_sqli_on_form_body_judges_each_argument() -> None:
    form = {"content-type": "application/x-www-form-urlencoded"}
    assert blocks(
        {"sqli": {"field": "body"}}, request(method="POST", body=b"user=admin%27--&pw=x", headers=form)
    )
    assert not blocks(
        {"sqli": {"field": "body"}}, request(method="POST", body=b"name=O%27Reilly&x=1", headers=form)
    )


def test_ip_set_v4_v6_and_mapped() -> None:
    statement = {"ip_set": {"cidrs": ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32"]}}
    assert blocks(statement, request(ip="10.1.2.3"))
    assert blocks(statement, request(ip="2001:db8::1"))
    assert blocks(statement, request(ip="::ffff:10.9.9.9"))
    assert blocks(statement, request(ip="192.0.2.7"))
    assert not blocks(statement, request(ip="192.0.2.8"))
    assert not blocks(statement, request(ip="not-an-ip"))


@pytest.mark.parametrize(("position", "hit"), [("first", True), ("last", False), ("any", True)])
def test_ip_set_from_forwarded_header_by_position(position: str, hit: bool) -> None:
    statement = {"ip_set": {"cidrs": ["203.0.113.0/24"], "forwarded_ip": {"position": position}}}
    req = request(ip="10.0.0.1", headers={"x-forwarded-for": "203.0.113.9, 198.51.100.1"})
    assert blocks(statement, req) is hit


def test_forwarded_fallback_when_header_missing_or_bad() -> None:
    base = {"cidrs": ["203.0.113.0/24"]}
    match = {"ip_set": {**base, "forwarded_ip": {"fallback": "match"}}}
    no_match = {"ip_set": {**base, "forwarded_ip": {"fallback": "no_match"}}}
    assert blocks(match, request(headers={"x-forwarded-for": "garbage"}))
    assert not blocks(no_match, request())


def test_geo_match_with_bundled_and_custom_tables() -> None:
    statement = {"geo_match": {"countries": ["xc"]}}
    assert blocks(statement, request(ip="203.0.113.50"))  # bundled: documentation range -> XC
    assert not blocks(statement, request(ip="198.51.100.1"))
    table = parse_geo_csv("10.0.0.0/8,DE\n10.1.0.0/16,FR\n", "test.csv")
    compiled = rules_acl(
        [{"name": "de", "priority": 1, "action": "block", "statement": {"geo_match": {"countries": ["DE"]}}}],
        geo=table,
    )
    assert run(compiled, request(ip="10.2.0.1")).blocked
    assert not run(compiled, request(ip="10.1.0.1")).blocked  # longest prefix wins: FR
    assert isinstance(load_geo_table(), GeoTable)


def test_label_match_sees_labels_of_earlier_rules() -> None:
    compiled = rules_acl(
        [
            {
                "name": "tag",
                "priority": 1,
                "action": "count",
                "labels": ["acme:bot:scanner"],
                "statement": {"byte_match": {"field": {"header": "user-agent"}, "search": "scan"}},
            },
            {
                "name": "exact",
                "priority": 2,
                "action": "block",
                "statement": {"label_match": {"label": "acme:bot:scanner"}},
            },
        ]
    )
    verdict = run(compiled, request(headers={"user-agent": "scanbot"}))
    assert verdict.rule == "exact" and verdict.counted == ("tag",) and verdict.labels == ("acme:bot:scanner",)
    namespace = rules_acl(
        [
            {
                "name": "tag",
                "priority": 1,
                "action": "count",
                "labels": ["acme:bot:scanner"],
                "statement": {"byte_match": {"field": "method", "search": "GET"}},
            },
            {
                "name": "ns",
                "priority": 2,
                "action": "block",
                "statement": {"label_match": {"label": "acme:bot", "scope": "namespace"}},
            },
        ]
    )
    assert run(namespace, request()).rule == "ns"


def test_and_or_not_composition() -> None:
    admin = {"byte_match": {"field": "path", "search": "/admin", "position": "starts_with"}}
    office = {"ip_set": {"cidrs": ["10.0.0.0/8"]}}
    outsiders_on_admin = {"and": [admin, {"not": office}]}
    assert blocks(outsiders_on_admin, request("/admin", ip="192.0.2.1"))
    assert not blocks(outsiders_on_admin, request("/admin", ip="10.0.0.1"))
    assert not blocks(outsiders_on_admin, request("/shop", ip="192.0.2.1"))
    verdict = run(acl(outsiders_on_admin), request("/admin", ip="192.0.2.1"))
    assert verdict.field == "path"  # `and` reports the child that names a field
    either = {"or": [admin, office]}
    assert blocks(either, request("/shop", ip="10.0.0.1")) and not blocks(either, request("/shop"))


def test_rate_based_blocks_while_over_the_limit_per_ip() -> None:
    compiled = acl({"rate_based": {"limit": 3, "window": "10s"}})
    rate = RateState()
    results = [
        run(compiled, request(ip="192.0.2.1"), now=float(t) * 0.1, rate=rate).blocked for t in range(5)
    ]
    assert results == [False, False, False, True, True]
    assert not run(compiled, request(ip="192.0.2.2"), now=0.5, rate=rate).blocked  # other key
    # Two windows later the old counts have slid out
    assert not run(compiled, request(ip="192.0.2.1"), now=25.0, rate=rate).blocked


def test_rate_based_sliding_window_weights_previous_bucket() -> None:
    rate = RateState()
    key = ("r", ("k",))
    for _ in range(10):
        rate.hit(key, 10.0, 5.0)
    assert rate.estimate(key, 10.0, 12.5) == pytest.approx(7.5)  # 10 * (1 - 0.25)
    assert rate.estimate(key, 10.0, 30.0) == 0.0


def test_rate_based_keys_header_and_scope_down() -> None:
    statement = {
        "rate_based": {
            "limit": 1,
            "window": 60,
            "keys": [{"header": "x-api-key"}, "path"],
            "scope_down": {"byte_match": {"field": "path", "search": "/api/", "position": "starts_with"}},
        }
    }
    compiled, rate = acl(statement), RateState()
    api = request("/api/x", headers={"x-api-key": "k1"})
    assert not run(compiled, api, rate=rate).blocked
    assert run(compiled, api, rate=rate).blocked
    assert not run(compiled, request("/api/x", headers={"x-api-key": "k2"}), rate=rate).blocked
    for _ in range(3):
        assert not run(
            compiled, request("/shop", headers={"x-api-key": "k1"}), rate=rate
        ).blocked  # out of scope
        assert not run(compiled, request("/api/x"), rate=rate).blocked  # no key header: not counted


@pytest.mark.parametrize(
    ("keys", "value"),
    [
        (["ip", "path"], "192.0.2.1 /a"),
        (["method", "path", "ip"], "GET /a 192.0.2.1"),
        (["path"], "/a"),
        (["constant"], ""),
        ([{"header": "x-api-key"}, "ip"], "k1 192.0.2.1"),
    ],
)
def test_rate_based_keys_without_scope_count_each_key_apart(keys: list[object], value: str) -> None:
    compiled, rate = acl({"rate_based": {"limit": 1, "window": 60, "keys": keys}}), RateState()
    first = request("/a", ip="192.0.2.1", headers={"x-api-key": "k1"})
    assert not run(compiled, first, rate=rate).blocked
    verdict = run(compiled, first, rate=rate)
    assert verdict.blocked and verdict.value == value
    other = request("/b", ip="192.0.2.2", headers={"x-api-key": "k2"}, method="POST")
    assert run(compiled, other, rate=rate).blocked == (keys == ["constant"])


def test_rate_state_stays_bounded() -> None:
    rate = RateState(max_keys=100)
    for i in range(1000):
        rate.hit(("r", (str(i),)), 60.0, float(i))
    assert len(rate) <= 100
