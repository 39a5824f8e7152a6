"""Every response the edge and the gate build carries each header name once (RFC 9110 §5.3:
only list-valued fields may repeat, and none of ours is): real bytes from a running chain."""

from __future__ import annotations

from collections import Counter

from originguard.edge.passthrough import origin_error
from originguard.errors import ProtocolError, UpstreamError
from originguard.gate.relaying import TEXT_PLAIN, upstream_failure
from originguard.http.wire import error_response, render_response
from tests.integration.edge.conftest import Chain
from tests.support import LoopThread, exchange

EDGE = "www.cdn.example.test"
REPEATABLE = frozenset({"set-cookie"})


def repeated_names(raw: bytes) -> list[str]:
    """Header names a response head carries more than once, compared case-insensitively."""
    head = raw.partition(b"\r\n\r\n")[0].decode("latin-1")
    names = Counter(line.split(":", 1)[0].strip().lower() for line in head.split("\r\n")[1:])
    return sorted(name for name, count in names.items() if count > 1 and name not in REPEATABLE)


def edge_answer(chain: Chain, head: str, *, https: bool = True, body: bytes = b"") -> bytes:
    raw = head.encode() + b"Connection: close\r\n\r\n" + body
    if https:
        return exchange(chain.https, raw, tls=chain.viewer_tls, server_name=EDGE)
    return exchange(chain.http, raw)


def test_no_built_response_of_edge_gate_or_admin_repeats_a_header(
    chain: Chain, loop_thread: LoopThread
) -> None:
    host = f"Host: {EDGE}\r\n"
    via = chain.edge.runtime.view.via.decode()
    health = chain.edge.runtime.view.health_path.decode()
    answers = {
        "edge waf block": edge_answer(chain, f"GET /s?q=1%27%20OR%20%271%27%3D%271 HTTP/1.1\r\n{host}"),
        "edge redirect": edge_answer(chain, f"GET /a HTTP/1.1\r\n{host}", https=False),
        "edge loop": edge_answer(chain, f"GET /a HTTP/1.1\r\n{host}Via: {via}\r\n"),
        "edge health": edge_answer(chain, f"GET {health} HTTP/1.1\r\n{host}"),
        "edge miss": edge_answer(chain, f"GET /page HTTP/1.1\r\n{host}"),
        "edge hit": edge_answer(chain, f"GET /page HTTP/1.1\r\n{host}"),
        "edge relay": edge_answer(chain, f"GET /api/x HTTP/1.1\r\n{host}"),
        "edge pass-through with a body": edge_answer(
            chain, f"POST /api/x HTTP/1.1\r\n{host}Content-Length: 2\r\n", body=b"ab"
        ),
        "edge 400": edge_answer(chain, f"GET / HTTP/1.1\r\n{host}{host}"),
        "edge 505": edge_answer(chain, f"GET / HTTP/2.0\r\n{host}"),
        "edge 431": edge_answer(chain, f"GET / HTTP/1.1\r\n{host}X-Big: {'a' * 17000}\r\n"),
        "edge 413": edge_answer(chain, f"POST /api/x HTTP/1.1\r\n{host}Content-Length: 99999999999\r\n"),
    }
    assert chain.edge.admin is not None
    admin = chain.edge.admin.port
    bearer = f"Authorization: Bearer {chain.token}\r\n"
    for name, head in {
        "admin metrics": "GET /metrics HTTP/1.1\r\n",
        "admin waf": f"GET /waf HTTP/1.1\r\n{bearer}",
        "admin waf unauthorized": "GET /waf HTTP/1.1\r\n",
        "admin 404": "GET /nothing HTTP/1.1\r\n",
    }.items():
        answers[name] = exchange(admin, f"{head}Host: a\r\nConnection: close\r\n\r\n".encode())
    gate = chain.gate.listeners[0].port
    secret = f"X-Origin-Verify: {chain.secret}\r\n"
    answers["gate 403"] = exchange(gate, b"GET / HTTP/1.1\r\nHost: g\r\n\r\n", tls=chain.viewer_tls)
    answers["gate forward with a body"] = exchange(
        gate,
        f"POST /b HTTP/1.1\r\nHost: g\r\n{secret}Content-Length: 2\r\nConnection: close\r\n\r\nab".encode(),
        tls=chain.viewer_tls,
    )
    answers["gate 400"] = exchange(gate, b"GET / HTTP/1.1\r\n\r\n", tls=chain.viewer_tls)
    loop_thread.run(chain.origin_server.shutdown(1))  # the app is gone: 502s from gate and edge
    answers["gate 502"] = exchange(
        gate,
        f"GET /gone HTTP/1.1\r\nHost: g\r\n{secret}Connection: close\r\n\r\n".encode(),
        tls=chain.viewer_tls,
    )
    answers["edge 502 relayed"] = edge_answer(chain, f"GET /api/gone HTTP/1.1\r\n{host}")
    for name, raw in answers.items():
        assert raw.startswith(b"HTTP/1.1 "), (name, raw[:80])
        assert repeated_names(raw) == [], (name, raw.partition(b"\r\n\r\n")[0])
    assert answers["edge waf block"].startswith(b"HTTP/1.1 403 ")


def test_every_protocol_error_response_has_each_header_once() -> None:
    statuses = {cls.status for cls in _subclasses(ProtocolError)}
    assert {400, 408, 413, 414, 417, 431, 505} <= statuses
    for status in statuses:
        assert repeated_names(error_response(status, "x")) == [], status


def test_gateway_errors_of_gate_and_edge_have_each_header_once() -> None:
    for kind in ("timeout", "connect", "closed"):
        error = UpstreamError(kind, "x")  # type: ignore[arg-type]
        status, text = upstream_failure(error)
        assert repeated_names(render_response(status, TEXT_PLAIN, text, keep_alive=False)) == []
        status, headers, text = origin_error(error)
        assert repeated_names(render_response(status, headers, text, keep_alive=True)) == []


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found
