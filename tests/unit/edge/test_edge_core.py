"""The edge's pure decisions: behaviour selection, viewer protocol policy, origin signing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from originguard.config.edge import DistributionConfig
from originguard.edge.behaviors import compile_behaviors, select_behavior
from originguard.edge.signing import origin_request_headers, origin_signing, viewer_response_headers
from originguard.edge.viewer import viewer_decision

SIGNING = origin_signing([(b"X-Origin-Verify", b"s3cret")])


def distribution(behaviors: list[dict[str, object]]) -> DistributionConfig:
    return DistributionConfig.model_validate(
        {
            "origins": [{"id": "o", "address": "127.0.0.1:1"}],
            "default_behavior": {"origin": "o"},
            "behaviors": behaviors,
        }
    )


def test_first_matching_behaviour_wins_and_patterns_are_case_sensitive() -> None:
    compiled = compile_behaviors(
        distribution(
            [
                {"path": "/api/v1/*", "origin": "o", "cache": False},
                {"path": "api/*", "origin": "o"},
                {"path": "*.JPG", "origin": "o", "allowed_methods": "GET_HEAD"},
            ]
        )
    )
    assert select_behavior(compiled, b"/api/v1/x").pattern == "/api/v1/*"
    assert select_behavior(compiled, b"/api/v2/x").pattern == "/api/*", "a leading / is optional"
    assert select_behavior(compiled, b"/a.JPG").methods == frozenset({b"GET", b"HEAD"})
    assert select_behavior(compiled, b"/a.jpg").pattern == "*", "case-sensitive like the CDNs"


def test_behaviour_viewer_policy_overrides_the_distribution() -> None:
    compiled = compile_behaviors(
        distribution([{"path": "/open/*", "origin": "o", "viewer_protocol_policy": "allow-all"}])
    )
    assert select_behavior(compiled, b"/open/x").viewer_protocol_policy == "allow-all"
    assert select_behavior(compiled, b"/x").viewer_protocol_policy == "redirect-to-https"


def test_viewer_policies() -> None:
    args = {"host": b"www.example.test:8080", "https_port": 8443, "target": b"/a?b=1"}
    assert viewer_decision("allow-all", scheme="http", **args).kind == "allow"  # type: ignore[arg-type]
    assert viewer_decision("https-only", scheme="http", **args).kind == "forbidden"  # type: ignore[arg-type]
    assert viewer_decision("https-only", scheme="https", **args).kind == "allow"  # type: ignore[arg-type]
    redirect = viewer_decision("redirect-to-https", scheme="http", **args)  # type: ignore[arg-type]
    assert (redirect.kind, redirect.location) == ("redirect", b"https://www.example.test:8443/a?b=1")
    standard = viewer_decision(
        "redirect-to-https", scheme="http", host=b"example.test", https_port=443, target=b"/"
    )
    assert standard.location == b"https://example.test/"


def test_origin_request_overwrites_viewer_secret_and_keeps_it_despite_connection() -> None:
    viewer = [
        (b"Host", b"www.example.test"),
        (b"X-Origin-Verify", b"forged"),
        (b"x-origin-verify", b"forged-again"),
        (b"Connection", b"close, X-Origin-Verify, X-Drop"),
        (b"X-Drop", b"1"),
        (b"X-Forwarded-For", b"198.51.100.7"),
        (b"X-Forwarded-Proto", b"http"),
        (b"Via", b"1.1 upstream-proxy"),
    ]
    headers = origin_request_headers(
        viewer, SIGNING, client_ip="203.0.113.9", scheme="https", edge_name="edge-x", host=None
    )
    secret_values = [v for n, v in headers if n.lower() == b"x-origin-verify"]
    assert secret_values == [b"s3cret"]
    by_name = {n.lower(): v for n, v in headers}
    assert by_name[b"x-forwarded-for"] == b"198.51.100.7, 203.0.113.9"
    assert by_name[b"x-forwarded-proto"] == b"https"
    assert by_name[b"via"] == b"1.1 upstream-proxy, 1.1 edge-x (originguard)"
    assert b"x-drop" not in by_name and b"connection" not in by_name


def test_origin_request_replaces_host_drops_fields_and_joins_forwarded_for_lines() -> None:
    viewer = [
        (b"Host", b"www.example.test"),
        (b"X-Forwarded-For", b"198.51.100.7"),
        (b"If-None-Match", b'"v1"'),
        (b"x-forwarded-for", b"198.51.100.8"),
        (b"Accept", b"*/*"),
    ]
    for _ in range(2):  # the second call reads the memoised name set
        headers = origin_request_headers(
            viewer,
            SIGNING,
            client_ip="203.0.113.9",
            scheme="http",
            edge_name="edge-x",
            host=b"origin.example.test",
            drop=frozenset({b"if-none-match"}),
        )
        assert headers[0] == (b"Host", b"origin.example.test")
        assert [n for n, _ in headers].count(b"Host") == 1
        assert (b"Accept", b"*/*") in headers
        assert all(n.lower() != b"if-none-match" for n, _ in headers)
        assert (b"X-Forwarded-For", b"198.51.100.7, 198.51.100.8, 203.0.113.9") in headers
        assert (b"Via", b"1.1 edge-x (originguard)") in headers
    kept_host = origin_request_headers(
        viewer, SIGNING, client_ip="203.0.113.9", scheme="http", edge_name="edge-x", host=None
    )
    assert kept_host[0] == (b"Host", b"www.example.test")
    assert (b"If-None-Match", b'"v1"') in kept_host


def test_echoed_secret_never_goes_back_to_the_viewer() -> None:
    origin = [
        (b"X-ORIGIN-VERIFY", b"s3cret"),
        (b"Content-Type", b"text/plain"),
        (b"Keep-Alive", b"timeout=5"),
    ]
    assert viewer_response_headers(origin, SIGNING) == [(b"Content-Type", b"text/plain")]


@given(
    st.lists(
        st.tuples(
            st.sampled_from([b"X-Origin-Verify", b"x-origin-verify", b"Connection", b"A"]),
            st.binary(max_size=12),
        )
    )
)
def test_exactly_one_secret_header_whatever_the_viewer_sends(viewer: list[tuple[bytes, bytes]]) -> None:
    headers = origin_request_headers(
        viewer, SIGNING, client_ip="1.2.3.4", scheme="https", edge_name="e", host=None
    )
    assert [v for n, v in headers if n.lower() == b"x-origin-verify"] == [b"s3cret"]
