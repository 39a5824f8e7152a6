"""End to end: `originguard up`, the promise on the wire, DNS, rotation under traffic."""

from __future__ import annotations

import ssl
import threading
import time
from collections import Counter

import brotli
import dns.message
import dns.query
import dns.rdatatype

from tests.e2e.conftest import Stack
from tests.support import connect, read_response, request

EDGE = "www.cdn.example.test"


def tls(stack: Stack) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(stack.state / "certs" / "ca.crt"))


def test_banner_prints_the_three_commands_and_dig(stack: Stack) -> None:
    assert "https://localhost:8443/   # through the edge: 200" in stack.banner
    assert "https://localhost:9443/   # straight to the gate: 403" in stack.banner
    assert "curl http://127.0.0.1:9080/" in stack.banner
    assert "dig @127.0.0.1 -p 5353 www.cdn.example.test" in stack.banner


def test_the_promise_through_the_edge_200_direct_403_http_port_closed(stack: Stack) -> None:
    through = request(
        8443, f"GET /hello HTTP/1.1\r\nHost: {EDGE}\r\n\r\n".encode(), tls=tls(stack), server_name=EDGE
    )
    assert through.status == 200 and b'"app": "demo-app"' in through.body
    direct = request(9443, b"GET /hello HTTP/1.1\r\nHost: gate.originguard.test\r\n\r\n", tls=tls(stack))
    assert (direct.status, direct.body) == (403, b"Forbidden")
    try:
        connect(9080, timeout=2).close()
        raise AssertionError("something listens on the gate's HTTP port")
    except ConnectionRefusedError:
        pass


def test_dns_router_answers_with_an_edge_address(stack: Stack) -> None:
    query = dns.message.make_query("www.cdn.example.test.", dns.rdatatype.A)
    for send in (dns.query.udp, dns.query.tcp):
        answer = send(query, "127.0.0.1", port=5353, timeout=5)
        addresses = [item.address for rrset in answer.answer for item in rrset]
        assert addresses == ["127.0.0.1"]
        assert answer.flags & dns.flags.AA


def test_secret_rotation_under_traffic_fails_no_request(stack: Stack) -> None:
    context = tls(stack)
    outcomes: Counter[int] = Counter()
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            with connect(8443, tls=context, server_name=EDGE) as sock:
                for index in range(50):
                    if stop.is_set():
                        break
                    sock.sendall(f"GET /api/{index} HTTP/1.1\r\nHost: {EDGE}\r\n\r\n".encode())
                    outcomes[read_response(sock).status] += 1
                    # The default ACL limits one IP to 2000 requests per 5 minutes: stay well below.
                    time.sleep(0.025)

    old = (stack.state / "secrets" / "origin-verify").read_text().split()[0]
    workers = [threading.Thread(target=traffic) for _ in range(4)]
    for worker in workers:
        worker.start()
    time.sleep(0.5)
    result = stack.originguard("secret", "rotate", "--drain", "2")
    time.sleep(0.5)
    stop.set()
    for worker in workers:
        worker.join(10)
    assert result.returncode == 0, result.stdout + result.stderr
    assert outcomes[200] > 100 and set(outcomes) == {200}, outcomes
    new = (stack.state / "secrets" / "origin-verify").read_text().split()
    assert len(new) == 1 and new[0] != old
    for value, status in ((old, 403), (new[0], 200)):
        raw = f"GET /healthz HTTP/1.1\r\nHost: gate.originguard.test\r\nX-Origin-Verify: {value}\r\n\r\n"
        assert request(9443, raw.encode(), tls=context).status == status
    assert old not in result.stdout + result.stderr and new[0] not in result.stdout + result.stderr


def test_the_demo_asset_is_compressed_once_and_early_hints_reach_the_viewer(stack: Stack) -> None:
    get = f"GET /static/app.js HTTP/1.1\r\nHost: {EDGE}\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n\r\n"
    first = request(8443, get.encode(), tls=tls(stack), server_name=EDGE)
    again = request(8443, get.encode(), tls=tls(stack), server_name=EDGE)
    bare = f"GET /static/app.js HTTP/1.1\r\nHost: {EDGE}\r\n\r\n"
    plain = request(8443, bare.encode(), tls=tls(stack), server_name=EDGE)
    assert first.status == again.status == plain.status == 200
    assert first.header("content-encoding") == "br" and first.header("vary") == "Accept-Encoding"
    assert again.header("x-cache") == "Hit from originguard" and again.body == first.body
    assert brotli.decompress(first.body) == plain.body and len(plain.body) > 10 * 1024
    assert (first.header("etag") or "").startswith('W/"')
    assert not (plain.header("etag") or "").startswith("W/")
    with connect(8443, tls=tls(stack), server_name=EDGE) as sock:
        sock.sendall(f"GET /early-hints HTTP/1.1\r\nHost: {EDGE}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 103 Early Hints\r\n"), data[:200]
    assert b"</static/app.js>; rel=preload; as=script" in data.split(b"\r\n\r\n", 1)[0]
    assert b"\r\n\r\nHTTP/1.1 200 " in data
