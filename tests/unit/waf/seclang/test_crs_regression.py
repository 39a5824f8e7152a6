"""CRS 4.28.0's own regression suite run against our engine the way CRS's CI runs it.

DetectionOnly, blocking paranoia level 4, the `900005` settings; the verdict read from the rule ids
our engine logs (tests/crs_regression.py). ≥ 99% of the 4,966 tests must pass, and every failure
must be listed with its reason in tests/data/crs-regression-overrides.yaml (Coraza's format).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from originguard.waf.seclang.transaction import HttpRequest
from tests import crs_regression as crs

OVERRIDES = Path(__file__).resolve().parents[3] / "data" / "crs-regression-overrides.yaml"
ROOT = crs.crs_dir()

pytestmark = [
    pytest.mark.skipif(
        not (ROOT / "tests" / "regression").is_dir(), reason=f"CRS 4.28.0 not found at {ROOT}"
    ),
    pytest.mark.slow,
]


@pytest.fixture(scope="module")
def suite() -> list[crs.FtwTest]:
    return crs.load_suite(ROOT / "tests" / "regression" / "tests")


@pytest.fixture(scope="module")
def evaluate() -> crs.Evaluate:
    if crs.engine_api() is None:
        pytest.skip("the SecLang engine is not built yet (load_ruleset, operators, transforms)")
    return crs.our_evaluate(crs.load_our_ruleset(ROOT))


@pytest.fixture(scope="module")
def failures(suite: list[crs.FtwTest], evaluate: crs.Evaluate) -> dict[str, str]:
    return crs.run_suite(suite, evaluate)


def test_the_suite_holds_the_4966_tests_crs_counts(suite: list[crs.FtwTest]) -> None:
    assert len(suite) == 4966


def test_at_least_99_percent_of_the_crs_regression_tests_pass(
    suite: list[crs.FtwTest], failures: dict[str, str]
) -> None:
    passed = len(suite) - len(failures)
    listing = "\n".join(f"{name}: {why}" for name, why in sorted(failures.items()))
    assert passed / len(suite) >= 0.99, f"{passed}/{len(suite)} passed; failures:\n{listing}"


def test_every_failure_is_an_override_with_its_reason_and_no_override_is_stale(
    suite: list[crs.FtwTest], failures: dict[str, str], evaluate: crs.Evaluate
) -> None:
    problems = crs.override_problems(suite, failures, crs.load_overrides(OVERRIDES), evaluate)
    assert not problems, "\n".join(problems)


def test_every_override_is_a_deviation_of_our_http_layer(suite: list[crs.FtwTest]) -> None:
    # The brief: overrides document what our HTTP layer does differently, never rule evaluation.
    overrides: dict[str, Any] = crs.load_overrides(OVERRIDES)
    by_name = {test.name: test for test in suite}
    for name, override in overrides.items():
        received = [crs.receive(stage.wire) for stage in by_name[name].stages]
        refused = any(r.request is None for r in received)
        status = (override.output or {}).get("status")
        assert refused or status == 200, f"{name}: neither refused nor a status difference: {override.reason}"


# -- the harness itself: go-ftw's bytes and our HTTP layer ------------------------------------


def test_go_ftw_writes_map_headers_sorted_then_content_type_connection_and_length() -> None:
    stage = {"method": "POST", "uri": "/post", "headers": {"User-Agent": "a", "Host": "h"}, "data": "x=1 2&y"}
    assert crs.wire_bytes(stage) == (
        b"POST /post HTTP/1.1\r\nHost: h\r\nUser-Agent: a\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n"
        b"Content-Length: 7\r\n\r\nx=1+2&y"
    )


def test_go_ftw_leaves_encoded_form_data_and_given_headers_alone() -> None:
    stage = {
        "method": "POST",
        "headers": {"content-length": "3", "connection": "keep-alive"},
        "data": "a=%3C&b",
    }
    wire = crs.wire_bytes(stage)
    assert wire.endswith(b"\r\n\r\na=%3C&b")
    assert b"Connection: close" not in wire and wire.count(b"ength:") == 1


def test_go_ftw_sends_no_length_for_a_get_without_data_and_crlf_in_multipart() -> None:
    assert crs.wire_bytes({"uri": "/"}) == b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n"
    multipart = {
        "method": "POST",
        "headers": {"Content-Type": "multipart/form-data; boundary=b"},
        "data": "--b\nx\n",
    }
    assert crs.wire_bytes(multipart).endswith(b"Content-Length: 8\r\n\r\n--b\r\nx\r\n")


def test_go_ftw_runs_the_repeat_template_of_the_data() -> None:
    wire = crs.wire_bytes(
        {"method": "POST", "headers": {"Content-Type": "text/plain"}, "data": '{{ "1" | repeat 5 }}'}
    )
    assert wire.endswith(b"\r\n\r\n11111")


def test_the_edge_refuses_an_unknown_method_before_the_waf_sees_it() -> None:
    received = crs.receive(b"TEST / HTTP/1.1\r\nHost: h\r\n\r\n")
    assert received.request is None and received.refusal == 400


def test_the_edge_hands_the_waf_the_dechunked_body_and_the_fields_as_sent() -> None:
    wire = b"POST /p?a=1 HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nx-a: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
    wire += b"3\r\nabc\r\n0\r\n\r\n"
    request = crs.receive(wire).request
    assert request is not None
    assert (request.method, request.target, request.protocol, request.body) == (
        b"POST",
        b"/p?a=1",
        b"HTTP/1.1",
        b"abc",
    )
    assert request.headers[1:3] == ((b"X-A", b"1"), (b"x-a", b"2"))


def test_a_log_expectation_fails_on_a_missing_id_and_on_a_forbidden_one() -> None:
    received = crs.Received(HttpRequest(b"GET", b"/", b"HTTP/1.1", ()), None, "")
    logged = crs.Logged(frozenset({1, 2}), ('[id "1"] [msg "x"]',))
    assert crs.judge(crs.Expectation(expect_ids=frozenset({1})), received, logged) is None
    assert crs.judge(crs.Expectation(expect_ids=frozenset({3})), received, logged) == "missing [3]"
    assert crs.judge(crs.Expectation(no_expect_ids=frozenset({2})), received, logged) == "unexpected [2]"
    assert crs.judge(crs.Expectation(no_match_regex=r'\[id "\d+"\]'), received, logged) is not None
