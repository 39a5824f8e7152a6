"""`WafRequest.from_raw`, what the edge builds per request: the same request as one built from text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from originguard.waf import RateState, WafRequest, body, evaluate
from originguard.waf.body import json_strings
from originguard.waf.evaluate import evaluate_reference

from .test_plan import BENCH_ACL, EDGE_ACL

RAW_HEADERS = [(b"Host", b"shop.example"), (b"User-Agent", b"caf\xe9/1.0"), (b"X-Forwarded-For", b"10.1.2.3")]


def test_from_raw_decodes_latin1_and_lowercases_header_names() -> None:
    built = WafRequest.from_raw(b"POST", b"/caf\xe9", b"q=%27", RAW_HEADERS, "192.0.2.1", b"{}", True)
    assert built == WafRequest(
        "POST",
        "/café",
        "q=%27",
        (("host", "shop.example"), ("user-agent", "café/1.0"), ("x-forwarded-for", "10.1.2.3")),
        "192.0.2.1",
        b"{}",
        True,
    )
    assert built.path == "/café" and built.header_values("user-agent") == ("café/1.0",)


def test_from_raw_keeps_methods_it_does_not_know_as_latin1() -> None:
    assert WafRequest.from_raw(b"PROPF\xcdND", b"/", b"", [], "::1", b"", False).method == "PROPFÍND"
    assert WafRequest.from_raw(b"GET", b"/", b"", [], "::1", b"", False).method == "GET"


def test_requests_compare_and_print_by_their_fields() -> None:
    one = WafRequest.from_raw(b"GET", b"/a", b"", RAW_HEADERS, "192.0.2.1", b"", False)
    other = WafRequest.from_raw(b"GET", b"/b", b"", RAW_HEADERS, "192.0.2.1", b"", False)
    assert one != other and hash(one) == hash(
        WafRequest.from_raw(b"GET", b"/a", b"", RAW_HEADERS, "192.0.2.1", b"", False)
    )
    assert "path='/a'" in repr(one) and "('user-agent', 'café/1.0')" in repr(one)


raw_text = st.binary(max_size=12).map(lambda b: b.replace(b"\n", b""))
raw_headers = st.lists(
    st.tuples(
        st.sampled_from([b"User-Agent", b"referer", b"COOKIE", b"X-Forwarded-For", b"Content-Type"]), raw_text
    ),
    max_size=4,
)


@given(
    st.sampled_from([b"GET", b"POST", b"TRACE", b"Get"]),
    raw_text,
    st.sampled_from([b"", b"id=1%20union%20select%201", b"q=%3Cscript%3E", b"p3=aaa"]) | raw_text,
    raw_headers,
    st.sampled_from([b"", b'{"a": "<script>"}', b"x=1' or 1=1--"]),
)
def test_from_raw_requests_get_the_verdicts_of_decoded_ones(
    method: bytes, path: bytes, query: bytes, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    built = WafRequest.from_raw(method, b"/" + path, query, headers, "198.51.100.20", body, False)
    decoded = WafRequest(
        method.decode("latin-1"),
        "/" + path.decode("latin-1"),
        query.decode("latin-1"),
        tuple((n.decode("latin-1").lower(), v.decode("latin-1")) for n, v in headers),
        "198.51.100.20",
        body,
    )
    for acl in (BENCH_ACL, EDGE_ACL):
        assert evaluate(acl, built, 5.0, RateState()) == evaluate_reference(acl, decoded, 5.0, RateState())


def test_a_json_body_is_parsed_once_for_every_rule_that_reads_it(monkeypatch: pytest.MonkeyPatch) -> None:
    parses: list[bytes] = []
    real = body.orjson.loads

    def counting(data: bytes) -> object:
        parses.append(data)
        return real(data)

    monkeypatch.setattr(body.orjson, "loads", counting)
    document = b'{"note": "gift", "items": [{"sku": "A-1", "qty": 2}], "x": null}'
    req = WafRequest("POST", "/api", "", (("content-type", "application/json"),), "192.0.2.1", document)
    evaluate(BENCH_ACL, req, 5.0, RateState())  # the core body rules and the json_values rules
    assert parses == [document]
    # The walk's order (a stack: a dict's keys, then its children last first), one walk for all three.
    both = ("note", "items", "x", "sku", "qty", "2", "A-1", "gift")
    assert json_strings(req, keys=True, values=True) == both
    assert json_strings(req, keys=True, values=False) == ("note", "items", "x", "sku", "qty")
    assert json_strings(req, keys=False, values=True) == ("2", "A-1", "gift")
    assert parses == [document]
    assert json_strings(WafRequest("POST", "/", "", (), "::1", b"{oops"), keys=True, values=True) is None
