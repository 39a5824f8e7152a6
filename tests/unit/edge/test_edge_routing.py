"""The edge's routing step without sockets: which path a request takes under its behaviour."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from originguard.config.edge import DistributionConfig
from originguard.edge import routing
from originguard.edge.behaviors import CompiledBehavior, compile_behaviors, select_behavior
from originguard.edge.routing import route
from originguard.http.body import Body
from originguard.http.message import Request

BEHAVIORS = compile_behaviors(
    DistributionConfig.model_validate(
        {
            "origins": [{"id": "o", "address": "127.0.0.1:1"}],
            "viewer_protocol_policy": "redirect-to-https",
            "default_behavior": {"origin": "o", "allowed_methods": "GET_HEAD"},
            "behaviors": [
                {"path": "/api/*", "origin": "o", "cache": False, "allowed_methods": "ALL"},
                {"path": "/open/*", "origin": "o", "viewer_protocol_policy": "allow-all"},
                {"path": "/all/*", "origin": "o", "allowed_methods": "ALL"},
            ],
        }
    )
)


def viewer_request(
    method: bytes = b"GET",
    path: bytes = b"/page",
    headers: list[tuple[bytes, bytes]] | None = None,
    *,
    keep_alive: bool = True,
    body: bool = False,
) -> Request:
    return Request(
        method,
        path,
        path,
        b"",
        b"1.1",
        [(b"Host", b"cdn.example.test"), *(headers or [])],
        b"cdn.example.test",
        keep_alive,
        "192.0.2.1",
        40000,
        "https",
        443,
        "TLSv1.3",
        body=Body(1024, lambda: None, lambda: None) if body else None,
    )


def routed(request: Request, *, plain_http: bool = False) -> int:
    return route(select_behavior(BEHAVIORS, request.path), request, plain_http)


def test_a_plain_keep_alive_get_on_a_cached_behaviour_tries_the_hit() -> None:
    assert routed(viewer_request()) == routing.CACHE_HIT


@pytest.mark.parametrize(
    "request_",
    [
        viewer_request(b"HEAD"),
        viewer_request(keep_alive=False),
        viewer_request(headers=[(b"If-None-Match", b'"v1"')]),
        viewer_request(headers=[(b"Range", b"bytes=0-9")]),
        viewer_request(headers=[(b"Cache-Control", b"no-cache")]),
        viewer_request(body=True),
    ],
    ids=["head", "connection-close", "conditional", "range", "request-directives", "get-with-body"],
)
def test_cached_requests_a_freshness_check_alone_cannot_answer_take_the_fill_path(request_: Request) -> None:
    assert routed(request_) == routing.FILL


def test_uncached_behaviours_and_unsafe_methods_relay_or_pass_with_a_body() -> None:
    assert routed(viewer_request(path=b"/api/x")) == routing.RELAY
    assert routed(viewer_request(b"POST", b"/all/x")) == routing.RELAY
    assert routed(viewer_request(b"POST", b"/all/x", body=True)) == routing.PASS
    assert routed(viewer_request(b"PUT", b"/api/x", body=True)) == routing.PASS


def test_behaviour_answers_come_first_viewer_policy_then_methods() -> None:
    assert routed(viewer_request(), plain_http=True) == routing.VIEWER_POLICY
    assert routed(viewer_request(path=b"/open/x"), plain_http=True) == routing.CACHE_HIT
    assert routed(viewer_request(b"POST")) == routing.METHOD_REFUSED
    assert routed(viewer_request(b"POST"), plain_http=True) == routing.VIEWER_POLICY


@given(
    method=st.sampled_from([b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"OPTIONS", b"PATCH"]),
    path=st.sampled_from([b"/page", b"/api/x", b"/open/x", b"/all/x"]),
    keep_alive=st.booleans(),
    body=st.booleans(),
    plain_http=st.booleans(),
)
def test_the_route_agrees_with_the_rules_it_replaced(
    method: bytes, path: bytes, keep_alive: bool, body: bool, plain_http: bool
) -> None:
    """The checks edge.app, edge.miss and EdgeApp.begin made inline before the routing step."""
    request = viewer_request(method, path, keep_alive=keep_alive, body=body)
    behavior: CompiledBehavior = select_behavior(BEHAVIORS, path)
    taken = route(behavior, request, plain_http)
    assert routing.NAMES[taken]
    if plain_http and behavior.viewer_protocol_policy != "allow-all":
        assert taken == routing.VIEWER_POLICY
    elif method not in behavior.methods:
        assert taken == routing.METHOD_REFUSED
    elif not behavior.config.cache or method not in (b"GET", b"HEAD"):
        assert taken == (routing.RELAY if not body else routing.PASS)
    elif method == b"GET" and keep_alive and not body:
        assert taken == routing.CACHE_HIT
    else:
        assert taken == routing.FILL
