"""The gate's promise over real TLS: only the exact secret header reaches the app."""

from __future__ import annotations

import json

from tests.integration.gate.conftest import GateSetup
from tests.support import connect, exchange, read_response, request, wait_for


def get(setup: GateSetup, extra: str = "", path: str = "/hello") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: gate.originguard.test\r\n{extra}\r\n".encode()


def wait_healthy(setup: GateSetup) -> None:
    groups = setup.handle.runtime.groups
    wait_for(lambda: all(t.healthy for t in groups["app"].targets))


def test_request_with_secret_header_reaches_the_app_and_comes_back(gate: GateSetup) -> None:
    wait_healthy(gate)
    response = request(gate.port, get(gate, f"X-Origin-Verify: {gate.secret}\r\n"), tls=gate.tls)
    assert response.status == 200
    seen = json.loads(response.body)
    assert seen["path"] == "/hello"
    names = {name.lower(): value for name, value in seen["headers"]}
    assert "x-origin-verify" not in names, "the gate strips the matched secret before the app"
    assert names["x-forwarded-for"] == "127.0.0.1"
    assert names["x-forwarded-proto"] == "https"
    assert gate.secret.encode() not in response.raw


def test_direct_request_without_header_gets_fixed_403(gate: GateSetup) -> None:
    response = request(gate.port, get(gate), tls=gate.tls)
    assert (response.status, response.body) == (403, b"Forbidden")
    assert response.header("content-type") == "text/plain"
    assert sum(app.requests_seen for app in gate.apps) == 0


def test_wrong_secret_value_gets_403(gate: GateSetup) -> None:
    wrong = gate.secret[:-1] + ("a" if gate.secret[-1] != "a" else "b")
    assert request(gate.port, get(gate, f"X-Origin-Verify: {wrong}\r\n"), tls=gate.tls).status == 403


def test_right_value_in_another_header_gets_403(gate: GateSetup) -> None:
    assert request(gate.port, get(gate, f"X-Origin-Verified: {gate.secret}\r\n"), tls=gate.tls).status == 403


def test_header_name_in_odd_case_is_admitted(gate: GateSetup) -> None:
    wait_healthy(gate)
    assert request(gate.port, get(gate, f"x-ORIGIN-vErIfY: {gate.secret}\r\n"), tls=gate.tls).status == 200


def test_secret_value_in_odd_case_is_refused(gate: GateSetup) -> None:
    assert (
        request(gate.port, get(gate, f"X-Origin-Verify: {gate.secret.upper()}\r\n"), tls=gate.tls).status
        == 403
    )


def test_secret_header_sent_twice_is_refused(gate: GateSetup) -> None:
    twice = f"X-Origin-Verify: {gate.secret}\r\nX-Origin-Verify: {gate.secret}\r\n"
    assert request(gate.port, get(gate, twice), tls=gate.tls).status == 403
    joined = f"X-Origin-Verify: {gate.secret}, {gate.secret}\r\n"
    assert request(gate.port, get(gate, joined), tls=gate.tls).status == 403


def test_plain_http_to_the_https_port_gets_400_and_no_app_request(gate: GateSetup) -> None:
    raw = exchange(gate.port, get(gate, f"X-Origin-Verify: {gate.secret}\r\n"))
    assert raw.startswith(b"HTTP/1.1 400 ")
    assert b"HTTPS port" in raw
    assert sum(app.requests_seen for app in gate.apps) == 0


def test_connection_header_cannot_hide_the_secret_from_the_rules(gate: GateSetup) -> None:
    wait_healthy(gate)
    extra = f"Connection: keep-alive, X-Origin-Verify\r\nX-Origin-Verify: {gate.secret}\r\n"
    response = request(gate.port, get(gate, extra), tls=gate.tls)
    assert response.status == 200
    names = {name.lower() for name, _ in json.loads(response.body)["headers"]}
    assert "x-origin-verify" not in names and "connection" not in names


def test_head_request_to_the_deny_path_gets_head_only(gate: GateSetup) -> None:
    with connect(gate.port, tls=gate.tls) as sock:
        sock.sendall(b"HEAD / HTTP/1.1\r\nHost: gate.originguard.test\r\n\r\n")
        response = read_response(sock, head_only=True)
        assert response.status == 403 and response.header("content-length") == "9"
        sock.sendall(get(gate))
        assert read_response(sock).body == b"Forbidden"


def test_keep_alive_and_pipelining_answer_in_order(gate: GateSetup) -> None:
    wait_healthy(gate)
    admitted = get(gate, f"X-Origin-Verify: {gate.secret}\r\n", path="/first")
    with connect(gate.port, tls=gate.tls) as sock:
        sock.sendall(admitted + get(gate, path="/denied") + admitted.replace(b"/first", b"/third"))
        first, second, third = (read_response(sock) for _ in range(3))
    assert json.loads(first.body)["path"] == "/first"
    assert second.status == 403
    assert json.loads(third.body)["path"] == "/third"


def test_chunked_body_with_expect_continue_is_streamed_to_the_app(gate: GateSetup) -> None:
    wait_healthy(gate)
    head = (
        "POST /upload HTTP/1.1\r\nHost: gate.originguard.test\r\n"
        f"X-Origin-Verify: {gate.secret}\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
    ).encode()
    with connect(gate.port, tls=gate.tls) as sock:
        sock.sendall(head)
        interim = read_response(sock, head_only=True)
        assert interim.status == 100
        sock.sendall(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        response = read_response(sock)
    assert response.status == 200
    assert json.loads(response.body)["body_bytes"] == 11


def test_denied_post_is_answered_without_reading_the_body(gate: GateSetup) -> None:
    head = b"POST /x HTTP/1.1\r\nHost: gate.originguard.test\r\nContent-Length: 5\r\n"
    head += b"Expect: 100-continue\r\n\r\n"
    raw = exchange(gate.port, head, tls=gate.tls)
    assert raw.startswith(b"HTTP/1.1 403 ") and b"100 Continue" not in raw
